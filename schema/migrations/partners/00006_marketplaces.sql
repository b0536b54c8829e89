-- +goose Up
-- The marketplace stand-ins (apps/partners/sim/marketplace.go): every
-- status Harvest tells a platform, counted by delivery, so tests can
-- assert "once"; and the Douyin-like shop's orders its search pages
-- through, each visible from visible_at (the platform's index lag), its
-- update time on the platform's own (skewed) clock.
CREATE TABLE marketplace_statuses (
  platform          VARCHAR(16) NOT NULL,
  platform_order_id VARCHAR(64) NOT NULL,
  status            VARCHAR(16) NOT NULL,
  harvest_order_id  VARCHAR(64) NOT NULL,
  update_id         VARCHAR(64) NOT NULL,
  deliveries        INT         NOT NULL,
  first_at          DATETIME(6) NOT NULL,
  last_at           DATETIME(6) NOT NULL,
  PRIMARY KEY (platform, platform_order_id, status)
) ENGINE=InnoDB;

CREATE TABLE douyin_orders (
  order_id       VARCHAR(64) NOT NULL PRIMARY KEY,
  update_time_ms BIGINT      NOT NULL,
  visible_at     DATETIME(6) NOT NULL,
  body           MEDIUMTEXT  NOT NULL,
  KEY ix_douyin_orders_update (update_time_ms, order_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE douyin_orders;
DROP TABLE marketplace_statuses;

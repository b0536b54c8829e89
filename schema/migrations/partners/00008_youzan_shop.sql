-- +goose Up
-- The Youzan-like shop of the marketplace stand-ins
-- (apps/partners/sim/youzan.go): its orders, each visible to its search
-- from visible_at (the index lag), its update time to the second on the
-- shop's own (skewed) clock; and the access tokens it issued, each until
-- expires_at on that clock.
CREATE TABLE youzan_orders (
  tid         VARCHAR(64) NOT NULL PRIMARY KEY,
  update_time DATETIME    NOT NULL,
  visible_at  DATETIME(6) NOT NULL,
  body        MEDIUMTEXT  NOT NULL,
  KEY ix_youzan_orders_update (update_time, tid)
) ENGINE=InnoDB;

CREATE TABLE youzan_tokens (
  token      CHAR(32)    NOT NULL PRIMARY KEY,
  expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE youzan_tokens;
DROP TABLE youzan_orders;

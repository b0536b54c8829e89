-- +goose Up
-- Stock top-ups of goods-gift campaigns, once per (campaign, key): a retry
-- adds nothing twice, the same key with other units is refused.
CREATE TABLE gift_stock_topups (
  campaign_id     CHAR(26)    NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  units           BIGINT      NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (campaign_id, idempotency_key),
  CONSTRAINT ck_gift_topups CHECK (units > 0)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE gift_stock_topups;

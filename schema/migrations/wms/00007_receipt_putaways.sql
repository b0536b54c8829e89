-- +goose Up
-- Goods may be received at the dock first and put away into bins after,
-- part by part (DOMAIN 7.3): a receipt keeps its batch's dates and how
-- much of it is in bins (put_away; a receipt into a bin at once is put
-- away whole); each put-away is a row of its own, idempotent by
-- (warehouse, key).
ALTER TABLE stock_receipts ADD COLUMN production_date DATE NULL, ADD COLUMN expiry_date DATE NULL,
  ADD COLUMN put_away BIGINT NOT NULL DEFAULT 0,
  ADD CONSTRAINT ck_stock_receipts_put_away CHECK (put_away >= 0 AND put_away <= qty);
UPDATE stock_receipts SET put_away = qty;

CREATE TABLE receipt_putaways (
  putaway_id      CHAR(26)    NOT NULL PRIMARY KEY,
  receipt_id      CHAR(26)    NOT NULL,
  warehouse       VARCHAR(32) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  bin_code        VARCHAR(32) NOT NULL,
  qty             BIGINT      NOT NULL,
  operator        VARCHAR(64) NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  UNIQUE KEY uq_receipt_putaways_key (warehouse, idempotency_key),
  KEY ix_receipt_putaways_receipt (receipt_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE receipt_putaways;
ALTER TABLE stock_receipts DROP CONSTRAINT ck_stock_receipts_put_away, DROP COLUMN put_away, DROP COLUMN expiry_date, DROP COLUMN production_date;

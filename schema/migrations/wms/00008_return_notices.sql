-- +goose Up
-- Goods coming back (DOMAIN 5: the reverse flow's push to WMS for returns
-- with pickup and rejections): one notice per notice id (after-sales'
-- push id), so a redelivered push changes nothing. The receiving dock
-- books the goods against it when they arrive.
CREATE TABLE return_notices (
  notice_id  VARCHAR(64)  NOT NULL PRIMARY KEY,
  order_id   VARCHAR(64)  NOT NULL,
  request_id VARCHAR(64)  NOT NULL,
  kind       VARCHAR(16)  NOT NULL,  -- RETURN, REJECTION
  waybill_no VARCHAR(64)  NOT NULL DEFAULT '',
  goods      JSON         NOT NULL,  -- the lines: [{"sku":..,"qty":..}]
  status     VARCHAR(16)  NOT NULL,  -- EXPECTED
  created_at DATETIME(6)  NOT NULL,
  KEY ix_return_notices_order (order_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE return_notices;

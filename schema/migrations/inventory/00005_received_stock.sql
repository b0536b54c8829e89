-- +goose Up
-- Stock WMS received or put back on a shelf (wms.stock.received), once per
-- receipt id: the row and the rise of stock.on_hand and available commit
-- together, so a redelivered event raises nothing twice. raised is 0 when
-- the SKU carries no stock here (unknown, a bundle) or its catalog
-- warehouse is another: recorded, for reconciliation, but not sellable.
CREATE TABLE received_stock (
  receipt_id VARCHAR(64) NOT NULL PRIMARY KEY,
  warehouse  VARCHAR(32) NOT NULL,
  sku        VARCHAR(64) NOT NULL,
  qty        BIGINT      NOT NULL,
  raised     TINYINT(1)  NOT NULL,
  created_at DATETIME(6) NOT NULL,
  KEY ix_received_stock_sku (warehouse, sku)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE received_stock;

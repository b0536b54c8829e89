-- +goose Up
-- What WMS received against each line of an ERP purchase order: the line's
-- ordered quantity as ERP said when the first receipt came, and the sum of
-- the receipts, raised by a conditional UPDATE in the receipt's own
-- transaction, so two receipts racing for the last units never receive
-- more than was ordered.
CREATE TABLE purchase_order_lines (
  warehouse  VARCHAR(32) NOT NULL,
  po_id      VARCHAR(64) NOT NULL,
  sku        VARCHAR(64) NOT NULL,
  ordered    BIGINT      NOT NULL,
  received   BIGINT      NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (warehouse, po_id, sku),
  CONSTRAINT ck_purchase_order_lines CHECK (received >= 0 AND received <= ordered)
) ENGINE=InnoDB;

ALTER TABLE stock_receipts ADD KEY ix_stock_receipts_po (warehouse, purchase_order, created_at);

-- +goose Down
ALTER TABLE stock_receipts DROP KEY ix_stock_receipts_po;
DROP TABLE purchase_order_lines;

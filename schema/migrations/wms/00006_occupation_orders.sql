-- +goose Up
-- ERP occupations are released by cancellation (oms.order.cancelled) and
-- interception: an occupation names the order its delivery order belongs
-- to, and a cancelled order is remembered, so that an occupation arriving
-- after the cancellation holds nothing.
ALTER TABLE erp_occupations ADD COLUMN order_id VARCHAR(64) NOT NULL DEFAULT '',
  ADD KEY ix_erp_occupations_order (order_id);

CREATE TABLE cancelled_orders (
  order_id   VARCHAR(64) NOT NULL PRIMARY KEY,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE cancelled_orders;
ALTER TABLE erp_occupations DROP KEY ix_erp_occupations_order, DROP COLUMN order_id;

-- +goose Up
-- ERP: purchase orders, what suppliers are to deliver to a warehouse; WMS
-- receives goods against their lines (DOMAIN 7.3, goods receipt).
CREATE TABLE erp_purchase_orders (
  po_id        VARCHAR(64) NOT NULL PRIMARY KEY,
  warehouse    VARCHAR(32) NOT NULL,
  supplier     VARCHAR(64) NOT NULL,
  request_hash CHAR(64)    NOT NULL,
  created_at   DATETIME(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE erp_purchase_order_lines (
  po_id VARCHAR(64) NOT NULL,
  sku   VARCHAR(64) NOT NULL,
  qty   BIGINT      NOT NULL,
  PRIMARY KEY (po_id, sku)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE erp_purchase_order_lines;
DROP TABLE erp_purchase_orders;

-- +goose Up
-- Partial outbound (DOMAIN 7.2).

-- What a confirmed shortage ships of a line (NULL: the line ships in full).
ALTER TABLE sales_detail ADD COLUMN ship_qty BIGINT NULL;
-- A retail store's minimum order quantity of the item (0: none).
ALTER TABLE wms_item ADD COLUMN store_moq BIGINT NOT NULL DEFAULT 0;

-- Physical shortages found at QC (实物报缺), by work order and SKU;
-- confirmed once the shortage is confirmed at the second QC.
CREATE TABLE qc_shortages (
  work_order_id CHAR(26)    NOT NULL,
  sku           VARCHAR(64) NOT NULL,
  short_qty     BIGINT      NOT NULL,
  reason        VARCHAR(16) NOT NULL DEFAULT '',
  confirmed     BOOLEAN     NOT NULL DEFAULT FALSE,
  created_at    DATETIME(6) NOT NULL,
  PRIMARY KEY (work_order_id, sku)
) ENGINE=InnoDB;

-- A work order's shortage confirmation (报缺重检确认), once, by key.
CREATE TABLE shortage_confirms (
  work_order_id   CHAR(26)    NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  business_type   VARCHAR(32) NOT NULL,
  steps           VARCHAR(512) NOT NULL,
  created_at      DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- Damage/loss records of confirmed shortages.
CREATE TABLE wms_loss (
  loss_id       CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse     VARCHAR(32) NOT NULL,
  work_order_id CHAR(26)    NOT NULL,
  sku           VARCHAR(64) NOT NULL,
  bin_code      VARCHAR(32) NOT NULL,
  batch_no      VARCHAR(32) NOT NULL,
  qty           BIGINT      NOT NULL,
  reason        VARCHAR(16) NOT NULL,
  with_tran     BOOLEAN     NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  KEY ix_wms_loss_wo (work_order_id)
) ENGINE=InnoDB;

-- RF put-away tasks: units not shipped go back on the shelf.
CREATE TABLE putaway_tasks (
  task_id         CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse       VARCHAR(32) NOT NULL,
  work_order_id   CHAR(26)    NOT NULL,
  bin_code        VARCHAR(32) NOT NULL,
  sku             VARCHAR(64) NOT NULL,
  batch_no        VARCHAR(32) NOT NULL,
  qty             BIGINT      NOT NULL,
  status          VARCHAR(16) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL DEFAULT '',
  operator        VARCHAR(64) NOT NULL DEFAULT '',
  created_at      DATETIME(6) NOT NULL,
  done_at         DATETIME(6) NULL,
  KEY ix_putaway_status (warehouse, status, created_at),
  KEY ix_putaway_wo (work_order_id)
) ENGINE=InnoDB;

-- Retail-store customers and the business type of their replenishment
-- orders (an order profile's business_type, when sent, wins).
CREATE TABLE wms_store_customers (
  customer_id   VARCHAR(64) NOT NULL PRIMARY KEY,
  business_type VARCHAR(32) NOT NULL,
  updated_at    DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE wms_store_customers;
DROP TABLE putaway_tasks;
DROP TABLE wms_loss;
DROP TABLE shortage_confirms;
DROP TABLE qc_shortages;
ALTER TABLE wms_item DROP COLUMN store_moq;
ALTER TABLE sales_detail DROP COLUMN ship_qty;

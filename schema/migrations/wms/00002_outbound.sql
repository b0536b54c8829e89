-- +goose Up
-- Outbound (DOMAIN 7.1 steps 2-8) and physical stock (7.3).

-- The item master: how a SKU is handled on the floor. handling drives the
-- split's own-box rules (OWN_BOX: oversize or sold by the original case, a
-- work order of its own per line; VEGETABLE and BAGGED never share a work
-- order); unit_weight_g is what weighing expects.
CREATE TABLE wms_item (
  sku           VARCHAR(64)  NOT NULL PRIMARY KEY,
  name          VARCHAR(255) NOT NULL,
  temp_zone     VARCHAR(16)  NOT NULL,
  handling      VARCHAR(16)  NOT NULL,
  unit_weight_g BIGINT       NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  CONSTRAINT ck_wms_item CHECK (unit_weight_g >= 0)
) ENGINE=InnoDB;

-- Zones of a warehouse: a temperature zone and an area (PICK or RESERVE).
CREATE TABLE wms_zone (
  warehouse  VARCHAR(32) NOT NULL,
  zone_code  VARCHAR(32) NOT NULL,
  temp_zone  VARCHAR(16) NOT NULL,
  area       VARCHAR(8)  NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (warehouse, zone_code)
) ENGINE=InnoDB;

CREATE TABLE wms_bin (
  warehouse  VARCHAR(32) NOT NULL,
  bin_code   VARCHAR(32) NOT NULL,
  zone_code  VARCHAR(32) NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (warehouse, bin_code),
  KEY ix_wms_bin_zone (warehouse, zone_code)
) ENGINE=InnoDB;

-- Batch stock per bin. occupied is what allocated work orders hold; both
-- move only by conditional UPDATEs, and the CHECK is the last guard.
CREATE TABLE wms_inv (
  inv_id          BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  warehouse       VARCHAR(32) NOT NULL,
  bin_code        VARCHAR(32) NOT NULL,
  sku             VARCHAR(64) NOT NULL,
  batch_no        VARCHAR(32) NOT NULL,
  production_date DATE        NOT NULL,
  expiry_date     DATE        NOT NULL,
  on_hand         BIGINT      NOT NULL,
  occupied        BIGINT      NOT NULL DEFAULT 0,
  updated_at      DATETIME(6) NOT NULL,
  UNIQUE KEY uq_wms_inv (warehouse, bin_code, sku, batch_no),
  KEY ix_wms_inv_sku (warehouse, sku, expiry_date),
  CONSTRAINT ck_wms_inv CHECK (occupied >= 0 AND occupied <= on_hand)
) ENGINE=InnoDB;

-- Every stock movement (RECEIPT, PICK), once each; uploaded_at is set when
-- the upload job has sent it to ERP.
CREATE TABLE inv_tran (
  tran_id        CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse      VARCHAR(32) NOT NULL,
  bin_code       VARCHAR(32) NOT NULL,
  sku            VARCHAR(64) NOT NULL,
  batch_no       VARCHAR(32) NOT NULL,
  kind           VARCHAR(16) NOT NULL,
  qty            BIGINT      NOT NULL, -- signed change of on_hand
  ref            VARCHAR(64) NOT NULL, -- receipt, or work order
  created_at     DATETIME(6) NOT NULL,
  uploaded_at    DATETIME(6) NULL,
  KEY ix_inv_tran_upload (uploaded_at, tran_id),
  KEY ix_inv_tran_stock (warehouse, sku, created_at)
) ENGINE=InnoDB;

-- Goods receipts put away into a bin, idempotent by (warehouse, key).
CREATE TABLE stock_receipts (
  receipt_id      CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse       VARCHAR(32) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  purchase_order  VARCHAR(64) NOT NULL,
  bin_code        VARCHAR(32) NOT NULL,
  sku             VARCHAR(64) NOT NULL,
  batch_no        VARCHAR(32) NOT NULL,
  qty             BIGINT      NOT NULL,
  operator        VARCHAR(64) NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  UNIQUE KEY uq_stock_receipts_key (warehouse, idempotency_key)
) ENGINE=InnoDB;

-- Work orders (sales_order) and their lines (sales_detail): one received
-- order split by temperature zone and the own-box rules.
CREATE TABLE sales_order (
  work_order_id CHAR(26)     NOT NULL PRIMARY KEY,
  wms_order_id  CHAR(26)     NOT NULL,
  warehouse     VARCHAR(32)  NOT NULL,
  carrier       VARCHAR(32)  NOT NULL,
  temp_zone     VARCHAR(16)  NOT NULL,
  handling      VARCHAR(16)  NOT NULL,
  seq           INT          NOT NULL,
  status        VARCHAR(16)  NOT NULL,
  reason        VARCHAR(512) NOT NULL DEFAULT '',
  pick_list_id  CHAR(26)     NULL,
  slot_no       INT          NULL,
  created_at    DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_sales_order (wms_order_id, seq),
  KEY ix_sales_order_status (warehouse, status, created_at),
  KEY ix_sales_order_list (pick_list_id)
) ENGINE=InnoDB;

CREATE TABLE sales_detail (
  work_order_id CHAR(26)     NOT NULL,
  line_no       INT          NOT NULL,
  sku           VARCHAR(64)  NOT NULL,
  name          VARCHAR(255) NOT NULL,
  qty           BIGINT       NOT NULL,
  picked_qty    BIGINT       NOT NULL DEFAULT 0,
  qc_qty        BIGINT       NOT NULL DEFAULT 0,
  PRIMARY KEY (work_order_id, line_no),
  KEY ix_sales_detail_sku (sku)
) ENGINE=InnoDB;

-- What allocation took for a work order: bin stock occupied per batch.
CREATE TABLE work_order_picks (
  work_order_id CHAR(26)    NOT NULL,
  pick_no       INT         NOT NULL,
  inv_id        BIGINT      NOT NULL,
  bin_code      VARCHAR(32) NOT NULL,
  sku           VARCHAR(64) NOT NULL,
  batch_no      VARCHAR(32) NOT NULL,
  qty           BIGINT      NOT NULL,
  picked_qty    BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (work_order_id, pick_no),
  CONSTRAINT ck_work_order_picks CHECK (picked_qty >= 0 AND picked_qty <= qty)
) ENGINE=InnoDB;

-- Pick lists (作业单汇总): up to 20 work orders of one courier on a cart.
CREATE TABLE pick_lists (
  pick_list_id    CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse       VARCHAR(32) NOT NULL,
  carrier         VARCHAR(32) NOT NULL,
  status          VARCHAR(16) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  created_by      VARCHAR(64) NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  updated_at      DATETIME(6) NOT NULL,
  UNIQUE KEY uq_pick_lists_key (warehouse, idempotency_key),
  KEY ix_pick_lists_status (warehouse, status, created_at)
) ENGINE=InnoDB;

-- RF pick tasks, one per temperature zone of a pick list; a task is held
-- by one picker.
CREATE TABLE pick_tasks (
  task_id      CHAR(26)    NOT NULL PRIMARY KEY,
  pick_list_id CHAR(26)    NOT NULL,
  warehouse    VARCHAR(32) NOT NULL,
  temp_zone    VARCHAR(16) NOT NULL,
  status       VARCHAR(16) NOT NULL,
  picker       VARCHAR(64) NOT NULL DEFAULT '',
  claimed_at   DATETIME(6) NULL,
  done_at      DATETIME(6) NULL,
  KEY ix_pick_tasks_list (pick_list_id),
  KEY ix_pick_tasks_status (warehouse, status)
) ENGINE=InnoDB;

-- A task's plan: the steps in walking order (by bin code).
CREATE TABLE pick_steps (
  task_id       CHAR(26)    NOT NULL,
  step_no       INT         NOT NULL,
  work_order_id CHAR(26)    NOT NULL,
  pick_no       INT         NOT NULL,
  slot_no       INT         NOT NULL,
  inv_id        BIGINT      NOT NULL,
  bin_code      VARCHAR(32) NOT NULL,
  sku           VARCHAR(64) NOT NULL,
  batch_no      VARCHAR(32) NOT NULL,
  qty           BIGINT      NOT NULL,
  picked_qty    BIGINT      NOT NULL DEFAULT 0,
  PRIMARY KEY (task_id, step_no),
  CONSTRAINT ck_pick_steps CHECK (picked_qty >= 0 AND picked_qty <= qty)
) ENGINE=InnoDB;

-- RF scans, idempotent per task and key.
CREATE TABLE rf_scans (
  task_id         CHAR(26)    NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  step_no         INT         NOT NULL,
  qty             BIGINT      NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (task_id, idempotency_key)
) ENGINE=InnoDB;

-- Boxes (parcels) a work order is packed into.
CREATE TABLE box_header (
  box_id            CHAR(26)    NOT NULL PRIMARY KEY,
  work_order_id     CHAR(26)    NOT NULL,
  wms_order_id      CHAR(26)    NOT NULL,
  warehouse         VARCHAR(32) NOT NULL,
  carrier           VARCHAR(32) NOT NULL,
  waybill_no        VARCHAR(64) NOT NULL,
  box_no            INT         NOT NULL,
  expected_weight_g BIGINT      NOT NULL,
  weight_g          BIGINT      NULL,
  handover_batch_id CHAR(26)    NULL,
  tracking          VARCHAR(16) NOT NULL DEFAULT '',
  tracking_at       DATETIME(6) NULL,
  created_at        DATETIME(6) NOT NULL,
  UNIQUE KEY uq_box_header (work_order_id, box_no),
  KEY ix_box_header_handover (warehouse, carrier, handover_batch_id),
  KEY ix_box_header_order (wms_order_id)
) ENGINE=InnoDB;

CREATE TABLE box_detail (
  box_id CHAR(26)    NOT NULL,
  sku    VARCHAR(64) NOT NULL,
  qty    BIGINT      NOT NULL,
  PRIMARY KEY (box_id, sku)
) ENGINE=InnoDB;

-- Packing is idempotent per work order and key.
CREATE TABLE pack_requests (
  work_order_id   CHAR(26)    NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  created_at      DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- Handover batches: the parcels one courier collects.
CREATE TABLE handover_batches (
  batch_id        CHAR(26)    NOT NULL PRIMARY KEY,
  warehouse       VARCHAR(32) NOT NULL,
  carrier         VARCHAR(32) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  request_hash    CHAR(64)    NOT NULL,
  parcels         INT         NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  imported_at     DATETIME(6) NULL,
  UNIQUE KEY uq_handover_key (warehouse, idempotency_key)
) ENGINE=InnoDB;

-- What picking consumed of an ERP occupation: a release gives back only
-- qty - consumed.
ALTER TABLE erp_occupation_lines ADD COLUMN consumed BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE erp_occupation_lines DROP COLUMN consumed;
DROP TABLE handover_batches;
DROP TABLE pack_requests;
DROP TABLE box_detail;
DROP TABLE box_header;
DROP TABLE rf_scans;
DROP TABLE pick_steps;
DROP TABLE pick_tasks;
DROP TABLE pick_lists;
DROP TABLE work_order_picks;
DROP TABLE sales_detail;
DROP TABLE sales_order;
DROP TABLE stock_receipts;
DROP TABLE inv_tran;
DROP TABLE wms_inv;
DROP TABLE wms_bin;
DROP TABLE wms_zone;
DROP TABLE wms_item;

-- +goose Up
-- TMS parcels imported from WMS handover batches, and how each travels:
-- collected at collect_due, then delivered or refused (outcome) at
-- end_due; reported is the last state the tracking report to WMS carried.
CREATE TABLE tms_parcels (
  parcel_id         VARCHAR(64) NOT NULL PRIMARY KEY,
  batch_id          VARCHAR(64) NOT NULL,
  carrier           VARCHAR(32) NOT NULL,
  waybill_no        VARCHAR(64) NOT NULL,
  order_id          VARCHAR(64) NOT NULL,
  delivery_order_id VARCHAR(64) NOT NULL,
  state             VARCHAR(16) NOT NULL,
  state_at          DATETIME(6) NOT NULL,
  outcome           VARCHAR(16) NOT NULL,
  collect_due       DATETIME(6) NOT NULL,
  end_due           DATETIME(6) NOT NULL,
  reported          VARCHAR(16) NOT NULL DEFAULT '',
  report_attempts   INT         NOT NULL DEFAULT 0,
  next_report_at    DATETIME(6) NOT NULL,
  KEY ix_tms_parcels_collect (state, collect_due),
  KEY ix_tms_parcels_end (state, end_due),
  KEY ix_tms_parcels_report (next_report_at)
) ENGINE=InnoDB;

-- ERP: the stock movements WMS uploads, once each by movement id;
-- deliveries counts how many times one arrived.
CREATE TABLE erp_movements (
  movement_id VARCHAR(64) NOT NULL PRIMARY KEY,
  warehouse   VARCHAR(32) NOT NULL,
  sku         VARCHAR(64) NOT NULL,
  kind        VARCHAR(16) NOT NULL,
  qty         BIGINT      NOT NULL,
  ref         VARCHAR(64) NOT NULL,
  deliveries  INT         NOT NULL DEFAULT 1,
  received_at DATETIME(6) NOT NULL,
  KEY ix_erp_movements_sku (warehouse, sku)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE erp_movements;
DROP TABLE tms_parcels;

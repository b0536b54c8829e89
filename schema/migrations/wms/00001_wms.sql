-- +goose Up
-- ERP stock per warehouse and SKU (fulfillment stage 12). occupied grows and
-- shrinks only by conditional UPDATEs checked by rows affected; the CHECK is
-- the last guard against occupying more than is on hand.
CREATE TABLE erp_stock (
  warehouse  VARCHAR(32) NOT NULL,
  sku        VARCHAR(64) NOT NULL,
  on_hand    BIGINT      NOT NULL,
  occupied   BIGINT      NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (warehouse, sku),
  CONSTRAINT ck_erp_stock CHECK (occupied >= 0 AND occupied <= on_hand)
) ENGINE=InnoDB;

-- ERP stock held for one delivery order, idempotent by its id. A release
-- of an id never occupied leaves a RELEASED row with an empty hash (a
-- tombstone), so an occupation arriving after it holds nothing.
CREATE TABLE erp_occupations (
  delivery_order_id VARCHAR(64) NOT NULL PRIMARY KEY,
  warehouse         VARCHAR(32) NOT NULL,
  status            VARCHAR(16) NOT NULL,
  request_hash      CHAR(64)    NOT NULL,
  created_at        DATETIME(6) NOT NULL,
  updated_at        DATETIME(6) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE erp_occupation_lines (
  delivery_order_id VARCHAR(64) NOT NULL,
  sku               VARCHAR(64) NOT NULL,
  qty               BIGINT      NOT NULL,
  PRIMARY KEY (delivery_order_id, sku)
) ENGINE=InnoDB;

-- Received delivery orders (DOMAIN 7.1 step 1, 接单): the four tables
-- written in one transaction with the outbox row that starts the split.
CREATE TABLE order_header (
  wms_order_id      CHAR(26)    NOT NULL PRIMARY KEY,
  delivery_order_id VARCHAR(64) NOT NULL,
  order_id          VARCHAR(64) NOT NULL,
  customer_id       VARCHAR(64) NOT NULL,
  warehouse         VARCHAR(32) NOT NULL,
  status            VARCHAR(16) NOT NULL,
  request_hash      CHAR(64)    NOT NULL,
  received_at       DATETIME(6) NOT NULL,
  UNIQUE KEY uq_order_header_delivery (delivery_order_id),
  KEY ix_order_header_order (order_id),
  KEY ix_order_header_status (warehouse, status, received_at)
) ENGINE=InnoDB;

CREATE TABLE order_detail (
  wms_order_id CHAR(26)     NOT NULL,
  line_no      INT          NOT NULL,
  sku          VARCHAR(64)  NOT NULL,
  name         VARCHAR(255) NOT NULL,
  qty          BIGINT       NOT NULL,
  zone         VARCHAR(16)  NOT NULL,
  PRIMARY KEY (wms_order_id, line_no)
) ENGINE=InnoDB;

CREATE TABLE order_delivery (
  wms_order_id  CHAR(26)     NOT NULL PRIMARY KEY,
  delivery_date VARCHAR(10)  NOT NULL,
  express       BOOLEAN      NOT NULL,
  carrier       VARCHAR(32)  NOT NULL,
  waybill_no    VARCHAR(64)  NOT NULL,
  name          VARCHAR(128) NOT NULL,
  phone         VARCHAR(32)  NOT NULL,
  address       VARCHAR(512) NOT NULL
) ENGINE=InnoDB;

CREATE TABLE order_profiles (
  wms_order_id  CHAR(26)      NOT NULL,
  profile_key   VARCHAR(64)   NOT NULL,
  profile_value VARCHAR(1024) NOT NULL,
  PRIMARY KEY (wms_order_id, profile_key)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE order_profiles;
DROP TABLE order_delivery;
DROP TABLE order_detail;
DROP TABLE order_header;
DROP TABLE erp_occupation_lines;
DROP TABLE erp_occupations;
DROP TABLE erp_stock;

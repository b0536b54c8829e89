-- +goose Up
-- Product center (商品中心): one row per SKU. A virtual bundle has is_bundle=1,
-- its components in bundle_components, and no stock row of its own.
CREATE TABLE products (
  sku         VARCHAR(64)  NOT NULL PRIMARY KEY,
  name        VARCHAR(200) NOT NULL,
  price_fen   BIGINT       NOT NULL,
  zone        VARCHAR(16)  NOT NULL,
  tax_rate_bp INT          NOT NULL,
  warehouse   VARCHAR(16)  NOT NULL,
  supplier    VARCHAR(64)  NOT NULL DEFAULT '',
  drop_ship   TINYINT(1)   NOT NULL DEFAULT 0,
  presale     TINYINT(1)   NOT NULL DEFAULT 0,
  is_bundle   TINYINT(1)   NOT NULL DEFAULT 0,
  hot         TINYINT(1)   NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL,
  -- keyset pagination by SKU within a filter
  KEY ix_products_zone (zone, sku),
  KEY ix_products_warehouse (warehouse, sku)
) ENGINE=InnoDB;

CREATE TABLE bundle_components (
  bundle_sku    VARCHAR(64) NOT NULL,
  component_sku VARCHAR(64) NOT NULL,
  qty           BIGINT      NOT NULL,
  PRIMARY KEY (bundle_sku, component_sku),
  KEY ix_bundle_components_component (component_sku)
) ENGINE=InnoDB;

-- Sellable stock (可卖数). For ordinary SKUs `available` is the truth and only
-- changes by conditional updates. For hot SKUs the truth is in Redis:
-- `available` is the written-back mirror (wb_seq: the last stream entry
-- applied), `hot_epoch` the incarnation of the Redis counter (package
-- hotstock). on_hand = available + everything reserved (held or confirmed).
CREATE TABLE stock (
  sku        VARCHAR(64) NOT NULL PRIMARY KEY,
  on_hand    BIGINT      NOT NULL,
  available  BIGINT      NOT NULL,
  hot_epoch  BIGINT      NOT NULL DEFAULT 0,
  wb_seq     VARCHAR(41) NOT NULL DEFAULT '',
  updated_at DATETIME(6) NOT NULL,
  CONSTRAINT ck_stock_available CHECK (available >= 0)
) ENGINE=InnoDB;

-- One reservation per order id; a RELEASED row without parts is the
-- tombstone that refuses a late Reserve for a released order.
CREATE TABLE reservations (
  order_id    VARCHAR(64) NOT NULL PRIMARY KEY,
  status      VARCHAR(16) NOT NULL,
  fingerprint CHAR(64)    NOT NULL,
  request     JSON        NOT NULL,
  has_hot     TINYINT(1)  NOT NULL DEFAULT 0,
  -- 1 while the Redis side of a release still has to run (crash-safe retry)
  hot_pending TINYINT(1)  NOT NULL DEFAULT 0,
  expires_at  DATETIME(6) NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  updated_at  DATETIME(6) NOT NULL,
  -- check-back: held reservations past their TTL
  KEY ix_reservations_status_expires (status, expires_at),
  KEY ix_reservations_hot_pending (hot_pending)
) ENGINE=InnoDB;

-- The stock-keeping parts a reservation holds (bundles expanded).
CREATE TABLE reservation_parts (
  order_id VARCHAR(64) NOT NULL,
  sku      VARCHAR(64) NOT NULL,
  qty      BIGINT      NOT NULL,
  hot      TINYINT(1)  NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, sku),
  KEY ix_reservation_parts_sku (sku, hot)
) ENGINE=InnoDB;

-- Durable write-back of the Redis hot-stock ledger (from its stream):
-- TAKEN while Redis holds the units for the order, RETURNED after.
CREATE TABLE hot_ledger (
  order_id   VARCHAR(64) NOT NULL,
  sku        VARCHAR(64) NOT NULL,
  qty        BIGINT      NOT NULL,
  state      VARCHAR(8)  NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  seq        VARCHAR(41) NOT NULL,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (order_id, sku),
  KEY ix_hot_ledger_state_expires (state, expires_at)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE hot_ledger;
DROP TABLE reservation_parts;
DROP TABLE reservations;
DROP TABLE stock;
DROP TABLE bundle_components;
DROP TABLE products;

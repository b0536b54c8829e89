-- +goose Up
-- The catalog as operators run it: every product change makes a new
-- version, recorded with who made it and the product before and after;
-- prices have validity periods. products.price_fen is the price in effect
-- from price_from, next_price_* the earliest change scheduled after it, so
-- a catalog read still reads one row per SKU and applies a change the
-- moment its time comes (the check-back cron rolls the columns forward).
ALTER TABLE products
  ADD COLUMN own_box         TINYINT(1)   NOT NULL DEFAULT 0,
  ADD COLUMN oversize        TINYINT(1)   NOT NULL DEFAULT 0,
  ADD COLUMN shelf_life_days INT          NOT NULL DEFAULT 0,
  ADD COLUMN version         BIGINT       NOT NULL DEFAULT 1,
  ADD COLUMN price_from      DATETIME(6)  NOT NULL DEFAULT '1970-01-01 00:00:00',
  ADD COLUMN next_price_fen  BIGINT       NULL,
  ADD COLUMN next_price_at   DATETIME(6)  NULL,
  ADD COLUMN updated_by      VARCHAR(128) NOT NULL DEFAULT '',
  ADD COLUMN updated_at      DATETIME(6)  NULL,
  ADD KEY ix_products_next_price (next_price_at),
  ADD CONSTRAINT ck_products_price CHECK (price_fen >= 0 AND (next_price_fen IS NULL OR next_price_fen >= 0));

-- Every price a SKU has had or will have, from its time on.
CREATE TABLE prices (
  sku        VARCHAR(64)  NOT NULL,
  valid_from DATETIME(6)  NOT NULL,
  price_fen  BIGINT       NOT NULL,
  created_by VARCHAR(128) NOT NULL,
  created_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (sku, valid_from),
  CONSTRAINT ck_prices_price CHECK (price_fen >= 0)
) ENGINE=InnoDB;

INSERT INTO prices (sku, valid_from, price_fen, created_by, created_at)
  SELECT sku, '1970-01-01 00:00:00', price_fen, 'migration', UTC_TIMESTAMP(6) FROM products;

-- The audit: one row per version of a product.
CREATE TABLE catalog_changes (
  id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  sku        VARCHAR(64)  NOT NULL,
  version    BIGINT       NOT NULL,
  action     VARCHAR(16)  NOT NULL,
  changed_by VARCHAR(128) NOT NULL,
  changed_at DATETIME(6)  NOT NULL,
  before_doc JSON         NULL,
  after_doc  JSON         NOT NULL,
  UNIQUE KEY ux_catalog_changes_version (sku, version)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE catalog_changes;
DROP TABLE prices;
ALTER TABLE products
  DROP CONSTRAINT ck_products_price,
  DROP KEY ix_products_next_price,
  DROP COLUMN updated_at, DROP COLUMN updated_by, DROP COLUMN next_price_at, DROP COLUMN next_price_fen,
  DROP COLUMN price_from, DROP COLUMN version, DROP COLUMN shelf_life_days, DROP COLUMN oversize, DROP COLUMN own_box;

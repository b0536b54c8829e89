-- +goose Up
-- Customers' saved addresses (address book): at most 20 per customer,
-- exactly one the default when there is any (kept by the use case under
-- a lock of the customer's rows). Every one was in a served area when it
-- was saved.
CREATE TABLE customer_addresses (
  id          VARCHAR(64)  NOT NULL PRIMARY KEY,
  customer_id VARCHAR(64)  NOT NULL,
  name        VARCHAR(200) NOT NULL,
  phone       VARCHAR(32)  NOT NULL,
  province    VARCHAR(200) NOT NULL,
  city        VARCHAR(200) NOT NULL,
  district    VARCHAR(200) NOT NULL,
  detail      VARCHAR(800) NOT NULL,
  label       VARCHAR(128) NOT NULL DEFAULT '',
  is_default  TINYINT(1)   NOT NULL DEFAULT 0,
  created_at  DATETIME(6)  NOT NULL,
  updated_at  DATETIME(6)  NOT NULL,
  KEY ix_customer_addresses_customer (customer_id, created_at)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE customer_addresses;

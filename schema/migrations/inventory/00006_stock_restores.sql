-- +goose Up
-- Sellable stock given back by the reverse flow (DOMAIN 5: returns with
-- pickup and rejections whose goods come back), once per restore id
-- (after-sales' push id): a redelivered push adds nothing.
CREATE TABLE stock_restores (
  restore_id VARCHAR(64) NOT NULL PRIMARY KEY,
  order_id   VARCHAR(64) NOT NULL,
  goods      JSON        NOT NULL, -- [{"sku":..,"qty":..}]
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE stock_restores;

-- +goose Up
-- Coupons bought with points (source POINTS, source_ref "<order>/<n>")
-- unbound because the order that paid the points was cancelled (the
-- reverse flow's push, DOMAIN 5): once per unbind id, with what it did.
CREATE TABLE points_coupon_unbinds (
  unbind_id   VARCHAR(128) NOT NULL PRIMARY KEY,
  order_id    VARCHAR(64)  NOT NULL,
  customer_id VARCHAR(64)  NOT NULL,
  unbound     JSON         NOT NULL, -- coupon ids moved to UNBOUND
  kept        JSON         NOT NULL, -- [{"id":..,"status":..}] already held, used, expired or unbound
  created_at  DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE points_coupon_unbinds;

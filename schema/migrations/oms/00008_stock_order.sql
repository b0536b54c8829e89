-- +goose Up
-- The order inventory holds an order's stock under, when that is another
-- order: a pull-back's order takes its original's reservation over (the
-- original ends without a release), so cancelling the new order must
-- release the original's reservation. Empty: the order's own id.
ALTER TABLE orders ADD COLUMN stock_order VARCHAR(64) NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE orders DROP COLUMN stock_order;

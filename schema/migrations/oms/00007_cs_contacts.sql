-- +goose Up
-- Customer service's console (DOMAIN 4): the phones an order's SMS go to
-- when customer service set them (NULL: the address's phone), and the
-- address's phone as a stored column with an index, so CS finds the
-- orders of a phone number, newest first, by keyset like a customer's.
-- The column follows the address by itself when CS changes it.
ALTER TABLE orders
  ADD COLUMN sms_recipients JSON NULL,
  ADD COLUMN address_phone VARCHAR(32) AS (JSON_UNQUOTE(JSON_EXTRACT(address, '$.phone'))) PERSISTENT,
  ADD KEY ix_orders_phone (address_phone, created_at, id);

-- +goose Down
ALTER TABLE orders DROP KEY ix_orders_phone, DROP COLUMN address_phone, DROP COLUMN sms_recipients;

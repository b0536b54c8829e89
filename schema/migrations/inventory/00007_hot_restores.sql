-- +goose Up
-- A restore of a hot SKU raises on_hand (and the mirror) in MariaDB with
-- the restore's row, then its Redis counter, once per restore and SKU
-- (a marker key makes that idempotent). hot_parts keeps the hot lines
-- with the counter epoch MariaDB had; hot_pending says the Redis side may
-- not be done yet, so a redelivered restore finishes it.
ALTER TABLE stock_restores
  ADD COLUMN hot_parts   JSON    NULL,
  ADD COLUMN hot_pending TINYINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE stock_restores DROP COLUMN hot_pending, DROP COLUMN hot_parts;

-- +goose Up
-- When the supplier took the delivery order (its order intake), NULL for
-- an interception's tombstone of one it never received: releasing an
-- interception (the reverse flow's cancel refused elsewhere) gives a
-- received order back to shipping and drops a tombstone, so the order's
-- hand-over is taken when it comes.
ALTER TABLE supplier_orders ADD COLUMN received_at DATETIME(6) NULL AFTER ship_at;
UPDATE supplier_orders SET received_at = updated_at WHERE state = 'RECEIVED';

-- +goose Down
ALTER TABLE supplier_orders DROP COLUMN received_at;

-- +goose Up
-- Drop-ship suppliers' own view of the delivery orders they were sent
-- (stage 16) and of the reverse flow's interceptions: one row per
-- delivery order, written by whichever comes first, so an order and its
-- interception serialise on the row. An interception of an order the
-- supplier has not received yet leaves a tombstone (INTERCEPTED) that
-- refuses the order when it arrives; one of an order already shipped
-- (ship_at passed) is too late.
CREATE TABLE supplier_orders (
  delivery_order_id VARCHAR(128) NOT NULL PRIMARY KEY,
  supplier          VARCHAR(128) NOT NULL,
  state             VARCHAR(16)  NOT NULL, -- RECEIVED, INTERCEPTED
  ship_at           DATETIME(6)  NULL,     -- when the supplier ships it; NULL: only by hand (admin)
  updated_at        DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE supplier_orders;

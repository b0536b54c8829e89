-- +goose Up
-- Interceptions asked by the reverse flow (DOMAIN 5 step 2), one row per
-- delivery order, written before its order_header is looked at. A received
-- order is marked INTERCEPTED; for one not received yet the row is the
-- tombstone that makes every later hand-over of it fail (the receiving
-- transaction reads this table with a shared lock first, so an
-- interception and a hand-over of the same id serialize).
CREATE TABLE order_interceptions (
  delivery_order_id VARCHAR(64)  NOT NULL PRIMARY KEY,
  reason            VARCHAR(255) NOT NULL,
  created_at        DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE order_interceptions;

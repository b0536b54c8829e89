-- +goose Up
-- Orders PAY has seen cancelled (oms.order.cancelled). A payment that
-- succeeds later for one of them is refunded in the same transaction,
-- without waiting for OMS's oms.payment.rejected (DOMAIN 1.4 case 4).
CREATE TABLE cancelled_orders (
  order_id     VARCHAR(64) NOT NULL PRIMARY KEY,
  cancelled_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE cancelled_orders;

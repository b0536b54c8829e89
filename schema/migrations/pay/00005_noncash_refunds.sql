-- +goose Up
-- Non-cash refunds of a return (DOMAIN 2.3, 5): part of an order's
-- non-cash deductions given back to the accounts they came from, once per
-- idempotency key (after-sales' push id). The parts sum to amount_fen;
-- coupon_fen is the coupons' share, not credited (a coupon spent on the
-- order is not given back for part of it). Never more than the order's
-- deductions took: decided with the order's deductions locked.
CREATE TABLE noncash_refunds (
  id              CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash    CHAR(64)     NOT NULL,
  order_id        VARCHAR(64)  NOT NULL,
  customer_id     VARCHAR(64)  NOT NULL,
  amount_fen      BIGINT       NOT NULL,
  balance_fen     BIGINT       NOT NULL,
  gift_card_fen   BIGINT       NOT NULL,
  goods_card_fen  BIGINT       NOT NULL,
  points          BIGINT       NOT NULL,
  coupon_fen      BIGINT       NOT NULL,
  reason          VARCHAR(64)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_noncash_refunds_key (idempotency_key),
  KEY ix_noncash_refunds_order (order_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE noncash_refunds;

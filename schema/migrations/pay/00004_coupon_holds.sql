-- +goose Up
-- Coupons moved to the coupon wallet (marketing): PAY's COUPON deduction
-- holds them there under the deduction's id. coupon_holds is PAY's record
-- of each such hold: DEDUCTED, written in the deduction's own transaction,
-- or VOID, written when the wallet (or PAY itself, after a failed deduct)
-- asks about a hold no deduction took. The primary key makes the two
-- exclusive, so a hold is given back only when no deduction can use it.
CREATE TABLE coupon_holds (
  hold_id    CHAR(26)    NOT NULL PRIMARY KEY,
  state      VARCHAR(8)  NOT NULL,
  created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

DROP TABLE coupons;

-- +goose Down
CREATE TABLE coupons (
  id           VARCHAR(64)  NOT NULL PRIMARY KEY,
  customer_id  VARCHAR(64)  NOT NULL,
  title        VARCHAR(128) NOT NULL,
  value_fen    BIGINT       NOT NULL,
  status       VARCHAR(16)  NOT NULL,
  expires_at   DATETIME(6)  NOT NULL,
  deduction_id CHAR(26)     NULL,
  created_at   DATETIME(6)  NOT NULL,
  KEY ix_coupons_customer (customer_id)
) ENGINE=InnoDB;
DROP TABLE coupon_holds;

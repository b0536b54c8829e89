-- +goose Up
-- Orders (订单): one row per order; money in fen, times UTC.
CREATE TABLE orders (
  id             CHAR(26)     NOT NULL PRIMARY KEY,
  customer_id    VARCHAR(64)  NOT NULL,
  source         VARCHAR(32)  NOT NULL,
  channel        VARCHAR(32)  NOT NULL DEFAULT '',
  status         VARCHAR(32)  NOT NULL,
  goods_fen      BIGINT       NOT NULL,
  freight_fen    BIGINT       NOT NULL,
  total_fen      BIGINT       NOT NULL,
  non_cash_fen   BIGINT       NOT NULL,
  cash_due_fen   BIGINT       NOT NULL,
  paid_fen       BIGINT       NOT NULL DEFAULT 0,
  trade_id       VARCHAR(64)  NOT NULL DEFAULT '',
  cancel_pending TINYINT(1)   NOT NULL DEFAULT 0,
  cancel_reason  VARCHAR(32)  NOT NULL DEFAULT '',
  address        JSON         NOT NULL,
  slot_type      VARCHAR(16)  NOT NULL,
  slot_date      DATE         NOT NULL,
  deduction_ids  JSON         NOT NULL,
  coupon_ids     JSON         NOT NULL,
  invoice_title  VARCHAR(200) NOT NULL DEFAULT '',
  original_order VARCHAR(64)  NOT NULL DEFAULT '',
  pay_by         DATETIME(6)  NULL,
  created_at     DATETIME(6)  NOT NULL,
  updated_at     DATETIME(6)  NOT NULL,
  version        INT UNSIGNED NOT NULL DEFAULT 0,
  -- a customer's orders, newest first (keyset pagination), with or without a status filter
  KEY ix_orders_customer (customer_id, created_at, id),
  KEY ix_orders_customer_status (customer_id, status, created_at, id),
  -- the expiry sweep: unpaid orders by deadline
  KEY ix_orders_status_pay_by (status, pay_by)
) ENGINE=InnoDB;

CREATE TABLE order_lines (
  order_id       CHAR(26)     NOT NULL,
  line_no        INT          NOT NULL,
  sku            VARCHAR(64)  NOT NULL,
  name           VARCHAR(200) NOT NULL,
  qty            BIGINT       NOT NULL,
  unit_price_fen BIGINT       NOT NULL,
  amount_fen     BIGINT       NOT NULL,
  PRIMARY KEY (order_id, line_no)
) ENGINE=InnoDB;

-- The order's timeline (PLACED, PAID, CANCELLED, EXPIRED, ...).
CREATE TABLE order_events (
  order_id CHAR(26)     NOT NULL,
  seq      INT          NOT NULL,
  at       DATETIME(6)  NOT NULL,
  type     VARCHAR(32)  NOT NULL,
  note     VARCHAR(500) NOT NULL DEFAULT '',
  PRIMARY KEY (order_id, seq)
) ENGINE=InnoDB;

-- A non-cash deduction belongs to at most one order: the primary key is what
-- refuses a second order using it, and what PAY's check-back reads.
CREATE TABLE order_deductions (
  deduction_id VARCHAR(64) NOT NULL PRIMARY KEY,
  order_id     CHAR(26)    NOT NULL,
  KEY ix_order_deductions_order (order_id)
) ENGINE=InnoDB;

-- Accept-order idempotency: a key per customer, the hash of the request it
-- was first used with, and the order it made.
CREATE TABLE order_idempotency (
  customer_id  VARCHAR(64)  NOT NULL,
  idem_key     VARCHAR(128) NOT NULL,
  request_hash CHAR(64)     NOT NULL,
  order_id     CHAR(26)     NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  PRIMARY KEY (customer_id, idem_key)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE order_idempotency;
DROP TABLE order_deductions;
DROP TABLE order_events;
DROP TABLE order_lines;
DROP TABLE orders;

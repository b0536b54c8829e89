-- +goose Up
-- Non-cash accounts per customer (DOMAIN 2.1). Amounts in fen; points 1 = 1 fen.
-- Every change is a conditional UPDATE (col >= ?), so no balance goes below zero.
CREATE TABLE accounts (
  customer_id    VARCHAR(64) NOT NULL PRIMARY KEY,
  balance_fen    BIGINT      NOT NULL DEFAULT 0,
  gift_card_fen  BIGINT      NOT NULL DEFAULT 0,
  points         BIGINT      NOT NULL DEFAULT 0,
  goods_card_fen BIGINT      NOT NULL DEFAULT 0,
  updated_at     DATETIME(6) NOT NULL,
  CONSTRAINT ck_accounts_nonneg CHECK (balance_fen >= 0 AND gift_card_fen >= 0 AND points >= 0 AND goods_card_fen >= 0)
) ENGINE=InnoDB;

-- Coupons (春播券) in a customer's account; deduction_id names the deduction holding or using one.
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

-- Credits made through the ops endpoint, idempotent by key.
CREATE TABLE account_credits (
  idempotency_key VARCHAR(128) NOT NULL PRIMARY KEY,
  request_hash    CHAR(64)     NOT NULL,
  customer_id     VARCHAR(64)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- A non-cash deduction, idempotent by key (request_hash tells a reuse with other input).
CREATE TABLE deductions (
  id              CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NOT NULL,
  request_hash    CHAR(64)     NOT NULL,
  customer_id     VARCHAR(64)  NOT NULL,
  total_fen       BIGINT       NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  order_id        VARCHAR(64)  NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_deductions_key (idempotency_key),
  KEY ix_deductions_sweep (status, created_at),
  KEY ix_deductions_order (order_id)
) ENGINE=InnoDB;

-- 扣减流水: one row per deducted item.
CREATE TABLE deduction_items (
  deduction_id CHAR(26)    NOT NULL,
  seq          INT         NOT NULL,
  kind         VARCHAR(16) NOT NULL,
  amount_fen   BIGINT      NOT NULL,
  coupon_id    VARCHAR(64) NULL,
  PRIMARY KEY (deduction_id, seq)
) ENGINE=InnoDB;

-- 交易流水: one cash payment attempt for an order, idempotent by key.
CREATE TABLE trades (
  id               CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key  VARCHAR(128) NOT NULL,
  request_hash     CHAR(64)     NOT NULL,
  order_id         VARCHAR(64)  NOT NULL,
  customer_id      VARCHAR(64)  NOT NULL,
  channel          VARCHAR(16)  NOT NULL,
  amount_fen       BIGINT       NOT NULL,
  paid_fen         BIGINT       NOT NULL DEFAULT 0,
  refunded_fen     BIGINT       NOT NULL DEFAULT 0,
  status           VARCHAR(16)  NOT NULL,
  time_expire      DATETIME(6)  NOT NULL,
  created_at       DATETIME(6)  NOT NULL,
  paid_at          DATETIME(6)  NULL,
  next_poll_at     DATETIME(6)  NOT NULL,
  poll_count       INT          NOT NULL DEFAULT 0,
  UNIQUE KEY uq_trades_key (idempotency_key),
  KEY ix_trades_order (order_id),
  KEY ix_trades_poll (status, next_poll_at),
  CONSTRAINT ck_trades_refund CHECK (refunded_fen >= 0 AND refunded_fen <= paid_fen)
) ENGINE=InnoDB;

-- 渠道流水: the trade as the channel knows it (out_trade_no = trade id).
CREATE TABLE channel_records (
  trade_id          CHAR(26)      NOT NULL PRIMARY KEY,
  channel           VARCHAR(16)   NOT NULL,
  channel_trade_no  VARCHAR(64)   NULL,
  cashier_url       VARCHAR(512)  NULL,
  channel_status    VARCHAR(32)   NOT NULL,
  last_response     TEXT          NULL,
  created_at        DATETIME(6)   NOT NULL,
  updated_at        DATETIME(6)   NOT NULL
) ENGINE=InnoDB;

-- Refunds per trade. cause_key makes automatic and requested refunds idempotent.
CREATE TABLE refunds (
  id           CHAR(26)     NOT NULL PRIMARY KEY,
  trade_id     CHAR(26)     NOT NULL,
  order_id     VARCHAR(64)  NOT NULL,
  cause_key    VARCHAR(160) NOT NULL,
  request_hash CHAR(64)     NOT NULL,
  amount_fen   BIGINT       NOT NULL,
  reason       VARCHAR(32)  NOT NULL,
  status       VARCHAR(16)  NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  updated_at   DATETIME(6)  NOT NULL,
  next_poll_at DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_refunds_cause (cause_key),
  KEY ix_refunds_trade (trade_id),
  KEY ix_refunds_poll (status, next_poll_at)
) ENGINE=InnoDB;

-- Pushes to finance (FMS), written in the business transaction and sent by a worker;
-- FMS deduplicates by id, so a resend after a crash is harmless.
CREATE TABLE finance_pushes (
  id              CHAR(26)     NOT NULL PRIMARY KEY,
  kind            VARCHAR(32)  NOT NULL,
  ref_id          VARCHAR(64)  NOT NULL,
  payload         BLOB         NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  attempts        INT          NOT NULL DEFAULT 0,
  last_error      VARCHAR(512) NULL,
  next_attempt_at DATETIME(6)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  sent_at         DATETIME(6)  NULL,
  UNIQUE KEY uq_finance_ref (kind, ref_id),
  KEY ix_finance_due (status, next_attempt_at)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE finance_pushes;
DROP TABLE refunds;
DROP TABLE channel_records;
DROP TABLE trades;
DROP TABLE deduction_items;
DROP TABLE deductions;
DROP TABLE account_credits;
DROP TABLE coupons;
DROP TABLE accounts;

-- +goose Up
-- State of the stand-ins for systems outside the company (payment channels,
-- finance), kept in MariaDB so it survives restarts like a real counterpart.

-- Trades as a channel knows them.
CREATE TABLE channel_trades (
  channel          VARCHAR(16)  NOT NULL,
  out_trade_no     VARCHAR(64)  NOT NULL,
  channel_trade_no VARCHAR(64)  NOT NULL,
  merchant         VARCHAR(64)  NOT NULL,
  amount_fen       BIGINT       NOT NULL,
  refunded_fen     BIGINT       NOT NULL DEFAULT 0,
  subject          VARCHAR(256) NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  time_expire      DATETIME(6)  NOT NULL,
  notify_target    VARCHAR(256) NOT NULL,
  created_at       DATETIME(6)  NOT NULL,
  paid_at          DATETIME(6)  NULL,
  PRIMARY KEY (channel, out_trade_no),
  UNIQUE KEY uq_channel_trade_no (channel_trade_no),
  KEY ix_channel_trades_expire (status, time_expire)
) ENGINE=InnoDB;

-- Refunds at a channel; they complete asynchronously at complete_at.
CREATE TABLE channel_refunds (
  channel       VARCHAR(16) NOT NULL,
  out_refund_no VARCHAR(64) NOT NULL,
  out_trade_no  VARCHAR(64) NOT NULL,
  refund_id     VARCHAR(64) NOT NULL,
  amount_fen    BIGINT      NOT NULL,
  status        VARCHAR(16) NOT NULL,
  complete_at   DATETIME(6) NOT NULL,
  created_at    DATETIME(6) NOT NULL,
  succeeded_at  DATETIME(6) NULL,
  PRIMARY KEY (channel, out_refund_no),
  KEY ix_channel_refunds_due (status, complete_at)
) ENGINE=InnoDB;

-- Callbacks to deliver (payment and refund results, finance audit results).
CREATE TABLE notifications (
  id            CHAR(26)     NOT NULL PRIMARY KEY,
  kind          VARCHAR(16)  NOT NULL,
  channel       VARCHAR(16)  NOT NULL,
  ref_no        VARCHAR(64)  NOT NULL,
  out_trade_no  VARCHAR(64)  NOT NULL,
  target        VARCHAR(256) NOT NULL,
  status        VARCHAR(16)  NOT NULL,
  attempts      INT          NOT NULL DEFAULT 0,
  deliveries    INT          NOT NULL DEFAULT 0,
  next_at       DATETIME(6)  NOT NULL,
  last_error    VARCHAR(512) NULL,
  created_at    DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_notifications_ref (kind, channel, ref_no),
  KEY ix_notifications_due (status, next_at)
) ENGINE=InnoDB;

-- What finance received, once per push id; deliveries counts resends.
CREATE TABLE fms_receipts (
  push_id     VARCHAR(64) NOT NULL PRIMARY KEY,
  kind        VARCHAR(32) NOT NULL,
  ref_id      VARCHAR(64) NOT NULL,
  amount_fen  BIGINT      NOT NULL,
  body        BLOB        NOT NULL,
  deliveries  INT         NOT NULL DEFAULT 1,
  received_at DATETIME(6) NOT NULL,
  KEY ix_fms_receipts_ref (ref_id, kind)
) ENGINE=InnoDB;

-- Payment vouchers (fulfillment stage 6), once per voucher id.
CREATE TABLE fms_vouchers (
  voucher_id  VARCHAR(64) NOT NULL PRIMARY KEY,
  order_id    VARCHAR(64) NOT NULL,
  body        BLOB        NOT NULL,
  deliveries  INT         NOT NULL DEFAULT 1,
  received_at DATETIME(6) NOT NULL,
  KEY ix_fms_vouchers_order (order_id)
) ENGINE=InnoDB;

-- Refund audits; decided automatically at decide_at (NULL: only by hand).
CREATE TABLE fms_refund_audits (
  refund_id   VARCHAR(64)  NOT NULL PRIMARY KEY,
  push_id     VARCHAR(64)  NOT NULL,
  trade_id    VARCHAR(64)  NOT NULL,
  order_id    VARCHAR(64)  NOT NULL,
  amount_fen  BIGINT       NOT NULL,
  reason      VARCHAR(64)  NOT NULL,
  status      VARCHAR(16)  NOT NULL,
  decide_at   DATETIME(6)  NULL,
  decided_at  DATETIME(6)  NULL,
  deliveries  INT          NOT NULL DEFAULT 1,
  received_at DATETIME(6)  NOT NULL,
  KEY ix_fms_audits_due (status, decide_at)
) ENGINE=InnoDB;

-- Failure switches per named partner API (POST /admin/faults).
CREATE TABLE faults (
  name           VARCHAR(64) NOT NULL PRIMARY KEY,
  delay_ms       INT         NOT NULL DEFAULT 0,
  fail_rate      DOUBLE      NOT NULL DEFAULT 0,
  drop_callbacks BOOLEAN     NOT NULL DEFAULT FALSE,
  updated_at     DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE faults;
DROP TABLE fms_refund_audits;
DROP TABLE fms_vouchers;
DROP TABLE fms_receipts;
DROP TABLE notifications;
DROP TABLE channel_refunds;
DROP TABLE channel_trades;

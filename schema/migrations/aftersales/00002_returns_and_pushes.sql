-- +goose Up
-- Sales returns and rejections (DOMAIN 4.2-4.3, 5) beside cancels, and the
-- order-push table (DOMAIN 5 step 5, the notes' oms_order_push).

-- A return's or rejection's input and its computed refund.
ALTER TABLE requests
  ADD COLUMN refund_mode       VARCHAR(16)  NOT NULL DEFAULT '' AFTER reason, -- REFUND_ONLY, PICKUP (returns)
  ADD COLUMN photos            TEXT         NULL AFTER refund_mode,           -- JSON array of URLs
  ADD COLUMN refund_cash_fen   BIGINT       NOT NULL DEFAULT 0 AFTER refunded_fen,
  ADD COLUMN refund_noncash_fen BIGINT      NOT NULL DEFAULT 0 AFTER refund_cash_fen,
  ADD COLUMN refund_freight_fen BIGINT      NOT NULL DEFAULT 0 AFTER refund_noncash_fen,
  -- customer service's documents (DOMAIN 4): who made it, who audited it
  -- (never the author) and why; '' for customers' own requests.
  ADD COLUMN created_by        VARCHAR(64)  NOT NULL DEFAULT '' AFTER refund_freight_fen,
  ADD COLUMN audited_by        VARCHAR(64)  NOT NULL DEFAULT '' AFTER created_by,
  ADD COLUMN audit_note        VARCHAR(500) NOT NULL DEFAULT '' AFTER audited_by,
  ADD KEY ix_requests_audit (status, created_at);

-- The lines a return or rejection gives back, with each line's refund
-- (stage 5's allocation spread over the units returned).
CREATE TABLE request_lines (
  request_id  CHAR(26)    NOT NULL,
  sku         VARCHAR(64) NOT NULL,
  qty         BIGINT      NOT NULL,
  cash_fen    BIGINT      NOT NULL,
  noncash_fen BIGINT      NOT NULL,
  freight_fen BIGINT      NOT NULL,
  PRIMARY KEY (request_id, sku)
) ENGINE=InnoDB;

-- One row per order after-sales touched: what its returns took back so
-- far. Every transaction that decides a refund of the order or writes a
-- push of it locks this row first, so refunds of one order are decided
-- one after another (never above what was paid, however many returns
-- race) and an order's pushes get their ids in commit order.
CREATE TABLE order_ledger (
  order_id            VARCHAR(64) NOT NULL PRIMARY KEY,
  refunded_cash_fen   BIGINT      NOT NULL DEFAULT 0,
  refunded_noncash_fen BIGINT     NOT NULL DEFAULT 0,
  updated_at          DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- Units of each line already returned (returns and rejections, not refused ones).
CREATE TABLE returned_units (
  order_id VARCHAR(64) NOT NULL,
  sku      VARCHAR(64) NOT NULL,
  qty      BIGINT      NOT NULL,
  PRIMARY KEY (order_id, sku)
) ENGINE=InnoDB;

-- The order-push table: every push to another system, written in the
-- same transaction as the step that calls for it, delivered at least once
-- by its type's worker, per order in id order (= commit order, see
-- order_ledger), its push_id the receiver's idempotency id. A delivered
-- push may write further pushes in the transaction that marks it DONE.
CREATE TABLE pushes (
  id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  push_id     VARCHAR(64)  NOT NULL,
  type        VARCHAR(32)  NOT NULL,
  order_id    VARCHAR(64)  NOT NULL,
  request_id  CHAR(26)     NOT NULL,
  payload     JSON         NOT NULL,
  status      VARCHAR(16)  NOT NULL,  -- PENDING, DONE, DEAD
  attempts    INT          NOT NULL DEFAULT 0,
  due_at      DATETIME(6)  NOT NULL,
  lease_until DATETIME(6)  NOT NULL,
  result      VARCHAR(255) NOT NULL DEFAULT '',
  last_error  VARCHAR(500) NOT NULL DEFAULT '',
  created_at  DATETIME(6)  NOT NULL,
  done_at     DATETIME(6)  NULL,
  UNIQUE KEY uq_pushes_push_id (push_id),
  KEY ix_pushes_due (type, status, due_at),
  KEY ix_pushes_order (order_id, type, status, id),
  KEY ix_pushes_request (request_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE pushes;
DROP TABLE returned_units;
DROP TABLE order_ledger;
DROP TABLE request_lines;
ALTER TABLE requests DROP KEY ix_requests_audit, DROP COLUMN audit_note, DROP COLUMN audited_by, DROP COLUMN created_by, DROP COLUMN refund_freight_fen, DROP COLUMN refund_noncash_fen, DROP COLUMN refund_cash_fen,
  DROP COLUMN photos, DROP COLUMN refund_mode;

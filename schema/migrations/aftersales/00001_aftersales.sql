-- +goose Up
-- After-sales requests (DOMAIN 5): a customer's cancel of a paid order
-- (and, later, returns and rejections). A request is stored with the
-- aftersales.request.accepted outbox row that starts its processing, in one
-- transaction (the transactional message). idem_key is the customer's
-- idempotency key; open_cancel holds the order id while a cancel of it
-- exists, so one order has at most one cancel however many arrive at once.
CREATE TABLE requests (
  id           CHAR(26)     NOT NULL PRIMARY KEY,
  order_id     VARCHAR(64)  NOT NULL,
  customer_id  VARCHAR(64)  NOT NULL,
  kind         VARCHAR(16)  NOT NULL,  -- CANCEL
  status       VARCHAR(24)  NOT NULL,  -- ACCEPTED, PAUSED, CANCELLED, REFUNDED, REFUSED
  reason       VARCHAR(500) NOT NULL,
  refusal_code VARCHAR(48)  NOT NULL DEFAULT '',
  refusal_note VARCHAR(500) NOT NULL DEFAULT '',
  idem_key     VARCHAR(128) NOT NULL,
  request_hash CHAR(64)     NOT NULL,
  open_cancel  VARCHAR(64)  NULL,
  intercepted  VARCHAR(1024) NOT NULL DEFAULT '', -- delivery orders WMS stopped, comma-separated
  refunded_fen BIGINT       NOT NULL DEFAULT 0,
  attempts     INT          NOT NULL DEFAULT 0,
  created_at   DATETIME(6)  NOT NULL,
  updated_at   DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_requests_key (customer_id, idem_key),
  UNIQUE KEY uq_requests_open_cancel (open_cancel),
  KEY ix_requests_order (order_id),
  KEY ix_requests_customer (customer_id, created_at),
  KEY ix_requests_open (status, updated_at)
) ENGINE=InnoDB;

-- Every step a request took, with its time, for the customer and CS.
CREATE TABLE request_steps (
  request_id CHAR(26)     NOT NULL,
  seq        INT          NOT NULL,
  step       VARCHAR(32)  NOT NULL,
  note       VARCHAR(500) NOT NULL DEFAULT '',
  at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (request_id, seq)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE request_steps;
DROP TABLE requests;

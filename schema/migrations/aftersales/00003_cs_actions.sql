-- +goose Up
-- Customer service's actions not tied to a document (DOMAIN 4) and
-- customers' reviews.

-- The action log: every action with who asked (actor, actor_role), when
-- and why (reason), what it asked (input) and the owner's answer
-- (result). idem_key is the author's idempotency key; the action's id is
-- the id its owner deduplicates by (the coupon's unbinding, OMS's change,
-- the invoice's id). PENDING while the owner is asked; an action the
-- owner refused is deleted in the same breath (nothing changed).
CREATE TABLE actions (
  id           CHAR(26)     NOT NULL PRIMARY KEY,
  kind         VARCHAR(32)  NOT NULL,
  order_id     VARCHAR(64)  NOT NULL DEFAULT '',
  customer_id  VARCHAR(64)  NOT NULL DEFAULT '',
  input        JSON         NOT NULL,
  request_hash CHAR(64)     NOT NULL,
  idem_key     VARCHAR(128) NOT NULL,
  actor        VARCHAR(64)  NOT NULL,
  actor_role   VARCHAR(32)  NOT NULL,
  reason       VARCHAR(500) NOT NULL,
  status       VARCHAR(16)  NOT NULL, -- PENDING, DONE
  result       VARCHAR(500) NOT NULL DEFAULT '',
  created_at   DATETIME(6)  NOT NULL,
  done_at      DATETIME(6)  NULL,
  UNIQUE KEY uq_actions_key (actor, idem_key),
  KEY ix_actions_order (order_id, created_at),
  KEY ix_actions_customer (customer_id, created_at),
  KEY ix_actions_pending (status, created_at)
) ENGINE=InnoDB;

-- Orders customer service marked malicious, written with the action's DONE.
CREATE TABLE malicious_orders (
  order_id  VARCHAR(64)  NOT NULL PRIMARY KEY,
  action_id CHAR(26)     NOT NULL,
  marked_by VARCHAR(64)  NOT NULL,
  reason    VARCHAR(500) NOT NULL,
  marked_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- One review per order, by its customer, once it was delivered.
CREATE TABLE reviews (
  order_id    VARCHAR(64)   NOT NULL PRIMARY KEY,
  customer_id VARCHAR(64)   NOT NULL,
  rating      TINYINT       NOT NULL,
  text        VARCHAR(1000) NOT NULL,
  created_at  DATETIME(6)   NOT NULL,
  KEY ix_reviews_customer (customer_id, created_at),
  KEY ix_reviews_time (created_at)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE reviews;
DROP TABLE malicious_orders;
DROP TABLE actions;

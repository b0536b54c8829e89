-- +goose Up
-- Third-party orders (DOMAIN 6): what each marketplace sent, staged as it
-- arrived (process / main / detail), the sales plans they and sales staff
-- make, the status updates owed back to the platforms, and the pull
-- platforms' cursors.

-- staging_process is one platform order and where it stands: RECEIVED
-- (stored with the channels.order.received outbox row, in one
-- transaction), PLANNED (its sales plan made), ORDERED (the Harvest order
-- made), PARKED (unmappable: reason_code/reason_note say why) or FAILED
-- (OMS refused the order). The unique (platform, platform_order_id) makes
-- a platform's repeated or concurrent pushes of one order one row.
CREATE TABLE staging_process (
  id                CHAR(26)     NOT NULL PRIMARY KEY,
  platform          VARCHAR(16)  NOT NULL,
  platform_order_id VARCHAR(64)  NOT NULL,
  way               VARCHAR(8)   NOT NULL,  -- PUSH or PULL
  status            VARCHAR(16)  NOT NULL,
  reason_code       VARCHAR(48)  NOT NULL DEFAULT '',
  reason_note       VARCHAR(500) NOT NULL DEFAULT '',
  plan_id           CHAR(26)     NULL,
  order_id          VARCHAR(64)  NOT NULL DEFAULT '',
  payload_sha       CHAR(64)     NOT NULL,
  attempts          INT          NOT NULL DEFAULT 0,
  received_at       DATETIME(6)  NOT NULL,
  updated_at        DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_staging_platform_order (platform, platform_order_id),
  KEY ix_staging_status (status, updated_at)
) ENGINE=InnoDB;

-- staging_main is the order's header as the platform sent it.
CREATE TABLE staging_main (
  process_id       CHAR(26)     NOT NULL PRIMARY KEY,
  shop_id          VARCHAR(64)  NOT NULL,
  receiver_name    VARCHAR(64)  NOT NULL,
  receiver_phone   VARCHAR(32)  NOT NULL,
  province         VARCHAR(64)  NOT NULL,
  city             VARCHAR(64)  NOT NULL,
  district         VARCHAR(64)  NOT NULL,
  detail           VARCHAR(255) NOT NULL,
  slot_type        VARCHAR(16)  NOT NULL,
  slot_date        VARCHAR(10)  NOT NULL,
  total_fen        BIGINT       NOT NULL,
  platform_time    DATETIME(6)  NOT NULL, -- created (push) or last updated (pull) on the platform's clock
  raw              MEDIUMTEXT   NOT NULL
) ENGINE=InnoDB;

-- staging_detail is its lines, in the platform's SKUs and prices.
CREATE TABLE staging_detail (
  process_id     CHAR(26)    NOT NULL,
  line_no        INT         NOT NULL,
  platform_sku   VARCHAR(64) NOT NULL,
  qty            BIGINT      NOT NULL,
  unit_price_fen BIGINT      NOT NULL,
  PRIMARY KEY (process_id, line_no)
) ENGINE=InnoDB;

-- Every step a staged order took, with its time, for operators.
CREATE TABLE staging_steps (
  process_id CHAR(26)     NOT NULL,
  seq        INT          NOT NULL AUTO_INCREMENT,
  step       VARCHAR(32)  NOT NULL,
  note       VARCHAR(500) NOT NULL DEFAULT '',
  at         DATETIME(6)  NOT NULL,
  PRIMARY KEY (seq),
  KEY ix_staging_steps_process (process_id, seq)
) ENGINE=InnoDB;

-- sku_mappings maps a platform's SKU to Harvest's; an order line without
-- one parks its order (UNKNOWN_SKU_MAPPING) until an operator adds it.
CREATE TABLE sku_mappings (
  platform     VARCHAR(16) NOT NULL,
  platform_sku VARCHAR(64) NOT NULL,
  sku          VARCHAR(64) NOT NULL,
  updated_by   VARCHAR(64) NOT NULL,
  updated_at   DATETIME(6) NOT NULL,
  PRIMARY KEY (platform, platform_sku)
) ENGINE=InnoDB;

-- A sales plan (DOMAIN 6.1): a business customer's order to make, with the
-- prices agreed for that customer and its settlement period. source is
-- MARKETPLACE (process_id names the staged order) or STAFF. status:
-- PLANNED (stored with channels.plan.created), ORDERED, FAILED.
CREATE TABLE sales_plans (
  id                CHAR(26)     NOT NULL PRIMARY KEY,
  customer_id       VARCHAR(64)  NOT NULL,
  source            VARCHAR(16)  NOT NULL,
  process_id        CHAR(26)     NULL,
  status            VARCHAR(16)  NOT NULL,
  reason_code       VARCHAR(48)  NOT NULL DEFAULT '',
  reason_note       VARCHAR(500) NOT NULL DEFAULT '',
  receiver_name     VARCHAR(64)  NOT NULL,
  receiver_phone    VARCHAR(32)  NOT NULL,
  province          VARCHAR(64)  NOT NULL,
  city              VARCHAR(64)  NOT NULL,
  district          VARCHAR(64)  NOT NULL,
  detail            VARCHAR(255) NOT NULL,
  slot_type         VARCHAR(16)  NOT NULL,
  slot_date         VARCHAR(10)  NOT NULL,
  settlement_period VARCHAR(16)  NOT NULL,  -- MONTHLY, QUARTERLY, YEARLY
  agreed_fen        BIGINT       NOT NULL,
  order_id          VARCHAR(64)  NOT NULL DEFAULT '',
  idem_key          VARCHAR(128) NOT NULL,
  request_sha       CHAR(64)     NOT NULL,
  created_by        VARCHAR(64)  NOT NULL,
  created_at        DATETIME(6)  NOT NULL,
  updated_at        DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_plans_process (process_id),
  UNIQUE KEY uq_plans_key (created_by, idem_key),
  KEY ix_plans_order (order_id),
  KEY ix_plans_customer (customer_id, created_at)
) ENGINE=InnoDB;

CREATE TABLE sales_plan_lines (
  plan_id          CHAR(26)    NOT NULL,
  line_no          INT         NOT NULL,
  sku              VARCHAR(64) NOT NULL,
  qty              BIGINT      NOT NULL,
  agreed_price_fen BIGINT      NOT NULL,
  PRIMARY KEY (plan_id, line_no)
) ENGINE=InnoDB;

-- A status owed to a platform: one row per (staged order, status), so a
-- change is queued once however often its event arrives; sent_at is set
-- when the platform's API took it.
CREATE TABLE status_updates (
  id          CHAR(26)    NOT NULL PRIMARY KEY,
  process_id  CHAR(26)    NOT NULL,
  status      VARCHAR(16) NOT NULL, -- ACCEPTED, SHIPPED, DELIVERED, CANCELLED
  attempts    INT         NOT NULL DEFAULT 0,
  last_error  VARCHAR(500) NOT NULL DEFAULT '',
  created_at  DATETIME(6) NOT NULL,
  sent_at     DATETIME(6) NULL,
  UNIQUE KEY uq_status_updates (process_id, status)
) ENGINE=InnoDB;

-- A pull platform's cursor: the latest update time (on the platform's own
-- clock) of the orders taken so far. It moves in the same transaction as
-- the page it follows.
CREATE TABLE pull_cursors (
  platform   VARCHAR(16) NOT NULL PRIMARY KEY,
  since      DATETIME(6) NOT NULL,
  pages      BIGINT      NOT NULL DEFAULT 0,
  taken      BIGINT      NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE pull_cursors;
DROP TABLE status_updates;
DROP TABLE sales_plan_lines;
DROP TABLE sales_plans;
DROP TABLE sku_mappings;
DROP TABLE staging_steps;
DROP TABLE staging_detail;
DROP TABLE staging_main;
DROP TABLE staging_process;

-- +goose Up
-- Goods-gift campaigns issued by staff (DOMAIN 3.2). A campaign, its
-- conditions, its excluded users and its gift are written in one transaction.
-- gift_stock_left only moves by conditional UPDATE (gift_stock_left >= qty),
-- and the CHECK keeps it from going below zero even if a query were wrong.
CREATE TABLE campaigns (
  id                 CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key    VARCHAR(128) NULL,
  request_hash       CHAR(64)     NOT NULL,
  name               VARCHAR(128) NOT NULL,
  starts_at          DATETIME(6)  NOT NULL,
  ends_at            DATETIME(6)  NOT NULL,
  min_goods_fen      BIGINT       NOT NULL DEFAULT 0,
  gift_sku           VARCHAR(64)  NOT NULL,
  gift_qty           BIGINT       NOT NULL,
  gift_stock_total   BIGINT       NOT NULL,
  gift_stock_left    BIGINT       NOT NULL,
  created_at         DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_campaigns_key (idempotency_key),
  KEY ix_campaigns_window (starts_at, ends_at),
  CONSTRAINT ck_campaigns_stock CHECK (gift_stock_left >= 0 AND gift_stock_left <= gift_stock_total AND gift_qty > 0)
) ENGINE=InnoDB;

-- Condition: every SKU listed must be among the order's lines.
CREATE TABLE campaign_required_skus (
  campaign_id CHAR(26)    NOT NULL,
  sku         VARCHAR(64) NOT NULL,
  PRIMARY KEY (campaign_id, sku)
) ENGINE=InnoDB;

-- Users the campaign never grants to, even when they are candidates.
CREATE TABLE campaign_exclusions (
  campaign_id CHAR(26)    NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  PRIMARY KEY (campaign_id, customer_id)
) ENGINE=InnoDB;

-- The candidate list imported from .xlsx files. The key on customer first
-- serves the grant's question "which campaigns list this customer?".
CREATE TABLE campaign_candidates (
  campaign_id CHAR(26)    NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  import_id   CHAR(26)    NOT NULL,
  PRIMARY KEY (campaign_id, customer_id),
  KEY ix_candidates_customer (customer_id, campaign_id)
) ENGINE=InnoDB;

-- One row per accepted import: what it brought, for staff to check later.
CREATE TABLE candidate_imports (
  id          CHAR(26)    NOT NULL PRIMARY KEY,
  campaign_id CHAR(26)    NOT NULL,
  data_rows   INT         NOT NULL,
  imported    INT         NOT NULL,
  duplicates  INT         NOT NULL,
  invalid     INT         NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  KEY ix_imports_campaign (campaign_id, created_at)
) ENGINE=InnoDB;

-- The first evaluation of an order: a repeat returns its grants and
-- evaluates nothing again (a campaign created or ended since changes nothing).
CREATE TABLE gift_evaluations (
  order_id     VARCHAR(64) NOT NULL PRIMARY KEY,
  customer_id  VARCHAR(64) NOT NULL,
  request_hash CHAR(64)    NOT NULL,
  created_at   DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- A gift granted to an order; one per (campaign, order).
CREATE TABLE gift_grants (
  campaign_id CHAR(26)    NOT NULL,
  order_id    VARCHAR(64) NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  sku         VARCHAR(64) NOT NULL,
  qty         BIGINT      NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (campaign_id, order_id),
  KEY ix_grants_order (order_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE gift_grants;
DROP TABLE gift_evaluations;
DROP TABLE candidate_imports;
DROP TABLE campaign_candidates;
DROP TABLE campaign_exclusions;
DROP TABLE campaign_required_skus;
DROP TABLE campaigns;

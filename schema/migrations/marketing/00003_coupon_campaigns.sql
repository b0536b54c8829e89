-- +goose Up
-- Coupon campaigns issued by staff (DOMAIN 3.2): the campaign, its
-- conditions (what BI is asked), its excluded users and its coupon gift
-- (a template and a stock), stored together. Launching writes the
-- marketing.campaign.launched event in the same transaction (outbox);
-- its consumer pages BI by cursor (kept in bi_cursor, so a restart goes on
-- where it stopped) and emits one marketing.campaign.user-matched event per
-- user; their consumer binds the coupon (the coupons row, unique per
-- customer and campaign) taking one unit of stock_left by a conditional
-- UPDATE in the same transaction, so stock is never exceeded and no user
-- gets two. The counters move in the same transactions as what they count.
CREATE TABLE coupon_campaigns (
  id               CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key  VARCHAR(128) NULL,
  request_hash     CHAR(64)     NOT NULL,
  name             VARCHAR(128) NOT NULL,
  template_id      CHAR(26)     NOT NULL,
  conditions       JSON         NOT NULL,
  stock_total      BIGINT       NOT NULL,
  stock_left       BIGINT       NOT NULL,
  notify_sms       BOOLEAN      NOT NULL DEFAULT FALSE,
  sms_template     VARCHAR(64)  NOT NULL DEFAULT '',
  status           VARCHAR(16)  NOT NULL,
  bi_cursor        VARCHAR(128) NOT NULL DEFAULT '',
  bi_done          BOOLEAN      NOT NULL DEFAULT FALSE,
  matched          BIGINT       NOT NULL DEFAULT 0,
  granted          BIGINT       NOT NULL DEFAULT 0,
  skipped_excluded BIGINT       NOT NULL DEFAULT 0,
  skipped_already  BIGINT       NOT NULL DEFAULT 0,
  skipped_no_stock BIGINT       NOT NULL DEFAULT 0,
  failed           BIGINT       NOT NULL DEFAULT 0,
  sms_sent         BIGINT       NOT NULL DEFAULT 0,
  created_at       DATETIME(6)  NOT NULL,
  launched_at      DATETIME(6)  NULL,
  updated_at       DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_coupon_campaigns_key (idempotency_key),
  KEY ix_coupon_campaigns_template (template_id),
  CONSTRAINT ck_coupon_campaigns_stock CHECK (stock_left >= 0 AND stock_left <= stock_total)
) ENGINE=InnoDB;

CREATE TABLE coupon_campaign_exclusions (
  campaign_id CHAR(26)    NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  PRIMARY KEY (campaign_id, customer_id)
) ENGINE=InnoDB;

-- A user the campaign could not grant to (stock gone, template ended),
-- once per (campaign, customer): a redelivery counts nothing twice.
CREATE TABLE coupon_campaign_outcomes (
  campaign_id CHAR(26)    NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  outcome     VARCHAR(16) NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  PRIMARY KEY (campaign_id, customer_id)
) ENGINE=InnoDB;

-- Users listed while the campaign was paused, kept until it resumes (the
-- page consumer re-emits them before reading BI further), so a pause loses
-- no user and a message retried past the broker's patience is not needed.
CREATE TABLE coupon_campaign_parked (
  campaign_id CHAR(26)    NOT NULL,
  customer_id VARCHAR(64) NOT NULL,
  phone       VARCHAR(32) NOT NULL DEFAULT '',
  PRIMARY KEY (campaign_id, customer_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE coupon_campaign_parked;
DROP TABLE coupon_campaign_outcomes;
DROP TABLE coupon_campaign_exclusions;
DROP TABLE coupon_campaigns;

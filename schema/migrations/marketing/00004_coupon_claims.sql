-- +goose Up
-- Pop-up claims (DOMAIN 3.3). A claim campaign gives coupons of a template
-- to customers who tap "claim", up to per_user_limit each, while its stock
-- lasts. The stock is counted in Redis (apps/marketing/claimstock);
-- redis_epoch is the epoch of the Redis counter a binding must have taken
-- from (a counter rebuilt after Redis lost it has a newer one), read under
-- a shared lock by every binding and written under FOR UPDATE by the
-- rebuild.
CREATE TABLE claim_campaigns (
  id              CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NULL,
  request_hash    CHAR(64)     NOT NULL,
  name            VARCHAR(128) NOT NULL,
  template_id     CHAR(26)     NOT NULL,
  stock_total     BIGINT       NOT NULL,
  per_user_limit  INT          NOT NULL,
  starts_at       DATETIME(6)  NOT NULL,
  ends_at         DATETIME(6)  NOT NULL,
  redis_epoch     BIGINT       NOT NULL DEFAULT 0,
  created_at      DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_claim_campaigns_key (idempotency_key),
  KEY ix_claim_campaigns_template (template_id),
  CONSTRAINT ck_claim_campaigns CHECK (stock_total > 0 AND per_user_limit > 0 AND ends_at > starts_at)
) ENGINE=InnoDB;

-- One claim a customer made. (campaign, customer, slot) is unique and slot
-- runs 1..per_user_limit, so no customer ever holds more claims than the
-- limit, whatever runs concurrently; (customer, key) makes a retried
-- claim the same claim. A PENDING claim is bound (BOUND, coupon_id: the
-- coupon whose source is CLAIM and ref this id) or refused (REFUSED,
-- reason) by the issuing queues; next_try_at is when the re-queue job
-- takes it up again if neither happened.
CREATE TABLE coupon_claims (
  id              CHAR(26)    NOT NULL PRIMARY KEY,
  campaign_id     CHAR(26)    NOT NULL,
  customer_id     VARCHAR(64) NOT NULL,
  slot            INT         NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  status          VARCHAR(16) NOT NULL,
  reason          VARCHAR(32) NOT NULL DEFAULT '',
  coupon_id       CHAR(26)    NULL,
  attempts        INT         NOT NULL DEFAULT 0,
  next_try_at     DATETIME(6) NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  updated_at      DATETIME(6) NOT NULL,
  UNIQUE KEY uq_claims_slot (campaign_id, customer_id, slot),
  UNIQUE KEY uq_claims_key (customer_id, idempotency_key),
  KEY ix_claims_due (status, next_try_at),
  KEY ix_claims_customer (customer_id, status),
  KEY ix_claims_campaign (campaign_id, status)
) ENGINE=InnoDB;

-- A unit of Redis stock owed back: written with the refusal of a claim
-- whose unit was taken, deleted once the give-back ran. A row left by a
-- crash between the two is counted (the campaign's givebacks owed) and
-- the reconciler gives the unit back (idempotent: by the claim's entry).
CREATE TABLE claim_givebacks (
  claim_id    CHAR(26)    NOT NULL PRIMARY KEY,
  campaign_id CHAR(26)    NOT NULL,
  created_at  DATETIME(6) NOT NULL,
  KEY ix_givebacks_campaign (campaign_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE claim_givebacks;
DROP TABLE coupon_claims;
DROP TABLE claim_campaigns;

-- +goose Up
-- The coupon wallet (DOMAIN 3.1–3.3): coupon templates and the coupons bound
-- to customers from them. These are the only coupon rows in Harvest: PAY's
-- COUPON deduction holds them here, OMS's placement checks their rules here.
CREATE TABLE coupon_templates (
  id              CHAR(26)     NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NULL,
  request_hash    CHAR(64)     NOT NULL,
  title           VARCHAR(128) NOT NULL,
  value_fen       BIGINT       NOT NULL,
  threshold_fen   BIGINT       NOT NULL DEFAULT 0,
  valid_from      DATETIME(6)  NOT NULL,
  valid_to        DATETIME(6)  NOT NULL,
  status          VARCHAR(16)  NOT NULL,
  created_at      DATETIME(6)  NOT NULL,
  updated_at      DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_coupon_templates_key (idempotency_key),
  CONSTRAINT ck_coupon_templates CHECK (value_fen > 0 AND threshold_fen >= 0 AND valid_to > valid_from)
) ENGINE=InnoDB;

-- The SKUs a template applies to; none: every good.
CREATE TABLE coupon_template_skus (
  template_id CHAR(26)    NOT NULL,
  sku         VARCHAR(64) NOT NULL,
  PRIMARY KEY (template_id, sku)
) ENGINE=InnoDB;

-- A coupon bound to a customer. (customer, source, source_ref) is unique: a
-- campaign (source CAMPAIGN, ref its id) binds at most one coupon per
-- customer, and a grant by customer service (GRANT, ref its key) once.
-- hold_id names the PAY deduction holding or using it; next_check_at is
-- when the wallet asks PAY again about a HELD coupon (the check-back).
CREATE TABLE coupons (
  id            CHAR(26)     NOT NULL PRIMARY KEY,
  template_id   CHAR(26)     NOT NULL,
  customer_id   VARCHAR(64)  NOT NULL,
  status        VARCHAR(16)  NOT NULL,
  hold_id       CHAR(26)     NULL,
  source        VARCHAR(16)  NOT NULL,
  source_ref    VARCHAR(128) NOT NULL,
  bound_at      DATETIME(6)  NOT NULL,
  updated_at    DATETIME(6)  NOT NULL,
  next_check_at DATETIME(6)  NULL,
  UNIQUE KEY uq_coupons_source (customer_id, source, source_ref),
  KEY ix_coupons_hold (hold_id),
  KEY ix_coupons_check (status, next_check_at),
  KEY ix_coupons_template (template_id)
) ENGINE=InnoDB;

-- Coupons customer service unbound, with who asked and why.
CREATE TABLE coupon_unbindings (
  coupon_id  CHAR(26)     NOT NULL PRIMARY KEY,
  agent      VARCHAR(64)  NOT NULL,
  reason     VARCHAR(256) NOT NULL,
  created_at DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE coupon_unbindings;
DROP TABLE coupons;
DROP TABLE coupon_template_skus;
DROP TABLE coupon_templates;

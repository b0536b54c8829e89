-- +goose Up
-- The outside systems fulfillment calls (SMS, push, finance vouchers, fraud
-- score, presale purchasing, TMS, invoicing, drop-ship suppliers). Each
-- receives every request once by its caller's id: the first receipt stores
-- its answer, a repeat counts a delivery and answers the stored result.

CREATE TABLE partner_requests (
  api          VARCHAR(32)  NOT NULL,           -- sms.messages, tms.waybills ...
  request_id   VARCHAR(128) NOT NULL,           -- message, voucher, order or delivery-order id
  seq          BIGINT       NOT NULL AUTO_INCREMENT, -- the partner's own number (receipt ids, waybill numbers)
  ref          VARCHAR(128) NOT NULL,           -- the order or delivery order it is about
  body         MEDIUMBLOB   NOT NULL,           -- the first request as received
  body_sha     CHAR(64)     NOT NULL,
  result       BLOB         NOT NULL,           -- the first answer, repeated to duplicates
  deliveries   INT          NOT NULL DEFAULT 1,
  changed      INT          NOT NULL DEFAULT 0, -- repeats whose body differed from the first
  first_at     DATETIME(6)  NOT NULL,
  last_at      DATETIME(6)  NOT NULL,
  PRIMARY KEY (api, request_id),
  UNIQUE KEY uq_partner_requests_seq (seq),
  KEY ix_partner_requests_ref (ref)
) ENGINE=InnoDB;

-- Fraud rules changed at run time (POST /admin/risk-rules); absent, the
-- configured defaults hold.
CREATE TABLE risk_rules (
  id         TINYINT     NOT NULL PRIMARY KEY,
  body       BLOB        NOT NULL,
  updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE risk_rules;
DROP TABLE partner_requests;

-- +goose Up
-- Customer service's forward documents (DOMAIN 4.1, 4.4, 4.5): reissues,
-- exchanges and pull-backs, stored as requests (kind REISSUE, EXCHANGE,
-- PULL_BACK; their units in request_lines, nothing refunded) with what
-- only they carry here: a pull-back's outcome (NEW_ORDER, WAIT_FOR_STOCK,
-- CANCEL), the new order's address and slot when customer service changed
-- them, and the new order once made.
CREATE TABLE forward_documents (
  request_id   CHAR(26)    NOT NULL PRIMARY KEY,
  outcome      VARCHAR(16) NOT NULL DEFAULT '',
  address      JSON        NULL,
  slot         JSON        NULL,
  new_order_id VARCHAR(64) NOT NULL DEFAULT '',
  KEY ix_forward_new_order (new_order_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE forward_documents;

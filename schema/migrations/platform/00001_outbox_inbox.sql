-- +goose Up
-- Events written in the same transaction as the business change they follow,
-- published after commit by the relay (apps/platform/outbox).
CREATE TABLE outbox (
  seq          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  msg_id       CHAR(26)     NOT NULL,
  topic        VARCHAR(128) NOT NULL,
  aggregate_id VARCHAR(64)  NOT NULL,
  event_type   VARCHAR(128) NOT NULL,
  payload      MEDIUMBLOB   NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  UNIQUE KEY uq_outbox_msg (msg_id)
) ENGINE=InnoDB;

-- Message ids a consumer has already applied (apps/platform/inbox).
CREATE TABLE inbox (
  consumer    VARCHAR(64) NOT NULL,
  msg_id      VARCHAR(64) NOT NULL,
  received_at DATETIME(6) NOT NULL,
  PRIMARY KEY (consumer, msg_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE inbox;
DROP TABLE outbox;

-- +goose Up
-- The partner's sequence numbers (receipt ids, waybill numbers) are handed
-- out from blocks reserved here, so that a request is recorded with its
-- answer in one statement: the answer is built from the number before the
-- row is written, where partner_requests' AUTO_INCREMENT only gave it after.
CREATE TABLE partner_sequence (
  id        TINYINT NOT NULL PRIMARY KEY,  -- always 1
  next_seq  BIGINT  NOT NULL               -- the first number no block has taken
) ENGINE=InnoDB;

INSERT INTO partner_sequence (id, next_seq) SELECT 1, COALESCE(MAX(seq), 0) + 1 FROM partner_requests;

-- +goose Down
DROP TABLE partner_sequence;

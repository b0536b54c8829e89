-- +goose Up
-- How many delivery orders of an order's unit are not dispatched yet: the
-- last child to finish brings it to zero and marks the order DISPATCHED.
-- A counter on the order's row replaces counting the siblings, whose
-- locking read also locked the index gap where new delivery orders are
-- inserted and stalled every fan-out behind it.
ALTER TABLE fulfillments ADD COLUMN open_children INT NOT NULL DEFAULT 0 AFTER child_seq;
-- Claims read their units back by primary key and the token, and nothing
-- looks units up by parent any more: two fewer indexes to maintain on
-- every insert and claim.
ALTER TABLE fulfillments DROP INDEX ix_fulfillments_token, DROP INDEX ix_fulfillments_parent;

-- +goose Down
ALTER TABLE fulfillments ADD INDEX ix_fulfillments_token (lease_token), ADD INDEX ix_fulfillments_parent (parent_id);
ALTER TABLE fulfillments DROP COLUMN open_children;

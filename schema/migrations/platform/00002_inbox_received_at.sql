-- +goose Up
-- The inbox pruner (apps/platform/inbox.Pruner) deletes the oldest claims
-- in bounded batches; without this index every batch scans the table.
ALTER TABLE inbox ADD INDEX ix_inbox_received (received_at), ALGORITHM=INPLACE, LOCK=NONE;

-- +goose Down
ALTER TABLE inbox DROP INDEX ix_inbox_received;

-- +goose Up
-- A pull platform that pages newest first (Youzan-like) cannot move its
-- cursor page by page: it walks down from the newest order to the cursor,
-- and only a finished walk moves `since`. The walk in progress is kept
-- beside the cursor and moves in the same transaction as each page it
-- stores: walk_from the walk's fixed lower end (the cursor less the
-- overlap), walk_end the upper end of the next page asked (the oldest
-- update time seen so far, included again), walk_page the page at that
-- end (beyond 1 only while one second holds more than a page), walk_top
-- the newest update time the walk saw, the cursor it leaves. All on the
-- platform's clock. walk_end NULL: no walk in progress.
ALTER TABLE pull_cursors
  ADD COLUMN walk_from DATETIME(6) NULL,
  ADD COLUMN walk_end  DATETIME(6) NULL,
  ADD COLUMN walk_page INT         NOT NULL DEFAULT 0,
  ADD COLUMN walk_top  DATETIME(6) NULL;

-- +goose Down
ALTER TABLE pull_cursors DROP COLUMN walk_top, DROP COLUMN walk_page, DROP COLUMN walk_end, DROP COLUMN walk_from;

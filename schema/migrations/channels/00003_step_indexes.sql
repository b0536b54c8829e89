-- +goose Up
-- The sweep (app.RunSweeper) looks every few seconds for plans still
-- PLANNED and statuses not sent that stood still; without these it read
-- every plan and every status ever queued each time (50,000 rows after
-- one group buy). OMS's order events find their staged order by the
-- Harvest order id (store.QueueOrderStatus), which had no index either.
ALTER TABLE sales_plans ADD KEY ix_plans_status (status, updated_at);
ALTER TABLE status_updates ADD KEY ix_status_updates_unsent (sent_at, created_at);
ALTER TABLE staging_process ADD KEY ix_staging_order (order_id);

-- +goose Down
ALTER TABLE staging_process DROP KEY ix_staging_order;
ALTER TABLE status_updates DROP KEY ix_status_updates_unsent;
ALTER TABLE sales_plans DROP KEY ix_plans_status;

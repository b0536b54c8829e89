-- +goose Up
-- Idempotency keys belong to their caller (issue 10, finding 5): a key is
-- unique per customer, so one customer's key never answers, or refuses,
-- another's request. Rows already stored keep their key and are found
-- again under their own customer.
ALTER TABLE account_credits DROP PRIMARY KEY, ADD PRIMARY KEY (customer_id, idempotency_key);
ALTER TABLE deductions DROP INDEX uq_deductions_key, ADD UNIQUE KEY uq_deductions_key (customer_id, idempotency_key);
ALTER TABLE trades DROP INDEX uq_trades_key, ADD UNIQUE KEY uq_trades_key (customer_id, idempotency_key);
-- A refund's key is scoped by the customer of its trade; automatic
-- refunds (cause auto:<trade>) carry that customer too.
ALTER TABLE refunds ADD COLUMN customer_id VARCHAR(64) NOT NULL DEFAULT '' AFTER order_id;
UPDATE refunds r JOIN trades t ON t.id = r.trade_id SET r.customer_id = t.customer_id;
ALTER TABLE refunds DROP INDEX uq_refunds_cause, ADD UNIQUE KEY uq_refunds_cause (customer_id, cause_key);

-- +goose Down
ALTER TABLE refunds DROP INDEX uq_refunds_cause, ADD UNIQUE KEY uq_refunds_cause (cause_key);
ALTER TABLE refunds DROP COLUMN customer_id;
ALTER TABLE trades DROP INDEX uq_trades_key, ADD UNIQUE KEY uq_trades_key (idempotency_key);
ALTER TABLE deductions DROP INDEX uq_deductions_key, ADD UNIQUE KEY uq_deductions_key (idempotency_key);
ALTER TABLE account_credits DROP PRIMARY KEY, ADD PRIMARY KEY (idempotency_key);

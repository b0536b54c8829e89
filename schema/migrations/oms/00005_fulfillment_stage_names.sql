-- +goose Up
-- Stages are stored by name, not by their place in the pipeline, so a stage
-- can be added anywhere without renumbering the rows of the others. The
-- sixteen numbers of 00002 map to their names here; OMS still reads a row
-- an instance of the previous release writes as a number during a rollout
-- (runner.Config.Numbered). held_from is the state a unit had when its
-- order was held (paused by another app, HELD) and returns to on release.
ALTER TABLE fulfillments MODIFY stage VARCHAR(32) NOT NULL,
  ADD COLUMN held_from VARCHAR(16) NOT NULL DEFAULT '' AFTER state;
UPDATE fulfillments SET stage = CASE stage WHEN '1' THEN 'initial' WHEN '2' THEN 'exception_check' WHEN '3' THEN 'gifts' WHEN '4' THEN 'fill' WHEN '5' THEN 'allocation' WHEN '6' THEN 'payment_voucher' WHEN '7' THEN 'split' WHEN '8' THEN 'fraud_audit' WHEN '9' THEN 'presale_push' WHEN '10' THEN 'effective_time' WHEN '11' THEN 'waybill' WHEN '12' THEN 'erp_stock' WHEN '13' THEN 'warehouse_throttle' WHEN '14' THEN 'reissue_sms' WHEN '15' THEN 'invoice' WHEN '16' THEN 'dispatch' ELSE stage END;
ALTER TABLE fulfillment_steps MODIFY stage VARCHAR(32) NOT NULL;
UPDATE fulfillment_steps SET stage = CASE stage WHEN '1' THEN 'initial' WHEN '2' THEN 'exception_check' WHEN '3' THEN 'gifts' WHEN '4' THEN 'fill' WHEN '5' THEN 'allocation' WHEN '6' THEN 'payment_voucher' WHEN '7' THEN 'split' WHEN '8' THEN 'fraud_audit' WHEN '9' THEN 'presale_push' WHEN '10' THEN 'effective_time' WHEN '11' THEN 'waybill' WHEN '12' THEN 'erp_stock' WHEN '13' THEN 'warehouse_throttle' WHEN '14' THEN 'reissue_sms' WHEN '15' THEN 'invoice' WHEN '16' THEN 'dispatch' ELSE stage END;

-- +goose Down
UPDATE fulfillments SET state = IF(held_from IN ('', 'RUNNING'), 'READY', held_from) WHERE state = 'HELD';
UPDATE fulfillments SET stage = CASE stage WHEN 'initial' THEN '1' WHEN 'exception_check' THEN '2' WHEN 'gifts' THEN '3' WHEN 'fill' THEN '4' WHEN 'allocation' THEN '5' WHEN 'payment_voucher' THEN '6' WHEN 'split' THEN '7' WHEN 'fraud_audit' THEN '8' WHEN 'presale_push' THEN '9' WHEN 'effective_time' THEN '10' WHEN 'waybill' THEN '11' WHEN 'erp_stock' THEN '12' WHEN 'warehouse_throttle' THEN '13' WHEN 'reissue_sms' THEN '14' WHEN 'invoice' THEN '15' WHEN 'dispatch' THEN '16' ELSE '1' END;
UPDATE fulfillment_steps SET stage = CASE stage WHEN 'initial' THEN '1' WHEN 'exception_check' THEN '2' WHEN 'gifts' THEN '3' WHEN 'fill' THEN '4' WHEN 'allocation' THEN '5' WHEN 'payment_voucher' THEN '6' WHEN 'split' THEN '7' WHEN 'fraud_audit' THEN '8' WHEN 'presale_push' THEN '9' WHEN 'effective_time' THEN '10' WHEN 'waybill' THEN '11' WHEN 'erp_stock' THEN '12' WHEN 'warehouse_throttle' THEN '13' WHEN 'reissue_sms' THEN '14' WHEN 'invoice' THEN '15' WHEN 'dispatch' THEN '16' ELSE '1' END;
ALTER TABLE fulfillments DROP COLUMN held_from, MODIFY stage TINYINT NOT NULL;
ALTER TABLE fulfillment_steps MODIFY stage TINYINT NOT NULL;

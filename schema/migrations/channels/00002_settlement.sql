-- +goose Up
-- Settlement (DOMAIN 6.1): what each sales plan's order came to (delivered
-- at, refused at the door), and per business customer and period the
-- statement of what was delivered, returned and owed. A statement is
-- written once, when its period has ended, with the plans it settles
-- (settled_id), and never changes: an outcome recorded after its period
-- closed is settled by the next statement.
ALTER TABLE sales_plans
  ADD COLUMN delivered_at DATETIME(6) NULL,
  ADD COLUMN returned_at  DATETIME(6) NULL,
  ADD COLUMN settled_id   CHAR(26)    NULL, -- the statement that billed the delivery
  ADD COLUMN returned_settled_id CHAR(26) NULL, -- the statement that credited the return
  ADD KEY ix_plans_unsettled (customer_id, settlement_period, settled_id, returned_settled_id);

CREATE TABLE settlement_statements (
  id            CHAR(26)    NOT NULL PRIMARY KEY,
  customer_id   VARCHAR(64) NOT NULL,
  period        VARCHAR(16) NOT NULL, -- MONTHLY, QUARTERLY, YEARLY
  period_start  DATE        NOT NULL, -- Asia/Shanghai
  period_end    DATE        NOT NULL, -- exclusive
  plans         INT         NOT NULL,
  delivered_fen BIGINT      NOT NULL,
  returned_fen  BIGINT      NOT NULL,
  owed_fen      BIGINT      NOT NULL,
  closed_at     DATETIME(6) NOT NULL,
  UNIQUE KEY uq_statement_period (customer_id, period, period_start)
) ENGINE=InnoDB;

CREATE TABLE settlement_lines (
  statement_id  CHAR(26)    NOT NULL,
  plan_id       CHAR(26)    NOT NULL,
  order_id      VARCHAR(64) NOT NULL,
  delivered_fen BIGINT      NOT NULL,
  returned_fen  BIGINT      NOT NULL,
  PRIMARY KEY (statement_id, plan_id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE settlement_lines;
DROP TABLE settlement_statements;
ALTER TABLE sales_plans DROP KEY ix_plans_unsettled, DROP COLUMN returned_settled_id, DROP COLUMN settled_id, DROP COLUMN returned_at, DROP COLUMN delivered_at;

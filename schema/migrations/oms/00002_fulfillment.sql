-- +goose Up
-- Fulfillment (履约, DOMAIN 1.6): one row per unit that walks the stages: the
-- paid order itself (stages 1-10) and, after the split, each delivery
-- (child) order (stages 11-16). The row is the durable truth of where a
-- unit stands; the engine's in-memory queues only carry copies of it.
CREATE TABLE fulfillments (
  unit_id      VARCHAR(40)  NOT NULL PRIMARY KEY, -- order id, or order id + '-' + child number
  order_id     CHAR(26)     NOT NULL,
  parent_id    VARCHAR(40)  NOT NULL DEFAULT '',   -- '' for the order's own unit
  child_seq    INT          NOT NULL DEFAULT 0,
  stage        TINYINT      NOT NULL,              -- 1..16: the stage to run next (or running)
  state        VARCHAR(16)  NOT NULL,              -- READY, RUNNING, PAUSED, FAILED, SPLIT, DONE, CANCELLED
  resume_at    DATETIME(6)  NOT NULL,              -- READY/PAUSED: not before this time
  lease_owner  VARCHAR(64)  NOT NULL DEFAULT '',
  lease_token  CHAR(26)     NOT NULL DEFAULT '',
  lease_until  DATETIME(6)  NOT NULL DEFAULT '1970-01-01 00:00:00',
  attempts     INT          NOT NULL DEFAULT 0,    -- failed runs of the current stage
  fail_code    VARCHAR(32)  NOT NULL DEFAULT '',
  fail_reason  VARCHAR(500) NOT NULL DEFAULT '',
  doc          MEDIUMBLOB   NOT NULL,              -- JSON: the unit's working document and stage results
  created_at   DATETIME(6)  NOT NULL,
  updated_at   DATETIME(6)  NOT NULL,
  -- the durable timer and the feeder: due units by state and time (also
  -- the operators' per-stage counts, which read only unfinished states).
  -- No index has stage in it: it changes on every commit, and every
  -- indexed column that changes costs the database a secondary-index write.
  KEY ix_fulfillments_due (state, resume_at),
  -- catch-up: leases that ran out
  KEY ix_fulfillments_lease (state, lease_until),
  KEY ix_fulfillments_token (lease_token),
  KEY ix_fulfillments_order (order_id),
  KEY ix_fulfillments_parent (parent_id)
) ENGINE=InnoDB;

-- Every run of a stage, for the order's fulfillment timeline.
CREATE TABLE fulfillment_steps (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  order_id    CHAR(26)     NOT NULL,
  unit_id     VARCHAR(40)  NOT NULL,
  stage       TINYINT      NOT NULL,
  outcome     VARCHAR(16)  NOT NULL, -- STARTED, NEXT, PAUSE, RETRY, FAIL, CANCEL, CREATED, RETRIED
  note        VARCHAR(500) NOT NULL DEFAULT '',
  owner       VARCHAR(64)  NOT NULL DEFAULT '',
  started_at  DATETIME(6)  NOT NULL,
  duration_us BIGINT       NOT NULL DEFAULT 0,
  KEY ix_fulfillment_steps_order (order_id, id)
) ENGINE=InnoDB;

-- Warehouse daily capacity (库房流量限制, stage 13): orders a warehouse takes
-- per Shanghai day. used only grows by a conditional increment.
CREATE TABLE warehouse_capacity (
  warehouse VARCHAR(64) NOT NULL,
  day       DATE        NOT NULL,
  capacity  INT         NOT NULL,
  used      INT         NOT NULL DEFAULT 0,
  PRIMARY KEY (warehouse, day)
) ENGINE=InnoDB;

-- Which delivery order took which day's capacity: a re-run of stage 13 finds
-- its grant and takes no second unit.
CREATE TABLE warehouse_capacity_grants (
  unit_id   VARCHAR(40) NOT NULL PRIMARY KEY,
  warehouse VARCHAR(64) NOT NULL,
  day       DATE        NOT NULL,
  granted_at DATETIME(6) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE warehouse_capacity_grants;
DROP TABLE warehouse_capacity;
DROP TABLE fulfillment_steps;
DROP TABLE fulfillments;

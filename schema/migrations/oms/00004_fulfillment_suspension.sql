-- +goose Up
-- The pipeline's suspension switch, shared by every OMS instance: while
-- suspended no instance claims a unit for a stage; paid orders still
-- enter fulfillment and wait, READY, until it is resumed.
CREATE TABLE fulfillment_suspension (
  id        TINYINT      NOT NULL PRIMARY KEY,  -- always 1: one switch
  suspended BOOLEAN      NOT NULL,
  reason    VARCHAR(500) NOT NULL,
  operator  VARCHAR(128) NOT NULL,
  since     DATETIME(6)  NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE fulfillment_suspension;

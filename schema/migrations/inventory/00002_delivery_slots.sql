-- +goose Up
-- Delivery-slot capacity (DOMAIN 1.2): per warehouse, Shanghai day and slot
-- type, how many orders the warehouse and its couriers deliver. `taken`
-- counts the units held by HELD and CONFIRMED reservations and changes only
-- by conditional updates in the reservation's own transaction, like stock.
-- capacity NULL: nobody set one; the slot takes any number of orders but is
-- still counted, so a capacity set later is checked against what is taken.
CREATE TABLE delivery_slots (
  warehouse  VARCHAR(16) NOT NULL,
  day        DATE        NOT NULL,
  slot_type  VARCHAR(16) NOT NULL,
  capacity   BIGINT      NULL,
  taken      BIGINT      NOT NULL DEFAULT 0,
  updated_by VARCHAR(128) NOT NULL DEFAULT '',
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (warehouse, day, slot_type),
  KEY ix_delivery_slots_day (day, warehouse),
  CONSTRAINT ck_delivery_slots_taken CHECK (taken >= 0 AND (capacity IS NULL OR (capacity >= 0 AND taken <= capacity)))
) ENGINE=InnoDB;

-- The slot units one reservation holds: one per warehouse its parts ship
-- from. Kept after a release (the reservation's status says whether the
-- unit is still held): sum over HELD and CONFIRMED reservations = taken.
CREATE TABLE reservation_slots (
  order_id  VARCHAR(64) NOT NULL,
  warehouse VARCHAR(16) NOT NULL,
  day       DATE        NOT NULL,
  slot_type VARCHAR(16) NOT NULL,
  PRIMARY KEY (order_id, warehouse),
  KEY ix_reservation_slots_slot (warehouse, day, slot_type)
) ENGINE=InnoDB;

-- Who changed a capacity, when, from what to what.
CREATE TABLE delivery_slot_changes (
  id         BIGINT      NOT NULL AUTO_INCREMENT PRIMARY KEY,
  warehouse  VARCHAR(16) NOT NULL,
  day        DATE        NOT NULL,
  slot_type  VARCHAR(16) NOT NULL,
  before_cap BIGINT      NULL,
  after_cap  BIGINT      NULL,
  taken      BIGINT      NOT NULL,
  changed_by VARCHAR(128) NOT NULL,
  changed_at DATETIME(6) NOT NULL,
  KEY ix_delivery_slot_changes_slot (warehouse, day, slot_type, id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE delivery_slot_changes;
DROP TABLE reservation_slots;
DROP TABLE delivery_slots;

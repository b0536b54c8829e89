-- +goose Up
-- The served-area list (配送范围) operators maintain: which warehouses
-- deliver to a district; district '' covers every district of the city
-- without an entry of its own. Customers' addresses are checked against
-- it, and so is fulfillment's deliverability check (stage 2).
CREATE TABLE served_areas (
  province   VARCHAR(64)  NOT NULL,
  city       VARCHAR(64)  NOT NULL,
  district   VARCHAR(64)  NOT NULL,
  warehouse  VARCHAR(16)  NOT NULL,
  updated_by VARCHAR(128) NOT NULL,
  updated_at DATETIME(6)  NOT NULL,
  PRIMARY KEY (province, city, district, warehouse)
) ENGINE=InnoDB;

-- Who changed a served area, when, from which warehouses to which.
CREATE TABLE served_area_changes (
  id         BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
  province   VARCHAR(64)  NOT NULL,
  city       VARCHAR(64)  NOT NULL,
  district   VARCHAR(64)  NOT NULL,
  before_wh  JSON         NOT NULL,
  after_wh   JSON         NOT NULL,
  changed_by VARCHAR(128) NOT NULL,
  changed_at DATETIME(6)  NOT NULL,
  KEY ix_served_area_changes_area (province, city, district, id)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE served_area_changes;
DROP TABLE served_areas;

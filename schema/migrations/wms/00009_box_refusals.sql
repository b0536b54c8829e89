-- +goose Up
-- What the customer refused of a parcel at the door, as TMS's courier
-- reported it (a refusal without lines: the whole box), kept with the
-- REFUSED tracking state so OMS's refusal names the units.
CREATE TABLE box_refusals (
  box_id CHAR(26)    NOT NULL,
  sku    VARCHAR(64) NOT NULL,
  qty    BIGINT      NOT NULL,
  PRIMARY KEY (box_id, sku)
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE box_refusals;

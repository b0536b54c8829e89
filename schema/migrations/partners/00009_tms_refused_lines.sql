-- +goose Up
-- A parcel's manifest as WMS imported it (one line per SKU), and what the
-- courier reported the customer refused of it at the door (NULL: the
-- whole parcel, or not refused).
ALTER TABLE tms_parcels
  ADD COLUMN contents      JSON NULL,
  ADD COLUMN refused_lines JSON NULL;

-- +goose Down
ALTER TABLE tms_parcels DROP COLUMN refused_lines, DROP COLUMN contents;

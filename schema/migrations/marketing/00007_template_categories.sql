-- +goose Up
-- The product categories a coupon template applies to, besides its SKUs
-- (inventory's fixed list; none: the SKUs alone decide, neither: every
-- good). A short sorted comma-separated list on the template row, not a
-- table like its SKUs: the codes are few and fixed, never queried by, and
-- every coupon read (a claim burst's included) reads the template row
-- anyway, so the categories come with no further query.
ALTER TABLE coupon_templates
  ADD COLUMN categories VARCHAR(255) NOT NULL DEFAULT '' AFTER threshold_fen;

-- +goose Down
ALTER TABLE coupon_templates DROP COLUMN categories;

-- +goose Up
-- A category per product (domain.Categories): what customers browse by
-- and what coupon templates may apply to. NULL only for a product entered
-- before categories: guessing one from its zone would put frozen crab
-- among the ice creams and let a category coupon discount it, so such a
-- product stays uncategorised (no category coupon applies to it) until an
-- operator's next edit, which must name one.
ALTER TABLE products
  ADD COLUMN category VARCHAR(32) NULL AFTER zone,
  ADD KEY ix_products_category (category, sku);

-- +goose Down
ALTER TABLE products
  DROP KEY ix_products_category,
  DROP COLUMN category;

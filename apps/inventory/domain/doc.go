// Package domain holds inventory's rules without I/O: products and their
// temperature zones, virtual bundles and how they expand into the SKUs that
// carry stock, prices in time, delivery slots and their capacities, served
// areas, order lines in canonical form with a fingerprint (what makes
// Reserve idempotent by order id), reservation statuses and the sentinel
// errors the API maps to its codes. Standard library only.
package domain

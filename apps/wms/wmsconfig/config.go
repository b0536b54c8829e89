// Package wmsconfig reads WMS's configuration from the environment. It
// lives outside package main so the Kubernetes manifests' test (deploy/k8s)
// can run WMS's own reader against the environment its Deployment gives it.
package wmsconfig

import "github.com/harvest/harvest/apps/platform/config"

// Config is WMS's configuration.
type Config struct {
	Base config.Base
	// Seed fills an empty erp_stock from inventory's catalog (HARVEST_SEED,
	// development only, off by default; the launcher turns it on).
	Seed bool
}

// Read reads WMS's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "wms", true)}
	c.Seed = r.Seed(c.Base)
	return c, r.Err()
}

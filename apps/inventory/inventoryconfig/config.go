// Package inventoryconfig reads inventory's configuration from the
// environment. It lives outside package main so the Kubernetes manifests'
// test (deploy/k8s) can run inventory's own reader against the environment
// its Deployment gives it.
package inventoryconfig

import (
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/config"
)

// Config is inventory's configuration.
type Config struct {
	Base config.Base
	// Seed fills an empty catalog with the demonstration products
	// (HARVEST_SEED, development only, off by default).
	Seed bool
	// RedisPrefix prefixes the hot-stock keys (HARVEST_INVENTORY_REDIS_PREFIX).
	RedisPrefix string
	// CheckBackBatch bounds the reservations one check-back settles
	// (HARVEST_CHECKBACK_BATCH).
	CheckBackBatch int
}

// Read reads inventory's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, inventoryclient.AppID, true)}
	c.Seed = r.Seed(c.Base)
	c.RedisPrefix = r.String("HARVEST_INVENTORY_REDIS_PREFIX", "harvest:")
	c.CheckBackBatch = r.Int("HARVEST_CHECKBACK_BATCH", 200)
	return c, r.Err()
}

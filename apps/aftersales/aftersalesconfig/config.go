// Package aftersalesconfig reads after-sales' configuration from the
// environment. It lives outside package main so the Kubernetes
// manifests' test (deploy/k8s) can run the reader against the
// environment its Deployment gives it.
package aftersalesconfig

import (
	"time"

	"github.com/harvest/harvest/apps/platform/config"
)

// Config is after-sales' configuration.
type Config struct {
	Base config.Base
	// SweepEvery is how often unfinished requests are looked at
	// (HARVEST_AFTERSALES_SWEEP_EVERY), and SweepIdle how long one must
	// have stood still to be processed again (HARVEST_AFTERSALES_SWEEP_IDLE).
	SweepEvery, SweepIdle time.Duration
	// FilterCheck is how often the cancel filter is checked and, when
	// missing, rebuilt (HARVEST_AFTERSALES_FILTER_CHECK).
	FilterCheck time.Duration
}

// Read reads the configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "aftersales", true),
		SweepEvery:  r.Duration("HARVEST_AFTERSALES_SWEEP_EVERY", 2*time.Second),
		SweepIdle:   r.Duration("HARVEST_AFTERSALES_SWEEP_IDLE", 3*time.Second),
		FilterCheck: r.Duration("HARVEST_AFTERSALES_FILTER_CHECK", 30*time.Second)}
	return c, r.Err()
}

// Package marketingconfig reads marketing's configuration from the
// environment. It lives outside package main so the Kubernetes manifests'
// test (deploy/k8s) can run marketing's own reader against the environment
// its Deployment gives it.
package marketingconfig

import "github.com/harvest/harvest/apps/platform/config"

// Config is marketing's configuration.
type Config struct {
	Base config.Base
}

// Read reads marketing's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "marketing", true)}
	return c, r.Err()
}

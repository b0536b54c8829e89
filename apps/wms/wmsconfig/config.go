// Package wmsconfig reads WMS's configuration from the environment. It
// lives outside package main so the Kubernetes manifests' test (deploy/k8s)
// can run WMS's own reader against the environment its Deployment gives it.
package wmsconfig

import (
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/config"
)

// Config is WMS's configuration.
type Config struct {
	Base config.Base
	// Seed fills an empty erp_stock from inventory's catalog (HARVEST_SEED,
	// development only, off by default; the launcher turns it on).
	Seed bool
	// PartnersAppID is the app id (or HTTPEndpoint name) of TMS
	// (HARVEST_PARTNERS_APP_ID): the partners stand-in in development,
	// named explicitly in production.
	PartnersAppID string
	// WeighCarriers are the couriers that require every box weighed
	// (HARVEST_WMS_WEIGH_CARRIERS, comma-separated; default SF,JD).
	WeighCarriers []string
	// UploadEvery is how often the job uploads new stock movements to ERP
	// (HARVEST_WMS_UPLOAD_EVERY, default 5s).
	UploadEvery time.Duration
}

// Read reads WMS's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "wms", true)}
	c.Seed = r.Seed(c.Base)
	if c.Base.Development() {
		c.PartnersAppID = r.String("HARVEST_PARTNERS_APP_ID", partnersclient.DefaultAppID)
	} else {
		c.PartnersAppID = r.Required("HARVEST_PARTNERS_APP_ID")
	}
	for _, s := range strings.Split(r.String("HARVEST_WMS_WEIGH_CARRIERS", "SF,JD"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.WeighCarriers = append(c.WeighCarriers, s)
		}
	}
	c.UploadEvery = r.Duration("HARVEST_WMS_UPLOAD_EVERY", 5*time.Second)
	if c.UploadEvery <= 0 {
		r.Refuse(fmt.Errorf("HARVEST_WMS_UPLOAD_EVERY must be positive"))
	}
	return c, r.Err()
}

// Package marketingconfig reads marketing's configuration from the
// environment. It lives outside package main so the Kubernetes manifests'
// test (deploy/k8s) can run marketing's own reader against the environment
// its Deployment gives it.
package marketingconfig

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/platform/config"
)

// Config is marketing's configuration.
type Config struct {
	Base config.Base
	// HoldCheckAfter is how long a coupon held by a PAY deduction waits
	// before the wallet asks PAY about it (HARVEST_COUPON_HOLD_CHECK).
	HoldCheckAfter time.Duration
	// BIApp is the Dapr app id (or HTTPEndpoint) of the BI export that
	// lists a campaign's users (HARVEST_BI_APP; development: partners).
	BIApp string
	// SMSApp is the same for the SMS gateway (HARVEST_SMS_APP).
	SMSApp string
	// CampaignPage is how many users one read of BI's export asks for
	// (HARVEST_CAMPAIGN_PAGE, 1..5000).
	CampaignPage  int
	Seed          bool // HARVEST_SEED: development only
	SeedCustomers int
}

// Read reads marketing's configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "marketing", true)}
	c.HoldCheckAfter = r.Duration("HARVEST_COUPON_HOLD_CHECK", 2*time.Minute)
	// Development talks to the partners stand-in; production names the
	// real BI export and SMS gateway (Dapr HTTPEndpoints).
	if c.Base.Development() {
		c.BIApp = r.String("HARVEST_BI_APP", "partners")
		c.SMSApp = r.String("HARVEST_SMS_APP", "partners")
	} else {
		c.BIApp = r.Required("HARVEST_BI_APP")
		c.SMSApp = r.Required("HARVEST_SMS_APP")
	}
	c.CampaignPage = r.Int("HARVEST_CAMPAIGN_PAGE", 1_000)
	if c.CampaignPage < 1 || c.CampaignPage > 5_000 {
		r.Refuse(fmt.Errorf("HARVEST_CAMPAIGN_PAGE %d: want 1..5000", c.CampaignPage))
	}
	c.Seed = r.Seed(c.Base)
	c.SeedCustomers = r.Int("HARVEST_SEED_CUSTOMERS", 100)
	return c, r.Err()
}

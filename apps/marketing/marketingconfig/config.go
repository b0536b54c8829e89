// Package marketingconfig reads marketing's configuration from the
// environment. It lives outside package main so the Kubernetes manifests'
// test (deploy/k8s) can run marketing's own reader against the environment
// its Deployment gives it.
package marketingconfig

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/marketing/events"
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
	CampaignPage int
	// CampaignBulk is how many user messages the sidecar hands the grant
	// consumer at once (HARVEST_CAMPAIGN_BULK, 1..1000). On Redis Streams
	// each message of a bulk being gathered holds one of the component's
	// workers (its concurrency), so a bulk larger than that never fills
	// and goes out only when its wait runs out; at half of it the next bulk
	// gathers while one is answered.
	CampaignBulk int
	// RedisPrefix prefixes the claim stock's keys
	// (HARVEST_MARKETING_REDIS_PREFIX).
	RedisPrefix string
	// ClaimBinders is the user-assets capacity for pop-up claims: batches
	// bound at once (HARVEST_CLAIM_BINDERS, 1..64); ClaimQueue bounds the
	// local queue of claims waiting for a decision (HARVEST_CLAIM_QUEUE).
	ClaimBinders  int
	ClaimQueue    int
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
	c.CampaignBulk = r.Int("HARVEST_CAMPAIGN_BULK", events.DefaultUserBulk)
	if c.CampaignBulk < 1 || c.CampaignBulk > 1_000 {
		r.Refuse(fmt.Errorf("HARVEST_CAMPAIGN_BULK %d: want 1..1000", c.CampaignBulk))
	}
	c.RedisPrefix = r.String("HARVEST_MARKETING_REDIS_PREFIX", "harvest:")
	c.ClaimBinders = r.Int("HARVEST_CLAIM_BINDERS", 4)
	if c.ClaimBinders < 1 || c.ClaimBinders > 64 {
		r.Refuse(fmt.Errorf("HARVEST_CLAIM_BINDERS %d: want 1..64", c.ClaimBinders))
	}
	c.ClaimQueue = r.Int("HARVEST_CLAIM_QUEUE", 100_000)
	if c.ClaimQueue < 1_000 || c.ClaimQueue > 10_000_000 {
		r.Refuse(fmt.Errorf("HARVEST_CLAIM_QUEUE %d: want 1000..10000000", c.ClaimQueue))
	}
	c.Seed = r.Seed(c.Base)
	c.SeedCustomers = r.Int("HARVEST_SEED_CUSTOMERS", 100)
	return c, r.Err()
}

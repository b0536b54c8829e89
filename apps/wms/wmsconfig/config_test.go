package wmsconfig

import (
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/platform/config"
)

// WMS fills an empty erp_stock only when development asks for it: not
// by default, and never in production.
func TestSeedOnlyWhenDevelopmentAsks(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{{"HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/x"}, {"HARVEST_ENV": "development"}, {"HARVEST_SEED": "false", "HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/x"}} {
		if c, err := Read(config.FromMap(withTokens(env))); err != nil || c.Seed {
			t.Errorf("%v: seed %v, err %v; want no seed", env, c.Seed, err)
		}
	}
	if _, err := Read(config.FromMap(withTokens(map[string]string{"HARVEST_SEED": "true", "HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/x"}))); err == nil || !strings.Contains(err.Error(), "HARVEST_SEED") {
		t.Errorf("HARVEST_SEED=true in production: err = %v", err)
	}
	if c, err := Read(config.FromMap(withTokens(map[string]string{"HARVEST_ENV": "development", "HARVEST_SEED": "true"}))); err != nil || !c.Seed {
		t.Errorf("development asking: seed %v, err %v", c.Seed, err)
	}
}

// Production names TMS's endpoint; development defaults to the stand-in.
func TestTMSNamedInProduction(t *testing.T) {
	t.Parallel()
	env := withTokens(map[string]string{"HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/x"})
	delete(env, "HARVEST_PARTNERS_APP_ID")
	if _, err := Read(config.FromMap(env)); err == nil || !strings.Contains(err.Error(), "HARVEST_PARTNERS_APP_ID") {
		t.Errorf("production without TMS: err = %v", err)
	}
	env = withTokens(map[string]string{"HARVEST_ENV": "development", "HARVEST_WMS_WEIGH_CARRIERS": "SF, EMS"})
	delete(env, "HARVEST_PARTNERS_APP_ID")
	c, err := Read(config.FromMap(env))
	if err != nil || c.PartnersAppID != "partners" || strings.Join(c.WeighCarriers, ",") != "SF,EMS" {
		t.Errorf("development: %+v %v", c, err)
	}
}

// withTokens adds the sidecar tokens every app needs (APP_API_TOKEN,
// DAPR_API_TOKEN) and TMS's endpoint, so a case fails only for what it
// spoils.
func withTokens(m map[string]string) map[string]string {
	out := map[string]string{
		"APP_API_TOKEN":           "app-api-token-0123456789abcdef0123456789",
		"DAPR_API_TOKEN":          "dapr-api-token-0123456789abcdef0123456789",
		"HARVEST_PARTNERS_APP_ID": "tms",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

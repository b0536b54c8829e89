package inventoryconfig

import (
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/platform/config"
)

// Inventory fills an empty catalog only when development asks for it: not
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

// withTokens adds the sidecar tokens every app needs (APP_API_TOKEN,
// DAPR_API_TOKEN), so a case fails only for what it spoils.
func withTokens(m map[string]string) map[string]string {
	out := map[string]string{
		"APP_API_TOKEN":  "app-api-token-0123456789abcdef0123456789",
		"DAPR_API_TOKEN": "dapr-api-token-0123456789abcdef0123456789",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}

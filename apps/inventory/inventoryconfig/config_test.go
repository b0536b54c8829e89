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
		if c, err := Read(config.FromMap(env)); err != nil || c.Seed {
			t.Errorf("%v: seed %v, err %v; want no seed", env, c.Seed, err)
		}
	}
	if _, err := Read(config.FromMap(map[string]string{"HARVEST_SEED": "true", "HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/x"})); err == nil || !strings.Contains(err.Error(), "HARVEST_SEED") {
		t.Errorf("HARVEST_SEED=true in production: err = %v", err)
	}
	if c, err := Read(config.FromMap(map[string]string{"HARVEST_ENV": "development", "HARVEST_SEED": "true"})); err != nil || !c.Seed {
		t.Errorf("development asking: seed %v, err %v", c.Seed, err)
	}
}

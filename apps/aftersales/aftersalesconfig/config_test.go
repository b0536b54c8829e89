package aftersalesconfig_test

import (
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/aftersales/aftersalesconfig"
	"github.com/harvest/harvest/apps/platform/config"
)

// Production (the default) refuses the development crash fault.
func TestFaultsOnlyInDevelopment(t *testing.T) {
	prod := map[string]string{"HARVEST_MYSQL_DSN": "u:p@tcp(db:3306)/harvest_aftersales", "APP_API_TOKEN": strings.Repeat("a", 32),
		"DAPR_API_TOKEN": strings.Repeat("b", 32), "HARVEST_AFTERSALES_FAULTS": "true"}
	if _, err := aftersalesconfig.Read(config.FromMap(prod)); err == nil || !strings.Contains(err.Error(), "HARVEST_AFTERSALES_FAULTS") {
		t.Fatalf("production with faults: %v", err)
	}
	dev := map[string]string{"HARVEST_ENV": "development", "APP_API_TOKEN": "dev", "HARVEST_AFTERSALES_FAULTS": "true"}
	c, err := aftersalesconfig.Read(config.FromMap(dev))
	if err != nil || !c.CrashAfterCancel || c.SweepIdle <= 0 {
		t.Fatalf("development: %+v %v", c, err)
	}
}

package omsconfig

import (
	"strings"
	"testing"
)

// In production the outside systems' endpoint has no default: the partners
// stand-in is development's only.
func TestProductionNamesThePartnersEndpoint(t *testing.T) {
	t.Parallel()
	if _, err := Read(tokens); err == nil || !strings.Contains(err.Error(), "HARVEST_PARTNERS_APP_ID") {
		t.Fatalf("production without HARVEST_PARTNERS_APP_ID: err = %v", err)
	}
	c, err := Read(append([]string{"HARVEST_PARTNERS_APP_ID=partners-outside", "HARVEST_MYSQL_DSN=oms:pw@tcp(db:3306)/oms"}, tokens...))
	if err != nil || c.PartnersAppID != "partners-outside" || c.Base.Development() {
		t.Fatalf("production: %+v, %v", c.PartnersAppID, err)
	}
	c, err = Read(append([]string{"HARVEST_ENV=development"}, tokens...))
	if err != nil || c.PartnersAppID != "partners" {
		t.Fatalf("development: %q, %v", c.PartnersAppID, err)
	}
}

// tokens are the sidecar tokens every app needs, so a case fails only for
// what it spoils.
var tokens = []string{"APP_API_TOKEN=app-api-token-0123456789abcdef0123456789",
	"DAPR_API_TOKEN=dapr-api-token-0123456789abcdef0123456789"}

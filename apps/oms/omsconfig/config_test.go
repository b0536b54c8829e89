package omsconfig

import (
	"strings"
	"testing"
)

// In production the outside systems' endpoint has no default: the partners
// stand-in is development's only.
func TestProductionNamesThePartnersEndpoint(t *testing.T) {
	t.Parallel()
	if _, err := Read(nil); err == nil || !strings.Contains(err.Error(), "HARVEST_PARTNERS_APP_ID") {
		t.Fatalf("production without HARVEST_PARTNERS_APP_ID: err = %v", err)
	}
	c, err := Read([]string{"HARVEST_PARTNERS_APP_ID=partners-outside", "HARVEST_MYSQL_DSN=oms:pw@tcp(db:3306)/oms"})
	if err != nil || c.PartnersAppID != "partners-outside" || c.Base.Development() {
		t.Fatalf("production: %+v, %v", c.PartnersAppID, err)
	}
	c, err = Read([]string{"HARVEST_ENV=development"})
	if err != nil || c.PartnersAppID != "partners" {
		t.Fatalf("development: %q, %v", c.PartnersAppID, err)
	}
}

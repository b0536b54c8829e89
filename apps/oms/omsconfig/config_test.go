package omsconfig

import (
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/oms/actors"
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

// HARVEST_EXPIRY_REMINDERS picks the payment-deadline reminders: one per
// order or one per second of deadlines; anything else refuses to start.
func TestExpiryRemindersDesign(t *testing.T) {
	t.Parallel()
	dev := append([]string{"HARVEST_ENV=development"}, tokens...)
	c, err := Read(dev)
	if err != nil || c.ExpiryReminders != actors.DefaultDesign {
		t.Fatalf("default: %q, %v", c.ExpiryReminders, err)
	}
	for _, d := range []string{actors.DesignOrder, actors.DesignWindow} {
		if c, err := Read(append([]string{"HARVEST_EXPIRY_REMINDERS=" + d}, dev...)); err != nil || c.ExpiryReminders != d {
			t.Fatalf("%s: %q, %v", d, c.ExpiryReminders, err)
		}
	}
	if _, err := Read(append([]string{"HARVEST_EXPIRY_REMINDERS=both"}, dev...)); err == nil || !strings.Contains(err.Error(), "HARVEST_EXPIRY_REMINDERS") {
		t.Fatalf("bad design: err = %v", err)
	}
}

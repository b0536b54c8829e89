// Package omsconfig reads OMS's configuration from the environment. It
// lives outside package main so the Kubernetes manifests' test (deploy/k8s)
// can run OMS's own reader against the environment its Deployment gives it.
package omsconfig

import (
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/actors"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/fulfillment"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/config"
)

// Config is OMS's configuration from the environment.
type Config struct {
	Base config.Base
	App  app.Config
	// SweepBinding is the cron input binding's name (components/local/oms-expiry-sweep.yaml).
	SweepBinding string
	// Fulfillment sizes the fulfillment engine (HARVEST_OMS_FULFILLMENT_*,
	// HARVEST_OMS_STAGE_<NAME>_*).
	Fulfillment fulfillment.Config
	// PartnersAppID is the app id (or HTTPEndpoint name) of the outside
	// systems fulfillment calls (HARVEST_PARTNERS_APP_ID); the local
	// stand-in "partners" is its default in development only.
	PartnersAppID string
	// ExpiryReminders picks the payment-deadline reminders
	// (HARVEST_EXPIRY_REMINDERS): "order", one reminder per unpaid order, or
	// "window", one per second of deadlines (apps/oms/actors).
	ExpiryReminders string
}

const deadlinePrefix = "HARVEST_PAY_DEADLINE_"

// Read reads HARVEST_PAY_DEADLINE (default 10m), one
// HARVEST_PAY_DEADLINE_<CHANNEL> per payment channel that differs, and the
// tuning knobs, and refuses to start on any bad value.
func Read(environ []string) (Config, error) {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	r := config.FromMap(env)
	c := Config{
		Base: config.ReadBase(r, "oms", true),
		App: app.Config{
			PayDeadline:      r.Duration("HARVEST_PAY_DEADLINE", 10*time.Minute),
			ChannelDeadlines: map[string]time.Duration{},
			ReserveTTL:       r.Duration("HARVEST_OMS_RESERVE_TTL", 2*time.Minute),
			SweepGrace:       r.Duration("HARVEST_OMS_SWEEP_GRACE", 2*time.Second),
			SweepBatch:       r.Int("HARVEST_OMS_SWEEP_BATCH", 500),
			SoldOutTTL:       r.Duration("HARVEST_OMS_SOLD_OUT_TTL", time.Second),
			KeyLockWait:      r.Duration("HARVEST_OMS_KEY_LOCK_WAIT", 10*time.Second),
			SlotCheck:        r.Bool("HARVEST_OMS_SLOT_CHECK", true),
		},
		SweepBinding:    r.String("HARVEST_OMS_SWEEP_BINDING", "oms-expiry-sweep"),
		Fulfillment:     fulfillment.ReadConfig(r),
		ExpiryReminders: r.String("HARVEST_EXPIRY_REMINDERS", actors.DefaultDesign),
	}
	// The outside systems: the partners stand-in in development; production
	// names its HTTPEndpoint (deploy/k8s/components.yaml) explicitly.
	if c.Base.Development() {
		c.PartnersAppID = r.String("HARVEST_PARTNERS_APP_ID", partnersclient.DefaultAppID)
	} else {
		c.PartnersAppID = r.Required("HARVEST_PARTNERS_APP_ID")
	}
	for k := range env {
		if ch, ok := strings.CutPrefix(k, deadlinePrefix); ok && ch != "" {
			c.App.ChannelDeadlines[strings.ToUpper(ch)] = r.Duration(k, c.App.PayDeadline)
		}
	}
	if err := r.Err(); err != nil {
		return Config{}, err
	}
	if c.ExpiryReminders != actors.DesignOrder && c.ExpiryReminders != actors.DesignWindow {
		return Config{}, fmt.Errorf("HARVEST_EXPIRY_REMINDERS=%q: want %q or %q", c.ExpiryReminders, actors.DesignOrder, actors.DesignWindow)
	}
	if c.App.PayDeadline < time.Second {
		return Config{}, fmt.Errorf("HARVEST_PAY_DEADLINE=%s is too short", c.App.PayDeadline)
	}
	for ch, d := range c.App.ChannelDeadlines {
		if d < time.Second {
			return Config{}, fmt.Errorf("%s%s=%s is too short", deadlinePrefix, ch, d)
		}
	}
	return c, nil
}

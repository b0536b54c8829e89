// Package aftersalesconfig reads after-sales' configuration from the
// environment. It lives outside package main so the Kubernetes
// manifests' test (deploy/k8s) can run the reader against the
// environment its Deployment gives it.
package aftersalesconfig

import (
	"errors"
	"time"

	"github.com/harvest/harvest/apps/platform/config"
)

// Config is after-sales' configuration.
type Config struct {
	Base config.Base
	// SweepEvery is how often unfinished requests are looked at
	// (HARVEST_AFTERSALES_SWEEP_EVERY), and SweepIdle how long one must
	// have stood still to be processed again (HARVEST_AFTERSALES_SWEEP_IDLE).
	SweepEvery, SweepIdle time.Duration
	// FilterCheck is how often the cancel filter is checked and, when
	// missing, rebuilt (HARVEST_AFTERSALES_FILTER_CHECK).
	FilterCheck time.Duration
	// CrashAfterCancel (HARVEST_AFTERSALES_FAULTS, development only) makes
	// the process exit at the worst moment of a cancel whose reason holds
	// app.CrashToken: OMS has cancelled the order, after-sales has not
	// recorded it. The end-to-end crash test turns it on; production
	// refuses to start with it.
	CrashAfterCancel bool
	// PartnersAppID names the outside systems the pushes reach (TMS,
	// finance, the customers' mini-program): the partners stand-in in
	// development, the HTTPEndpoint partners-outside in production
	// (HARVEST_PARTNERS_APP_ID, required there).
	PartnersAppID string
	// PushConcurrency overrides push types' worker concurrency
	// (HARVEST_AFTERSALES_PUSH_<TYPE>, e.g. HARVEST_AFTERSALES_PUSH_REFUND=32).
	PushConcurrency map[string]int
	// PushLease is how long a claimed push is its worker's
	// (HARVEST_AFTERSALES_PUSH_LEASE): a worker that died mid-delivery
	// gives it back after this.
	PushLease time.Duration
	// LockWait bounds a pull-back's wait for its order's distributed lock
	// (HARVEST_AFTERSALES_LOCK_WAIT; then LOCK_TIMEOUT, nothing decided),
	// and LockTTL frees the lock of a holder that died
	// (HARVEST_AFTERSALES_LOCK_TTL).
	LockWait, LockTTL time.Duration
}

// PushTypes are the push types whose concurrency the environment may set.
var PushTypes = []string{"REFUND", "NONCASH_REFUND", "TMS_PICKUP", "WMS_RETURN", "REFUND_VOUCHER", "STOCK_RESTORE", "ANSWER", "NEW_ORDER"}

// Read reads the configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "aftersales", true),
		SweepEvery:  r.Duration("HARVEST_AFTERSALES_SWEEP_EVERY", 2*time.Second),
		SweepIdle:   r.Duration("HARVEST_AFTERSALES_SWEEP_IDLE", 3*time.Second),
		FilterCheck: r.Duration("HARVEST_AFTERSALES_FILTER_CHECK", 30*time.Second)}
	c.CrashAfterCancel = r.Bool("HARVEST_AFTERSALES_FAULTS", false)
	if c.Base.Development() {
		c.PartnersAppID = r.String("HARVEST_PARTNERS_APP_ID", "partners")
	} else {
		c.PartnersAppID = r.Required("HARVEST_PARTNERS_APP_ID")
	}
	c.PushLease = r.Duration("HARVEST_AFTERSALES_PUSH_LEASE", 30*time.Second)
	c.LockWait = r.Duration("HARVEST_AFTERSALES_LOCK_WAIT", 3*time.Second)
	c.LockTTL = r.Duration("HARVEST_AFTERSALES_LOCK_TTL", 30*time.Second)
	c.PushConcurrency = map[string]int{}
	for _, t := range PushTypes {
		if n := r.Int("HARVEST_AFTERSALES_PUSH_"+t, 0); n > 0 {
			c.PushConcurrency[t] = n
		}
	}
	if c.CrashAfterCancel && !c.Base.Development() {
		r.Refuse(errors.New("HARVEST_AFTERSALES_FAULTS is for development only"))
	}
	return c, r.Err()
}

// Package channelsconfig reads channels' configuration from the
// environment. It lives outside package main so the Kubernetes
// manifests' test (deploy/k8s) can run the reader against the
// environment its Deployment gives it.
package channelsconfig

import (
	"fmt"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/config"
)

// Config is channels' configuration.
type Config struct {
	Base config.Base
	// PublicAddr is the marketplaces' listener (HARVEST_PUBLIC_ADDR).
	PublicAddr string
	// Keys are each platform's app key and secret
	// (HARVEST_CHANNELS_<PLATFORM>_APP_KEY, _SECRET); a platform without a
	// secret is refused on push and not pulled. Development defaults to
	// platforms.DevKeys; production refuses them.
	Keys map[string]platforms.Keys
	// Endpoint is the app id (an HTTPEndpoint in production) each
	// platform's API is reached at (HARVEST_CHANNELS_<PLATFORM>_ENDPOINT;
	// development: the partners stand-in, HARVEST_PARTNERS_APP_ID).
	Endpoint map[string]string
	// Window is how far a signed request's timestamp may be from now
	// (HARVEST_CHANNELS_SIGN_WINDOW).
	Window time.Duration
	// PullOverlap, PullFrom and PullPage tune the pull job
	// (HARVEST_CHANNELS_PULL_OVERLAP, _PULL_FROM, _PULL_PAGE).
	PullOverlap, PullFrom time.Duration
	PullPage              int
	// SweepEvery is how often the steps that stood still are looked at
	// (HARVEST_CHANNELS_SWEEP_EVERY), SweepIdle how long one must have
	// stood still to be run again (HARVEST_CHANNELS_SWEEP_IDLE).
	SweepEvery, SweepIdle time.Duration
	// CrashAfterFetch (HARVEST_CHANNELS_FAULTS, development only) makes
	// the process exit once after fetching the second page of a Douyin pull and
	// before storing it with its cursor, when the file it names does not
	// exist yet (it is created first): the crash test's fault.
	CrashAfterFetch string
}

// Read reads the configuration and reports every bad variable.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "channels", true),
		Keys: map[string]platforms.Keys{}, Endpoint: map[string]string{}}
	c.PublicAddr = r.String("HARVEST_PUBLIC_ADDR", "127.0.0.1:8090")
	c.Window = r.Duration("HARVEST_CHANNELS_SIGN_WINDOW", 5*time.Minute)
	c.PullOverlap = r.Duration("HARVEST_CHANNELS_PULL_OVERLAP", 2*time.Minute)
	c.PullFrom = r.Duration("HARVEST_CHANNELS_PULL_FROM", 24*time.Hour)
	c.PullPage = r.Int("HARVEST_CHANNELS_PULL_PAGE", platforms.DouyinMaxPage)
	c.SweepEvery = r.Duration("HARVEST_CHANNELS_SWEEP_EVERY", 5*time.Second)
	c.SweepIdle = r.Duration("HARVEST_CHANNELS_SWEEP_IDLE", 30*time.Second)
	dev := c.Base.Development()
	stand := r.String("HARVEST_PARTNERS_APP_ID", "partners")
	for _, p := range platforms.Names {
		v := "HARVEST_CHANNELS_" + p
		def := platforms.Keys{}
		if dev {
			def = platforms.DevKeys[p]
		}
		k := platforms.Keys{AppKey: r.String(v+"_APP_KEY", def.AppKey), Secret: r.String(v+"_SECRET", def.Secret)}
		if !dev && k.Secret != "" && (k.Secret == platforms.DevKeys[p].Secret || len(k.Secret) < 16) {
			r.Refuse(fmt.Errorf("%s_SECRET: the development secret or one shorter than 16 bytes is refused in production", v))
		}
		c.Keys[p] = k
		ep := ""
		if dev {
			ep = stand
		}
		c.Endpoint[p] = r.String(v+"_ENDPOINT", ep)
		if k.Secret != "" && c.Endpoint[p] == "" {
			r.Refuse(fmt.Errorf("%s_ENDPOINT is required for a platform with keys", v))
		}
	}
	if f := r.String("HARVEST_CHANNELS_FAULTS", ""); f != "" {
		if !dev {
			r.Refuse(fmt.Errorf("HARVEST_CHANNELS_FAULTS is for development only"))
		}
		c.CrashAfterFetch = strings.TrimSpace(f)
	}
	if c.PullPage < 1 || c.PullPage > platforms.DouyinMaxPage {
		r.Refuse(fmt.Errorf("HARVEST_CHANNELS_PULL_PAGE=%d is not in 1..%d", c.PullPage, platforms.DouyinMaxPage))
	}
	return c, r.Err()
}

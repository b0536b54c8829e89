package fulfillment

import (
	goruntime "runtime"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/oms/fulfillment/runner"
	"github.com/harvest/harvest/apps/oms/fulfillment/stages"
	"github.com/harvest/harvest/apps/platform/config"
)

// StageConfig sizes one stage's workers.
type StageConfig = runner.StageConfig

// Config tunes the engine: the runner's settings and the business ones.
type Config struct {
	runner.Config
	// DefaultCapacity is a warehouse's daily capacity when operators set
	// none for the day.
	DefaultCapacity int
	// ServedProvinces are the provinces delivered to; empty: all.
	ServedProvinces []string
}

func (c Config) runner() runner.Config {
	r := c.Config
	r.Numbered = stages.Numbered
	return r
}

func (c Config) withDefaults() Config {
	c.Config = c.runner().WithDefaults()
	if c.DefaultCapacity <= 0 {
		c.DefaultCapacity = 100000
	}
	return c
}

// ReadConfig reads the engine's settings: HARVEST_OMS_FULFILLMENT_* for
// the engine and HARVEST_OMS_STAGE_<NAME>_{WORKERS,QUEUE,TIMEOUT} per
// stage, NAME being the stage's name in upper case (e.g.
// HARVEST_OMS_STAGE_WAYBILL_WORKERS=64).
func ReadConfig(r *config.Reader) Config {
	c := Config{Config: runner.Config{
		Owner:            r.String("HARVEST_OMS_FULFILLMENT_OWNER", ""),
		IOWorkers:        r.Int("HARVEST_OMS_FULFILLMENT_IO_WORKERS", 32),
		CPUWorkers:       r.Int("HARVEST_OMS_FULFILLMENT_CPU_WORKERS", goruntime.NumCPU()),
		QueueSize:        r.Int("HARVEST_OMS_FULFILLMENT_QUEUE", 256),
		LeaseTTL:         r.Duration("HARVEST_OMS_FULFILLMENT_LEASE", time.Minute),
		ClaimBatch:       r.Int("HARVEST_OMS_FULFILLMENT_CLAIM_BATCH", 200),
		MaxInFlight:      r.Int("HARVEST_OMS_FULFILLMENT_MAX_IN_FLIGHT", 1024),
		Horizon:          r.Duration("HARVEST_OMS_FULFILLMENT_HORIZON", time.Second),
		MaxAttempts:      r.Int("HARVEST_OMS_FULFILLMENT_MAX_ATTEMPTS", 12),
		BreakerThreshold: r.Int("HARVEST_OMS_FULFILLMENT_BREAKER_THRESHOLD", 5),
		BreakerCooldown:  r.Duration("HARVEST_OMS_FULFILLMENT_BREAKER_COOLDOWN", 5*time.Second),
		Stages:           map[string]StageConfig{},
	},
		DefaultCapacity: r.Int("HARVEST_OMS_WAREHOUSE_DEFAULT_CAPACITY", 100000),
	}
	if p := r.String("HARVEST_OMS_SERVED_PROVINCES", ""); p != "" {
		for _, x := range strings.Split(p, ",") {
			if x = strings.TrimSpace(x); x != "" {
				c.ServedProvinces = append(c.ServedProvinces, x)
			}
		}
	}
	for _, s := range stages.Pipeline(&stages.Ports{}) {
		k := "HARVEST_OMS_STAGE_" + strings.ToUpper(s.Name) + "_"
		c.Stages[s.Name] = StageConfig{Workers: r.Int(k+"WORKERS", 0), QueueSize: r.Int(k+"QUEUE", 0), Timeout: r.Duration(k+"TIMEOUT", 0)}
	}
	return c
}

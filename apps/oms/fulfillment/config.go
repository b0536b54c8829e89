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

// Config tunes the engine.
type Config struct {
	// Owner names this instance in leases (host:pid by default).
	Owner string
	// Stages overrides the per-stage defaults, by stage name.
	Stages map[string]StageConfig
	// IOWorkers and CPUWorkers are the default concurrency by kind.
	IOWorkers, CPUWorkers int
	// QueueSize is the default queue length of a stage.
	QueueSize int
	// LeaseTTL is how long a claim or a commit holds a unit; a unit not
	// committed within it is taken up again by catch-up.
	LeaseTTL time.Duration
	// ClaimBatch bounds the units one claim takes.
	ClaimBatch int
	// MaxInFlight bounds the units held in memory (queued or running).
	MaxInFlight int
	// Horizon bounds how long the feeder sleeps without looking at the
	// database: rows other instances make due are seen within it.
	Horizon time.Duration
	// MaxAttempts is how often a stage is retried for passing faults
	// before the unit goes to the exception queue.
	MaxAttempts int
	// RetryBase and RetryMax shape the retry backoff.
	RetryBase, RetryMax time.Duration
	// BreakerThreshold consecutive passing failures open a stage's breaker
	// for BreakerCooldown.
	BreakerThreshold int
	BreakerCooldown  time.Duration
	// DefaultCapacity is a warehouse's daily capacity when operators set
	// none for the day.
	DefaultCapacity int
	// ServedProvinces are the provinces delivered to; empty: all.
	ServedProvinces []string
}

func (c Config) runner() runner.Config {
	return runner.Config{Owner: c.Owner, Stages: c.Stages, IOWorkers: c.IOWorkers, CPUWorkers: c.CPUWorkers, QueueSize: c.QueueSize,
		LeaseTTL: c.LeaseTTL, ClaimBatch: c.ClaimBatch, MaxInFlight: c.MaxInFlight, Horizon: c.Horizon, MaxAttempts: c.MaxAttempts,
		RetryBase: c.RetryBase, RetryMax: c.RetryMax, BreakerThreshold: c.BreakerThreshold, BreakerCooldown: c.BreakerCooldown,
		Numbered: stages.Numbered}
}

func (c Config) withDefaults() Config {
	r := c.runner().WithDefaults()
	c.Owner, c.IOWorkers, c.CPUWorkers, c.QueueSize, c.LeaseTTL, c.ClaimBatch = r.Owner, r.IOWorkers, r.CPUWorkers, r.QueueSize, r.LeaseTTL, r.ClaimBatch
	c.MaxInFlight, c.Horizon, c.MaxAttempts, c.RetryBase, c.RetryMax = r.MaxInFlight, r.Horizon, r.MaxAttempts, r.RetryBase, r.RetryMax
	c.BreakerThreshold, c.BreakerCooldown = r.BreakerThreshold, r.BreakerCooldown
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
	c := Config{
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
		DefaultCapacity:  r.Int("HARVEST_OMS_WAREHOUSE_DEFAULT_CAPACITY", 100000),
		Stages:           map[string]StageConfig{},
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

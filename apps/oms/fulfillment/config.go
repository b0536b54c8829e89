package fulfillment

import (
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/config"
)

// StageConfig sizes one stage's worker.
type StageConfig struct {
	Workers   int           // goroutines running the stage
	QueueSize int           // units waiting in memory for the stage
	Timeout   time.Duration // bound of one run; past it the run is cut off
}

// Config tunes the engine.
type Config struct {
	// Owner names this instance in leases (host:pid by default).
	Owner string
	// Stages overrides the per-stage defaults.
	Stages map[Stage]StageConfig
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

func (c Config) withDefaults() Config {
	if c.Owner == "" {
		h, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	if c.IOWorkers <= 0 {
		c.IOWorkers = 32
	}
	if c.CPUWorkers <= 0 {
		c.CPUWorkers = goruntime.NumCPU()
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = time.Minute
	}
	if c.ClaimBatch <= 0 {
		c.ClaimBatch = 200
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 4 * c.QueueSize
	}
	if c.Horizon <= 0 {
		c.Horizon = time.Second
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 12
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.BreakerThreshold <= 0 {
		c.BreakerThreshold = 5
	}
	if c.BreakerCooldown <= 0 {
		c.BreakerCooldown = 5 * time.Second
	}
	if c.DefaultCapacity <= 0 {
		c.DefaultCapacity = 100000
	}
	return c
}

// stage returns the effective sizing of s.
func (c Config) stage(s Stage) StageConfig {
	sc := c.Stages[s]
	if sc.Workers <= 0 {
		switch {
		case s == StageThrottle:
			// CPU-bound in the DOMAIN table (an in-memory counter there);
			// here each run waits for a short transaction on the capacity
			// rows, shared by the takes waiting at that moment (throttle.go),
			// so it is sized like an I/O stage: the more workers wait, the
			// more takes share a transaction. With NumCPU workers, each
			// taking its own transaction, it capped the whole pipeline.
			sc.Workers = c.IOWorkers
		case kinds[s] == KindCPU:
			sc.Workers = c.CPUWorkers
		default:
			sc.Workers = c.IOWorkers
		}
	}
	if sc.QueueSize <= 0 {
		sc.QueueSize = c.QueueSize
	}
	if sc.Timeout <= 0 {
		sc.Timeout = 15 * time.Second
	}
	if max := c.LeaseTTL / 2; sc.Timeout > max {
		sc.Timeout = max
	}
	return sc
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
		Stages:           map[Stage]StageConfig{},
	}
	if p := r.String("HARVEST_OMS_SERVED_PROVINCES", ""); p != "" {
		for _, x := range strings.Split(p, ",") {
			if x = strings.TrimSpace(x); x != "" {
				c.ServedProvinces = append(c.ServedProvinces, x)
			}
		}
	}
	for s := Stage(1); s <= NumStages; s++ {
		k := "HARVEST_OMS_STAGE_" + strings.ToUpper(s.String()) + "_"
		c.Stages[s] = StageConfig{Workers: r.Int(k+"WORKERS", 0), QueueSize: r.Int(k+"QUEUE", 0), Timeout: r.Duration(k+"TIMEOUT", 0)}
	}
	return c
}

// kinds is the DOMAIN 1.6 table's last column.
var kinds = [NumStages + 1]Kind{"", KindIO, KindCPU, KindIO, KindIO, KindCPU, KindIO, KindCPU, KindIO, KindIO, KindCPU,
	KindIO, KindIO, KindCPU, KindIO, KindIO, KindIO}

// KindOf is a stage's kind.
func KindOf(s Stage) Kind { return kinds[s] }

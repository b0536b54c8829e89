package runner

import (
	"fmt"
	"os"
	goruntime "runtime"
	"time"
)

// StageConfig sizes one stage's workers.
type StageConfig struct {
	Workers   int           // goroutines running the stage
	QueueSize int           // units waiting in memory for the stage
	Timeout   time.Duration // bound of one run; past it the run is cut off
}

// Config tunes a runner.
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
	// Numbered are the names of the stages rows stored by number before
	// stages had names (number i+1 is Numbered[i]); such rows still read.
	Numbered []string
}

// WithDefaults fills what c leaves unset.
func (c Config) WithDefaults() Config {
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
	return c
}

// stage returns the effective sizing of a stage sized like kind.
func (c Config) stage(name string, kind Kind) StageConfig {
	sc := c.Stages[name]
	if sc.Workers <= 0 {
		sc.Workers = c.IOWorkers
		if kind == CPU {
			sc.Workers = c.CPUWorkers
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

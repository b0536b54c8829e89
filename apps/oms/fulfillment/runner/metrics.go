package runner

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Stage metrics on /metrics, labelled by stage name.
var (
	queueDepth = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "harvest_oms_fulfillment_queue_depth", Help: "Units waiting in a stage's in-memory queue.",
	}, []string{"stage"})
	inFlight = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "harvest_oms_fulfillment_in_flight", Help: "Units a stage is running now.",
	}, []string{"stage"})
	stageSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "harvest_oms_fulfillment_stage_seconds", Help: "Duration of a stage run, commit included, by stage.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"stage"})
	outcomes = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_fulfillment_outcomes_total", Help: "Stage runs by stage and outcome (NEXT, PAUSE, RETRY, FAIL, CANCEL, LOST).",
	}, []string{"stage", "outcome"})
	breakerOpen = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "harvest_oms_fulfillment_breaker_open", Help: "1 while a stage's circuit breaker is open.",
	}, []string{"stage"})
	heldUnits = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "harvest_oms_fulfillment_held_units", Help: "Units this instance holds in memory (queued or running).",
	})
	suspendedGauge = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "harvest_oms_fulfillment_suspended", Help: "1 while operators have suspended the pipeline (as this instance last read the switch).",
	})
	claimedUnits = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_fulfillment_claimed_total", Help: "Units claimed, by how (due, catchup).",
	}, []string{"how"})
)

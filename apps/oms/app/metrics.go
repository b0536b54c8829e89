package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	ordersPlaced = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_orders_placed_total", Help: "Orders accepted, by source and initial status.",
	}, []string{"source", "status"})
	ordersCancelled = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_orders_cancelled_total", Help: "Orders cancelled, by reason.",
	}, []string{"reason"})
	ordersExpired = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_orders_expired_total", Help: "Unpaid orders cancelled at their deadline, by what caught them (reminder or sweep).",
	}, []string{"by"})
	placeSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "harvest_oms_place_order_seconds", Help: "Accept-order latency, by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.002, 2, 12),
	}, []string{"outcome"})
	paymentsApplied = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_payments_total", Help: "Verified trades applied, by result (paid, rejected, duplicate).",
	}, []string{"result"})
)

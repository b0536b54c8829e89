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
	windowFireDelay = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "harvest_oms_deadline_window_fire_delay_seconds", Help: "How late a deadline window's reminder fired after the window's end (negative: early).",
		Buckets: []float64{-1, 0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
	})
	windowPassSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "harvest_oms_deadline_window_pass_seconds", Help: "How long a deadline window's pass took to cancel its orders.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
	})
	orderFireDelay = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "harvest_oms_deadline_order_fire_delay_seconds", Help: "How late an order's own deadline reminder fired after its deadline (negative: early).",
		Buckets: []float64{-1, 0, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
	})
	orderPassSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name: "harvest_oms_deadline_order_pass_seconds", Help: "How long an order's deadline reminder took to cancel it.",
		Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30},
	})
	soldOutRefusals = promauto.NewCounter(prometheus.CounterOpts{
		Name: "harvest_oms_sold_out_refusals_total", Help: "Placements refused OUT_OF_STOCK from OMS's memory of a SKU inventory just refused, without asking inventory.",
	})
	paymentsApplied = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "harvest_oms_payments_total", Help: "Verified trades applied, by result (paid, rejected, duplicate).",
	}, []string{"result"})
)

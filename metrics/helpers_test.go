package metrics_test

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
)

func metricsOf(reg prometheus.Registerer, store metrics.Backlogs, routes *smpp.Routes, now func() time.Time) {
	metrics.RegisterBacklog(reg, store, routes, []string{"mtn", "orange", "nexttel"}, now)
}

func register(reg prometheus.Registerer, d *delivery.Dispatcher) {
	metrics.RegisterOutcomes(reg, d.Outcomes, nil)
}

package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/retention"
)

// RegisterRetention exposes what the purge removed since this gateway
// started: guichet_retention_purged_total{kind="journal"|"sms_bodies"|
// "audit"|"callbacks"|"cases"} (deleted, redacted or pseudonymised rows).
func RegisterRetention(reg prometheus.Registerer, totals func() retention.Counts) {
	for kind, get := range map[string]func(retention.Counts) int64{
		"journal": func(c retention.Counts) int64 { return c.Journal }, "sms_bodies": func(c retention.Counts) int64 { return c.SMSBodies },
		"audit": func(c retention.Counts) int64 { return c.Audit }, "callbacks": func(c retention.Counts) int64 { return c.Callbacks },
		"cases": func(c retention.Counts) int64 { return c.Cases },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_retention_purged_total", Help: "Rows past their retention deleted, redacted (SMS bodies) or pseudonymised (closed cases), by kind.",
			ConstLabels: prometheus.Labels{"kind": kind},
		}, func() float64 { return float64(get(totals())) }))
	}
}

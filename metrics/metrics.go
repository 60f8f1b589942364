// Package metrics provides the gateway's Prometheus metrics: sessions started
// and ended by service and outcome, where abandoned sessions stopped, and the
// hop latency per dialect.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/guichet/guichet/ussd"
)

// Metrics records the engine's outcomes and the handlers' hops. It is a
// ussd.Recorder.
type Metrics struct {
	reg       *prometheus.Registry
	started   *prometheus.CounterVec
	ended     *prometheus.CounterVec
	abandoned *prometheus.CounterVec
	hops      *prometheus.HistogramVec
}

var _ ussd.Recorder = (*Metrics)(nil)

// New returns metrics on their own registry, with the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_sessions_started_total",
			Help: "Callers who entered a service.",
		}, []string{"service"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_sessions_ended_total",
			Help: "Sessions ended, by the service they were in and how they ended.",
		}, []string{"service", "outcome"}),
		abandoned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_sessions_abandoned_total",
			Help: "Sessions abandoned or timed out, by the node where the caller stopped.",
		}, []string{"service", "node"}),
		hops: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "guichet_hop_duration_seconds",
			Help:    "Time to answer one USSD hop, by dialect.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"dialect"}),
	}
	m.reg.MustRegister(m.started, m.ended, m.abandoned, m.hops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other components register their own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Started counts a caller entering a service.
func (m *Metrics) Started(_ context.Context, service, _ string) {
	m.started.WithLabelValues(service).Inc()
}

// Ended counts a session's outcome, and where it stopped if the caller left.
func (m *Metrics) Ended(_ context.Context, o ussd.Outcome) {
	m.ended.WithLabelValues(o.Service, o.Result).Inc()
	if o.Result == ussd.Abandoned || o.Result == ussd.TimedOut {
		node := o.Node
		if node == "" {
			node = "home"
		}
		m.abandoned.WithLabelValues(o.Service, node).Inc()
	}
}

// ObserveHop records one hop's duration.
func (m *Metrics) ObserveHop(dialect string, d time.Duration) {
	m.hops.WithLabelValues(dialect).Observe(d.Seconds())
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// RegisterBuildInfo exposes guichet_build_info{version,commit,go_version}
// 1, to join on for the build a fleet's instances run.
func RegisterBuildInfo(reg prometheus.Registerer, version, commit, goVersion string) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "guichet_build_info", Help: "The build this process runs: its module version, VCS commit and Go version.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit, "go_version": goVersion},
	}, func() float64 { return 1 }))
}

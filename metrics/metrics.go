// Package metrics provides the gateway's Prometheus metrics: sessions started
// and ended by service and outcome, where abandoned sessions stopped, and the
// hop latency per dialect.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sync"
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
	families  *families
	started   *prometheus.CounterVec
	ended     *prometheus.CounterVec
	abandoned *prometheus.CounterVec
	hops      *prometheus.HistogramVec
}

var _ ussd.Recorder = (*Metrics)(nil)

// New returns metrics on their own registry, with the Go runtime's.
func New() *Metrics {
	m := &Metrics{
		reg:      prometheus.NewRegistry(),
		families: &families{names: map[string]bool{}},
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
	m.families.reg = m.reg
	m.families.MustRegister(m.started, m.ended, m.abandoned, m.hops,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where other components register their own metrics.
func (m *Metrics) Registry() prometheus.Registerer { return m.families }

// Families names every metric family registered, whether or not it has a
// series yet (a vector before its first label values): what a dashboard
// or an alert rule may query.
func (m *Metrics) Families() []string {
	m.families.mu.Lock()
	defer m.families.mu.Unlock()
	out := make([]string, 0, len(m.families.names))
	for n := range m.families.names {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// families registers on a registry and keeps the names its collectors
// describe.
type families struct {
	reg   *prometheus.Registry
	mu    sync.Mutex
	names map[string]bool
}

// fqName reads a Desc's name: its String is the only way out of it.
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (f *families) Register(c prometheus.Collector) error {
	if err := f.reg.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	f.mu.Lock()
	defer f.mu.Unlock()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			f.names[m[1]] = true
		}
	}
	return nil
}

func (f *families) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := f.Register(c); err != nil {
			panic(err)
		}
	}
}

func (f *families) Unregister(c prometheus.Collector) bool { return f.reg.Unregister(c) }

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

// RegisterReady exposes guichet_ready: 1 while the gateway would answer
// /readyz 200 (its stores answer, it is not shutting down), asked when
// scraped.
func RegisterReady(reg prometheus.Registerer, ready func() bool) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "guichet_ready", Help: "1 while the gateway is ready (/readyz 200: its stores answer, it is not shutting down), 0 otherwise.",
	}, func() float64 {
		if ready() {
			return 1
		}
		return 0
	}))
}

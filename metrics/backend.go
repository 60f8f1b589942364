package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/adapters/backend"
)

// Backends is the metrics of the ministries' connectors, registered once
// for all: guichet_backend_request_duration_seconds{backend} (each
// attempt the breaker let through), guichet_backend_errors_total{backend,
// kind} (failed attempts by backend.Kind…, "open" for those the breaker
// refused) and guichet_backend_breaker_state{backend}.
type Backends struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	states   *breakerStates
}

// breakerStates is guichet_backend_breaker_state, each breaker read when
// scraped.
type breakerStates struct {
	desc     *prometheus.Desc
	mu       sync.Mutex
	breakers map[string]*backend.Breaker
}

func (b *breakerStates) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *breakerStates) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for name, br := range b.breakers {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, BreakerValue(br.State()), name)
	}
}

// kinds are every kind an attempt fails with.
var kinds = []string{backend.KindTimeout, backend.KindConnect, backend.KindTLS, backend.KindStatus, backend.KindTransient,
	backend.KindBroken, backend.KindCancelled, backend.KindOpen, backend.KindInternal}

// NewBackends registers the connectors' histogram and errors on reg.
func NewBackends(reg prometheus.Registerer) *Backends {
	b := &Backends{
		states: &breakerStates{breakers: map[string]*backend.Breaker{},
			desc: prometheus.NewDesc("guichet_backend_breaker_state",
				"A backend's circuit breaker: 0 closed, 1 half-open (a probe may go), 2 open (calls refused).", []string{"backend"}, nil)},
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "guichet_backend_request_duration_seconds",
			Help:    "Time of each attempt at a ministry's backend (answered or failed), by backend.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2, 5},
		}, []string{"backend"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_backend_errors_total",
			Help: "Attempts at a ministry's backend that failed, by backend and kind (open: refused by the breaker, not attempted).",
		}, []string{"backend", "kind"}),
	}
	reg.MustRegister(b.duration, b.errors, b.states)
	return b
}

type backendObserver struct {
	duration prometheus.Observer
	errors   map[string]prometheus.Counter // every kind, made at once
}

// Observer returns what the backend named name tells of its attempts
// (backend.Config.Observer).
func (b *Backends) Observer(name string) backend.Observer {
	o := &backendObserver{duration: b.duration.WithLabelValues(name), errors: map[string]prometheus.Counter{}}
	for _, k := range kinds {
		o.errors[k] = b.errors.WithLabelValues(name, k)
	}
	return o
}

func (o *backendObserver) Attempted(d time.Duration, kind string) {
	o.duration.Observe(d.Seconds())
	if kind == "" {
		return
	}
	if c, ok := o.errors[kind]; ok {
		c.Inc()
		return
	}
	o.errors[backend.KindInternal].Inc()
}

func (o *backendObserver) Refused() { o.errors[backend.KindOpen].Inc() }

// BreakerValue is a breaker's state as guichet_backend_breaker_state
// says it: 0 closed, 1 half-open, 2 open.
func BreakerValue(s backend.State) float64 {
	switch s {
	case backend.Open:
		return 2
	case backend.HalfOpen:
		return 1
	}
	return 0
}

// Breaker exposes the breaker of the backend named name, read when
// scraped: guichet_backend_breaker_state{backend} (BreakerValue).
func (b *Backends) Breaker(name string, br *backend.Breaker) {
	b.states.mu.Lock()
	defer b.states.mu.Unlock()
	b.states.breakers[name] = br
}

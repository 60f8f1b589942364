package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// API is the ministries' API's requests: guichet_api_requests_total{route,
// code} and guichet_api_request_duration_seconds{route}, route being the
// method and the pattern as mounted ("GET /api/v1/cases/{ref}").
type API struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewAPI registers the API's metrics on reg.
func NewAPI(reg prometheus.Registerer) *API {
	a := &API{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_api_requests_total", Help: "Requests to the ministries' API answered, by route pattern and HTTP status.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "guichet_api_request_duration_seconds", Help: "Time to answer a request to the ministries' API, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	reg.MustRegister(a.requests, a.duration)
	return a
}

// Observe counts one request (api.Server.Observe).
func (a *API) Observe(route string, code int, d time.Duration) {
	a.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	a.duration.WithLabelValues(route).Observe(d.Seconds())
}

package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/adapters/rest"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/metrics"
)

// TestBackendMetrics calls the REST connector of adapters/rest's
// testdata against a local server that answers, then fails until the
// breaker opens, and reads the backend's series after each step.
func TestBackendMetrics(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(status.Load()))
		w.Write([]byte(`{"data": {"reference": "20000011", "status": "ready", "updated_on": "2026-11-30", "history": [{"step": "printed"}]}}`))
	}))
	defer srv.Close()
	data, err := os.ReadFile("../adapters/rest/testdata/backend.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg backend.Config
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	none := 0
	cfg.Endpoint, cfg.Retries, cfg.Breaker = srv.URL+"/v1", &none, backend.BreakerConfig{Failures: 2, Open: time.Hour}
	reg := prometheus.NewRegistry()
	mb := metrics.NewBackends(reg)
	cfg.Observer = mb.Observer("registry")
	c, err := rest.New(cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	mb.Breaker("registry", c.Breaker())
	call := menus.Call{Op: "cases.track", Service: "birth-certificate", Phone: "+237677000001", Lang: "fr", Args: map[string]string{"ref": "20000011"}}

	for _, step := range []struct {
		name     string
		status   int
		calls    int
		attempts float64 // observations in the histogram
		failed   float64 // errors of kind status
		open     float64 // errors of kind open
		breaker  float64
	}{
		{name: "answering", status: http.StatusOK, calls: 2, attempts: 2, breaker: 0},
		{name: "failing: the breaker opens", status: http.StatusServiceUnavailable, calls: 2, attempts: 4, failed: 2, breaker: 2},
		{name: "open: not attempted", status: http.StatusOK, calls: 3, attempts: 4, failed: 2, open: 3, breaker: 2},
	} {
		status.Store(int32(step.status))
		for range step.calls {
			c.Do(t.Context(), call)
		}
		for _, s := range []struct {
			name   string
			labels []string
			want   float64
		}{
			{"guichet_backend_request_duration_seconds", []string{"backend", "registry"}, step.attempts},
			{"guichet_backend_errors_total", []string{"backend", "registry", "kind", backend.KindStatus}, step.failed},
			{"guichet_backend_errors_total", []string{"backend", "registry", "kind", backend.KindOpen}, step.open},
			{"guichet_backend_errors_total", []string{"backend", "registry", "kind", backend.KindTimeout}, 0},
			{"guichet_backend_breaker_state", []string{"backend", "registry"}, step.breaker},
		} {
			if got := value(t, reg, s.name, s.labels...); got != s.want {
				t.Errorf("%s: %s%v = %v, want %v", step.name, s.name, s.labels, got, s.want)
			}
		}
	}
}

// TestBreakerValue spells every state as the alert rules read it.
func TestBreakerValue(t *testing.T) {
	for s, want := range map[backend.State]float64{backend.Closed: 0, backend.HalfOpen: 1, backend.Open: 2} {
		if got := metrics.BreakerValue(s); got != want {
			t.Errorf("BreakerValue(%v) = %v, want %v", s, got, want)
		}
	}
}

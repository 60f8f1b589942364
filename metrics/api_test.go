package metrics_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/metrics"
)

// TestAPIMetrics sends requests through the real API router and reads
// them counted by route pattern and status: never by path, which holds
// case references.
func TestAPIMetrics(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	r := chi.NewRouter()
	(&api.Server{Catalogue: cat, Keys: &apikey.Memory{}, Observe: metrics.NewAPI(reg).Observe, Log: slog.New(slog.DiscardHandler)}).Routes(r)
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, req := range []struct{ method, path, key string }{
		{"GET", "/api/v1/services", ""},
		{"GET", "/api/v1/cases/20000011", ""},
		{"GET", "/api/v1/cases/20000029", "guess"},
		{"POST", "/api/v1/cases/20000011/events", ""},
	} {
		hr, _ := http.NewRequest(req.method, srv.URL+req.path, nil)
		if req.key != "" {
			hr.Header.Set("Authorization", "Bearer "+req.key)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, c := range []struct {
		route, code string
		want        float64
	}{
		{"GET /api/v1/services", "200", 1},
		{"GET /api/v1/cases/{ref}", "401", 2},
		{"POST /api/v1/cases/{ref}/events", "401", 1},
	} {
		if got := value(t, reg, "guichet_api_requests_total", "code", c.code, "route", c.route); got != c.want {
			t.Errorf("guichet_api_requests_total{route=%q,code=%q} = %v, want %v", c.route, c.code, got, c.want)
		}
	}
	if got := value(t, reg, "guichet_api_request_duration_seconds", "route", "GET /api/v1/cases/{ref}"); got != 2 {
		t.Errorf("durations of GET /api/v1/cases/{ref} = %v, want 2", got)
	}
	fams, _ := reg.Gather()
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "2000") {
					t.Errorf("%s has a reference in its label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

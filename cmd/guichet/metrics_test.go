package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guichet/guichet/phone/phonetest"
)

// required are the families issue 14 asks of the gateway (docs/METRICS.md).
var required = []string{
	"guichet_outbox_backlog", "guichet_outbox_oldest_age_seconds", "guichet_sms_outcomes_total",
	"guichet_smpp_submit_duration_seconds", "guichet_smpp_window_in_use", "guichet_smpp_window_size",
	"guichet_smpp_submit_timeouts_total", "guichet_smpp_submit_failures_total", "guichet_smpp_binds_bound",
	"guichet_ussd_hops_busy_total", "guichet_ussd_hops_in_flight",
	"guichet_sms_dialogue_inputs_total", "guichet_sms_dialogue_in_flight", "guichet_sms_dialogue_busy_total",
	"guichet_backend_request_duration_seconds", "guichet_backend_errors_total",
	"guichet_api_requests_total", "guichet_api_request_duration_seconds",
	"guichet_backend_breaker_state", "guichet_signin_failures_total", "guichet_signin_delayed_total", "guichet_ready",
}

// metricName finds the metric names in a PromQL expression: ours, by
// their prefix (up and the like are Prometheus's own).
var metricName = regexp.MustCompile(`\bguichet_[a-z0-9_]+`)

// TestMetricsFamilies builds the gateway of testdata/operators.yaml (its
// SMSC simulator included) and holds what it registers to the issue's
// list, and to every metric that deploy/'s dashboard and alert rules
// query: a renamed metric fails here, not on a night on call.
func TestMetricsFamilies(t *testing.T) {
	env := map[string]string{"MTN_KEY": "mtn-s3cret"}
	cfg, err := loadConfig([]string{"--config", "testdata/operators.yaml"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	g, err := build(t.Context(), cfg, phonetest.NewLog(t).Logger(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer g.close()
	families := g.metrics.Families()
	registered := func(name string) bool {
		if slices.Contains(families, name) {
			return true
		}
		for _, suffix := range []string{"_bucket", "_count", "_sum"} { // a histogram's series
			if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(families, base) {
				return true
			}
		}
		return false
	}
	for _, name := range required {
		if !slices.Contains(families, name) {
			t.Errorf("the gateway does not register %s", name)
		}
	}

	queried := map[string][]string{} // metric → where
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	data, err := os.ReadFile("../../deploy/grafana/guichet.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, m := range metricName.FindAllString(target.Expr, -1) {
				queried[m] = append(queried[m], "panel "+p.Title)
			}
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			for _, m := range metricName.FindAllString(q, -1) {
				queried[m] = append(queried[m], "variable "+v.Name)
			}
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	data, err = os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("the alert rules: %v", err)
	}
	alerts := 0
	for _, gr := range rules.Groups {
		for _, r := range gr.Rules {
			alerts++
			for _, m := range metricName.FindAllString(r.Expr, -1) {
				queried[m] = append(queried[m], "alert "+r.Alert)
			}
		}
	}
	if len(queried) < 10 || alerts < 8 {
		t.Fatalf("read %d metrics in the dashboard and %d alert rules: the files' shape changed?", len(queried), alerts)
	}
	for m, where := range queried {
		if !registered(m) {
			t.Errorf("%s queries %s, which the gateway does not register", strings.Join(where, ", "), m)
		}
	}

	// The families that need no traffic are on /metrics from the start.
	rec := newRecorder()
	g.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{"# TYPE guichet_ready gauge", `guichet_outbox_backlog{operator="simulator"} `,
		`guichet_smpp_window_size{operator="simulator"} `, "# TYPE guichet_ussd_hops_in_flight gauge", "guichet_signin_delayed_total 0"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

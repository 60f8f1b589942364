package metrics_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/ussd"
)

// stuckStore is a session store whose updates wait for release: the hop
// stays in flight.
type stuckStore struct {
	*sessions.Memory
	entered chan struct{}
	release chan struct{}
}

func (s stuckStore) Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.Memory.Update(ctx, key, ttl, fn)
}

type noBackend struct{}

func (noBackend) Do(context.Context, menus.Call) (menus.Result, error) { return menus.Result{}, nil }

// TestHopsMetrics holds the real engine's one hop in flight and sends it
// more, from two operators: they are turned away busy, counted by operator.
func TestHopsMetrics(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	st := stuckStore{Memory: sessions.NewMemory(nil), entered: make(chan struct{}), release: make(chan struct{})}
	eng := ussd.NewEngine(cat, st, noBackend{}, nil, ussd.Config{MaxInFlight: 1}, slog.New(slog.DiscardHandler))
	reg := prometheus.NewRegistry()
	metrics.RegisterHops(reg, eng)
	hop := func(session, operator string) ussd.Request {
		return ussd.Request{SessionID: session, Phone: "+237677000001", ServiceCode: "*123#", Operator: operator, Dialect: "generic"}
	}
	done := make(chan struct{})
	go func() { eng.Step(context.Background(), hop("s1", "mtn")); close(done) }()
	<-st.entered
	for _, op := range []string{"mtn", "orange", "orange"} {
		if rep, _ := eng.Step(t.Context(), hop("s2", op)); !rep.End {
			t.Fatalf("a hop over the limit got %+v, want the busy screen", rep)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"guichet_ussd_hops_in_flight", nil, 1},
		{"guichet_ussd_hops_busy_total", []string{"operator", "mtn"}, 1},
		{"guichet_ussd_hops_busy_total", []string{"operator", "orange"}, 2},
	} {
		if got := value(t, reg, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	close(st.release)
	<-done
	if got := value(t, reg, "guichet_ussd_hops_in_flight"); got != 0 {
		t.Errorf("in flight once answered = %v, want 0", got)
	}
}

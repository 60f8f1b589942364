package metrics_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// TestOutboxMetrics queues SMS in a memory outbox, reads the backlog by
// operator, drains it through a real Dispatcher to an SMSC simulator that
// throttles and sends receipts, and reads the outcomes by operator and
// result, receipts' included.
func TestOutboxMetrics(t *testing.T) {
	t0 := time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC)
	// The clock is read by the receipts applied in the background, while
	// the test moves it on.
	var at atomic.Int64
	set := func(t time.Time) { at.Store(t.UnixNano()) }
	clock := func() time.Time { return time.Unix(0, at.Load()).UTC() }
	set(t0)
	store := outbox.NewMemory()
	store.Now = clock
	routes, err := smpp.NewRoutes(smpp.Cameroon, "")
	if err != nil {
		t.Fatal(err)
	}
	receipts := &delivery.Receipts{Store: store}
	b, _ := bindsTo(t, smsctest.Options{ThrottleEvery: 3, Receipts: true}, 0, receipts.Handle("mtn"))
	reg := prometheus.NewRegistry()
	metrics.RegisterBacklog(reg, store, routes, []string{"mtn", "orange", "nexttel"}, clock)
	d := &delivery.Dispatcher{Store: store, Routes: routes, Senders: map[string]delivery.Sender{"mtn": b}, Source: "8080",
		ThrottlePause: time.Millisecond, BackoffBase: time.Millisecond, Now: clock}
	metrics.RegisterOutcomes(reg, d.Outcomes, receipts.Results)

	enqueue := func(phones ...string) {
		t.Helper()
		var msgs []outbox.Message
		for _, p := range phones {
			msgs = append(msgs, outbox.Message{Phone: p, Lang: "fr", Kind: "moved", Body: "Votre dossier avance."})
		}
		if err := store.Enqueue(t.Context(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("+237677000001", "+237677000002", "+237677000003") // mtn
	set(t0.Add(90 * time.Second))
	enqueue("+237699000001") // orange, not bound here
	enqueue("+33612345678")  // no route
	set(t0.Add(5 * time.Minute))

	for _, c := range []struct {
		name, op string
		want     float64
	}{
		{"guichet_outbox_backlog", "mtn", 3},
		{"guichet_outbox_oldest_age_seconds", "mtn", 300},
		{"guichet_outbox_backlog", "orange", 1},
		{"guichet_outbox_oldest_age_seconds", "orange", 210},
		{"guichet_outbox_backlog", "nexttel", 0}, // configured: there, at 0
		{"guichet_outbox_oldest_age_seconds", "nexttel", 0},
		{"guichet_outbox_backlog", "none", 1},
	} {
		if got := value(t, reg, c.name, "operator", c.op); got != c.want {
			t.Errorf("before the drain, %s{operator=%q} = %v, want %v", c.name, c.op, got, c.want)
		}
	}

	// Every third submit is throttled, then sent: 3 sent for mtn, 1
	// throttled; orange's has no bind (deferred); the French number fails.
	for range 5 {
		if _, err := d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		set(clock().Add(time.Minute)) // past every backoff
	}
	for _, c := range []struct {
		op, result string
		want       float64
	}{
		{"mtn", delivery.ResultSent, 3},
		{"mtn", delivery.ResultThrottled, 1},
		{"mtn", delivery.ResultFailed, 0},
		{"none", delivery.ResultFailed, 1},
	} {
		if got := value(t, reg, "guichet_sms_outcomes_total", "operator", c.op, "result", c.result); got != c.want {
			t.Errorf("guichet_sms_outcomes_total{operator=%q,result=%q} = %v, want %v", c.op, c.result, got, c.want)
		}
	}
	if got := value(t, reg, "guichet_sms_outcomes_total", "operator", "orange", "result", delivery.ResultDeferred); got < 1 {
		t.Errorf("orange's deferred = %v, want at least 1 (no bind)", got)
	}
	// The SMSC's receipts (DELIVRD) come back for the three sent.
	deadline := time.Now().Add(5 * time.Second)
	for value(t, reg, "guichet_sms_outcomes_total", "operator", "mtn", "result", delivery.ResultDelivered) != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("mtn's delivered = %v, want 3", value(t, reg, "guichet_sms_outcomes_total", "operator", "mtn", "result", delivery.ResultDelivered))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := value(t, reg, "guichet_sms_outcomes_total", "operator", "mtn", "result", delivery.ResultUndeliverable); got != 0 {
		t.Errorf("mtn's undeliverable = %v, want 0", got)
	}
	if got := value(t, reg, "guichet_outbox_backlog", "operator", "mtn"); got != 0 {
		t.Errorf("after the drain, mtn's backlog = %v, want 0", got)
	}
	if got := value(t, reg, "guichet_outbox_backlog", "operator", "orange"); got != 1 {
		t.Errorf("after the drain, orange's backlog = %v, want 1 (no bind)", got)
	}
}

// failingBacklog is a store whose backlog query fails.
type failingBacklog struct{}

func (failingBacklog) Backlog(ctx context.Context, _ int) ([]outbox.Backlog, error) {
	return nil, context.DeadlineExceeded
}

// TestBacklogError counts a failed query and still serves the scrape.
func TestBacklogError(t *testing.T) {
	reg := prometheus.NewRegistry()
	routes, _ := smpp.NewRoutes(smpp.Cameroon, "")
	metrics.RegisterBacklog(reg, failingBacklog{}, routes, []string{"mtn"}, nil)
	value(t, reg, "guichet_outbox_backlog", "operator", "mtn")
	if got := value(t, reg, "guichet_outbox_backlog_errors_total"); got != 2 {
		t.Errorf("errors after two scrapes = %v, want 2", got)
	}
	if got := value(t, reg, "guichet_outbox_backlog", "operator", "mtn"); got != -1 {
		t.Errorf("backlog of a failed query = %v, want no series", got)
	}
}

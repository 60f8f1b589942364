package metrics_test

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/staff"
)

// TestSignInMetrics guesses at the real console's sign-in until it makes
// the guesser wait: each wrong guess is a failure, each attempt told to
// wait is a delay, not a failure (no password is checked).
func TestSignInMetrics(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	store := staff.NewMemory()
	c := &hotline.Console{Accounts: store, Trail: store, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		TryBackoff: staff.Backoff{Free: 3, First: time.Minute, Max: time.Hour, Forget: time.Hour}}
	reg := prometheus.NewRegistry()
	metrics.RegisterSignIns(reg, c.SignInStats)
	addr := netip.MustParseAddr("192.0.2.7")
	for _, step := range []struct {
		tries           int
		failed, delayed float64
	}{
		{tries: 3, failed: 3},             // free tries, each wrong
		{tries: 2, failed: 3, delayed: 2}, // told to wait
	} {
		for range step.tries {
			if _, _, _, err := c.SignIn(t.Context(), "awa", "wrong guess!", addr); err == nil {
				t.Fatalf("a wrong guess signed in: %v", err)
			}
		}
		if got := value(t, reg, "guichet_signin_failures_total"); got != step.failed {
			t.Errorf("failures = %v, want %v", got, step.failed)
		}
		if got := value(t, reg, "guichet_signin_delayed_total"); got != step.delayed {
			t.Errorf("delayed = %v, want %v", got, step.delayed)
		}
	}
}

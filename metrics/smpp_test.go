package metrics_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// bindsTo returns one bind to an SMSC simulator with opts, up, its
// submits told to the operator mtn's metrics on a registry of its own,
// what the SMSC sends to h (nil: refused).
func bindsTo(t *testing.T, opts smsctest.Options, respTimeout time.Duration, h smpp.Handler) (*smpp.Binds, *prometheus.Registry) {
	t.Helper()
	srv := smsctest.NewServer(opts)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	sm := metrics.NewSMPP(reg)
	b := smpp.NewBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: 4, RespTimeout: respTimeout, Observer: sm.Observer("mtn")}, 1, nil)
	sm.Binds("mtn", b, b)
	b.Start(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		b.Close(ctx)
	})
	for deadline := time.Now().Add(5 * time.Second); !b.Up(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the bind did not come up")
		}
	}
	return b, reg
}

// TestSMPPMetrics submits to a real SMSC simulator and reads what the
// operator's series say: every answer observed once in the histogram,
// refusals by status name, silence as timeouts.
func TestSMPPMetrics(t *testing.T) {
	for _, tc := range []struct {
		name        string
		opts        smsctest.Options
		respTimeout time.Duration
		submits     int
		answered    float64 // observations in the histogram
		throttled   float64 // failures ESME_RTHROTTLED
		nacked      float64 // failures ESME_RINVCMDID (generic_nack)
		timeouts    float64
	}{
		{name: "accepted", submits: 5, answered: 5},
		{name: "every other throttled", opts: smsctest.Options{ThrottleEvery: 2}, submits: 6, answered: 6, throttled: 3},
		{name: "refused as generic_nack", opts: smsctest.Options{NackSubmits: true}, submits: 2, answered: 2, nacked: 2},
		{name: "silent SMSC", opts: smsctest.Options{Ignore: []uint32{smpp.CmdSubmitSM}}, respTimeout: 100 * time.Millisecond, submits: 2, timeouts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, reg := bindsTo(t, tc.opts, tc.respTimeout, nil)
			for range tc.submits {
				b.Submit(t.Context(), &smpp.SubmitSM{SourceAddr: "8080", DestAddr: "237677000001", ShortMessage: []byte("Bonjour")})
			}
			for _, c := range []struct {
				name   string
				labels []string
				want   float64
			}{
				{"guichet_smpp_submit_duration_seconds", []string{"operator", "mtn"}, tc.answered},
				{"guichet_smpp_submit_failures_total", []string{"command_status", "ESME_RTHROTTLED", "operator", "mtn"}, tc.throttled},
				{"guichet_smpp_submit_failures_total", []string{"command_status", "ESME_RINVCMDID", "operator", "mtn"}, tc.nacked},
				{"guichet_smpp_submit_timeouts_total", []string{"operator", "mtn"}, tc.timeouts},
				{"guichet_smpp_window_in_use", []string{"operator", "mtn"}, 0}, // every submit ended
				{"guichet_smpp_window_size", []string{"operator", "mtn"}, 4},
				{"guichet_smpp_binds_bound", []string{"mode", "transceiver", "operator", "mtn"}, 1},
			} {
				if got := value(t, reg, c.name, c.labels...); got != c.want {
					t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
				}
			}
		})
	}
}

// TestSMPPWindowInUse holds submits on a silent SMSC and reads them in
// the window while they wait.
func TestSMPPWindowInUse(t *testing.T) {
	b, reg := bindsTo(t, smsctest.Options{Ignore: []uint32{smpp.CmdSubmitSM}}, 2*time.Second, nil)
	done := make(chan struct{})
	for range 3 {
		go func() {
			b.Submit(context.Background(), &smpp.SubmitSM{SourceAddr: "8080", DestAddr: "237677000001", ShortMessage: []byte("x")})
			done <- struct{}{}
		}()
	}
	deadline := time.Now().Add(time.Second)
	for value(t, reg, "guichet_smpp_window_in_use", "operator", "mtn") != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("window in use = %v, want 3 submits waiting", value(t, reg, "guichet_smpp_window_in_use", "operator", "mtn"))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 3 {
		<-done
	}
}

// TestSMPPObserverAllocates nothing: it runs once per submit.
func TestSMPPObserverAllocates(t *testing.T) {
	o := metrics.NewSMPP(prometheus.NewRegistry()).Observer("mtn")
	for _, status := range []uint32{smpp.StatusOK, smpp.StatusThrottled, 0x4AB} {
		if n := testing.AllocsPerRun(100, func() { o.Submitted(3*time.Millisecond, status) }); n != 0 {
			t.Errorf("Submitted(status %#x) allocates %v times, want 0", status, n)
		}
	}
}

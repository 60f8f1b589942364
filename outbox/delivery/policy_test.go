package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
)

// sender is a Sender of function fields.
type sender struct {
	SubmitFn func(ctx context.Context, m *smpp.SubmitSM) (string, error)
}

var _ delivery.Sender = (*sender)(nil)

func (s *sender) Name() string { return "fake-1" }
func (s *sender) Submit(ctx context.Context, m *smpp.SubmitSM) (string, error) {
	return s.SubmitFn(ctx, m)
}

type routeAll struct{}

func (routeAll) Operator(string) (string, bool) { return "fake", true }

// Each error of a submit is retried with backoff, given up with its reason,
// as the policy says; the configuration may change the policy.
func TestDispatchPolicy(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		label  string
		err    error
		policy map[uint32]string
		status string
		reason string
		wait   time.Duration // not claimable before now+wait
	}{
		{"queue full", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusMsgQFul}, nil, outbox.MessagePending, "ESME_RMSGQFUL (0x14)", 5 * time.Second},
		{"system error", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusSysErr}, nil, outbox.MessagePending, "ESME_RSYSERR (0x08)", 5 * time.Second},
		{"bad destination", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: 0x0B}, nil, outbox.MessageFailed, "ESME_RINVDSTADR (0x0B)", 0},
		{"submit failed", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusSubmitFail}, nil, outbox.MessageFailed, "ESME_RSUBMITFAIL (0x45)", 0},
		{"configured retry", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusSubmitFail}, map[uint32]string{smpp.StatusSubmitFail: delivery.Retry}, outbox.MessagePending, "ESME_RSUBMITFAIL (0x45)", 5 * time.Second},
		{"configured give up", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusMsgQFul}, map[uint32]string{smpp.StatusMsgQFul: delivery.GiveUp}, outbox.MessageFailed, "ESME_RMSGQFUL (0x14)", 0},
		{"throttled", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusThrottled}, nil, outbox.MessagePending, "ESME_RTHROTTLED (0x58)", delivery.DefaultThrottlePause},
		{"timeout", fmt.Errorf("smpp: submit_sm: %w", smpp.ErrTimeout), nil, outbox.MessagePending, "no answer in time: the SMSC may have accepted it", 5 * time.Second},
		// A lost connection sends back at once what had no answer: the
		// next bind takes it (the binds redial within a second).
		{"lost before", &smpp.ConnError{Err: errors.New("EOF")}, nil, outbox.MessagePending, "connection lost before sending", 0},
		{"lost after", &smpp.ConnError{Sent: true, Err: errors.New("EOF")}, nil, outbox.MessagePending, "connection lost after sending: the SMSC may have accepted it", 0},
		{"invalid", fmt.Errorf("%w: too long", smpp.ErrInvalid), nil, outbox.MessageFailed, "smpp: invalid request: too long", 0},
	} {
		t.Run(tc.label, func(t *testing.T) {
			s := newMemory()
			phones := queue(t, s, 1, now)
			d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Policy: tc.policy, Now: func() time.Time { return now },
				Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) { return "", tc.err }}}}
			if n, err := d.Drain(t.Context()); err != nil || n != 1 {
				t.Fatalf("Drain = %d, %v", n, err)
			}
			m := messageTo(t, s, phones[0])
			if m.Status != tc.status || m.Reason != tc.reason {
				t.Errorf("message is %s (%q), want %s (%q)", m.Status, m.Reason, tc.status, tc.reason)
			}
			if tc.wait > 0 {
				if got, _ := s.ClaimMessages(t.Context(), 10, time.Minute, now.Add(tc.wait-time.Millisecond)); len(got) != 0 {
					t.Errorf("claimable before %v", tc.wait)
				}
				if got, _ := s.ClaimMessages(t.Context(), 10, time.Minute, now.Add(tc.wait)); len(got) != 1 {
					t.Errorf("not claimable after %v", tc.wait)
				}
			} else if tc.status == outbox.MessagePending {
				if got, _ := s.ClaimMessages(t.Context(), 10, time.Minute, now); len(got) != 1 {
					t.Error("not claimable at once")
				}
			}
		})
	}
}

// The backoff doubles with each attempt, up to its cap.
func TestDispatchBackoff(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := newMemory()
	phones := queue(t, s, 1, now)
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Now: func() time.Time { return now }, BackoffMax: 30 * time.Second,
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			return "", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusMsgQFul}
		}}}}
	for i, want := range []time.Duration{5, 10, 20, 30, 30} {
		if n, err := d.Drain(t.Context()); err != nil || n != 1 {
			t.Fatalf("attempt %d: Drain = %d, %v", i+1, n, err)
		}
		now = now.Add(want*time.Second - time.Millisecond)
		if n, _ := d.Drain(t.Context()); n != 0 {
			t.Fatalf("attempt %d: retried before %vs", i+1, want)
		}
		now = now.Add(time.Millisecond)
	}
	if m := messageTo(t, s, phones[0]); m.Attempts != 5 {
		t.Errorf("attempts %d, want 5", m.Attempts)
	}
}

// ESME_RTHROTTLED pauses every send on the bind: the submits after it
// wait ThrottlePause.
func TestDispatchThrottlePausesBind(t *testing.T) {
	s := newMemory()
	queue(t, s, 3, time.Now())
	const pause = 100 * time.Millisecond
	var (
		mu    sync.Mutex
		calls []time.Time
	)
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Batch: 1, ThrottlePause: pause,
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			if len(calls) == 1 {
				return "", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusThrottled}
			}
			return fmt.Sprint(len(calls)), nil
		}}}}
	// The throttled message is claimed again once the pause is over.
	if n, err := d.Drain(t.Context()); err != nil || n != 4 {
		t.Fatalf("Drain = %d, %v; want 4", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 4 {
		t.Fatalf("%d submits, want 4", len(calls))
	}
	// The dispatcher keeps two batches in flight: the one already on its
	// way when the answer came may go; every later one waits the pause.
	early := 0
	for _, c := range calls[1:] {
		if c.Sub(calls[0]) < pause {
			early++
		}
	}
	if early > 1 {
		t.Errorf("%d submits within %v of the throttle, want at most the one in flight", early, pause)
	}
	if st := d.Stats(); st.Throttled != 1 || st.Sent != 3 {
		t.Errorf("stats %+v", st)
	}
}

// A bind throttled again as soon as its pause ends pauses twice as long
// each time; once it went a pause's length without a throttle, the next
// pause is ThrottlePause again.
func TestDispatchThrottlePauseGrows(t *testing.T) {
	s := newMemory()
	// Long enough that a loaded machine's delay before the next submit
	// (the drain below looks every 2 ms) stays well within it.
	const pause = 100 * time.Millisecond
	throttled := map[int]bool{1: true, 2: true, 3: true, 5: true}
	th := &throttling{refuse: func(n int) bool { return throttled[n] }}
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Batch: 1, ThrottlePause: pause,
		Senders: map[string]delivery.Sender{"fake": th}}
	queue(t, s, 1, time.Now())
	drainSent(t, d, 1, 2*time.Millisecond)
	time.Sleep(10 * pause) // quiet: the next throttle starts again at ThrottlePause
	queue(t, s, 1, time.Now())
	drainSent(t, d, 2, 2*time.Millisecond)
	calls := th.times()
	if len(calls) != 6 {
		t.Fatalf("%d submits, want 6", len(calls))
	}
	gap := func(i int) time.Duration { return calls[i].Sub(calls[i-1]) }
	for i, want := range []time.Duration{pause, 2 * pause, 4 * pause} {
		if g := gap(i + 1); g < want {
			t.Errorf("submit %d came %v after throttle %d, want at least %v", i+2, g, i+1, want)
		}
	}
	if g := gap(5); g < pause || g >= 6*pause {
		t.Errorf("after a quiet spell the pause was %v, want ThrottlePause (%v), not a longer one", g, pause)
	}
	if st := d.Stats(); st.Throttled != 4 || st.Sent != 2 {
		t.Errorf("stats %+v", st)
	}
}

// An SMSC that takes a window's worth of submits between two THROTTLED
// (every 5th refused, the others answered at once, window 4) is slowed by
// the congestion window, not by pauses that double: each pause stays
// ThrottlePause, however soon after the last one the next throttle comes.
func TestDispatchThrottlePauseStaysWhenTaken(t *testing.T) {
	s := newMemory()
	const pause = 50 * time.Millisecond
	th := &throttling{window: 4, refuse: func(n int) bool { return n%5 == 0 }}
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, ThrottlePause: pause,
		Senders: map[string]delivery.Sender{"fake": th}}
	queue(t, s, 40, time.Now())
	drainSent(t, d, 40, time.Millisecond)
	calls := th.times()
	for i := 1; i < len(calls); i++ {
		if g := calls[i].Sub(calls[i-1]); g >= 3*pause {
			t.Fatalf("submit %d came %v after the one before: a pause grew past ThrottlePause (%v)", i+1, g, pause)
		}
	}
}

// throttling is a sender, with a window if window is set, that notes when
// each submit came and answers ESME_RTHROTTLED to those refuse picks by
// their number (from 1), the others at once.
type throttling struct {
	window int
	refuse func(n int) bool
	mu     sync.Mutex
	calls  []time.Time
}

func (th *throttling) Name() string { return "fake-1" }
func (th *throttling) Window() int  { return th.window }
func (th *throttling) Submit(context.Context, *smpp.SubmitSM) (string, error) {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.calls = append(th.calls, time.Now())
	if th.refuse(len(th.calls)) {
		return "", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusThrottled}
	}
	return fmt.Sprint(len(th.calls)), nil
}

func (th *throttling) times() []time.Time {
	th.mu.Lock()
	defer th.mu.Unlock()
	return slices.Clone(th.calls)
}

// drainSent drains d, looking again every every, until sent messages
// were sent (10 s at most).
func drainSent(t *testing.T, d *delivery.Dispatcher, sent uint64, every time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); d.Stats().Sent < sent; time.Sleep(every) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", d.Stats())
		}
		if _, err := d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// flakySender drops after its fifth submit and is up again 300 ms later:
// its submits fail with ErrNoBind meanwhile, as *smpp.Binds' do while
// they redial.
type flakySender struct {
	mu        sync.Mutex
	sent      int
	downUntil time.Time
}

func (f *flakySender) Name() string { return "fake-1" }
func (f *flakySender) Up() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !time.Now().Before(f.downUntil)
}
func (f *flakySender) Submit(context.Context, *smpp.SubmitSM) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Now().Before(f.downUntil) {
		return "", smpp.ErrNoBind
	}
	f.sent++
	if f.sent == 5 {
		f.downUntil = time.Now().Add(300 * time.Millisecond)
	}
	return fmt.Sprint(f.sent), nil
}

// A bind that dropped in the middle of a drain and is up again within
// redialWait gets the claim's other messages at once: none goes back to
// the outbox to wait another second there and be claimed again.
func TestDispatchWaitsForTheRedial(t *testing.T) {
	s := newMemory()
	queue(t, s, 50, time.Now())
	f := &flakySender{}
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Senders: map[string]delivery.Sender{"fake": f}}
	start := time.Now()
	if n, err := d.Drain(t.Context()); err != nil || n != 50 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if st := d.Stats(); st.Sent != 50 || st.Deferred != 0 {
		t.Errorf("stats %+v, want 50 sent and none deferred", st)
	}
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Errorf("sent in %v, before the bind was up again", el)
	}
}

// halfSender holds half of its operator's binds, as a gateway of a fleet
// of two does.
type halfSender struct{ *sender }

func (halfSender) Share() float64 { return 0.5 }

// The rate is the fleet's: a gateway that holds half the binds sends at
// half of it.
func TestDispatchRateIsTheFleets(t *testing.T) {
	s := newMemory()
	queue(t, s, 11, time.Now())
	var n atomic.Int64
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Rate: map[string]rate.Limit{"fake": 100},
		Senders: map[string]delivery.Sender{"fake": halfSender{&sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			return fmt.Sprint(n.Add(1)), nil
		}}}}}
	start := time.Now()
	if got, err := d.Drain(t.Context()); err != nil || got != 11 {
		t.Fatalf("Drain = %d, %v", got, err)
	}
	if took := time.Since(start); took < 190*time.Millisecond {
		t.Errorf("11 submits at half of 100/s took %v, want at least 200ms", took)
	}
}

// Rate spaces an operator's submits.
func TestDispatchRate(t *testing.T) {
	s := newMemory()
	queue(t, s, 11, time.Now())
	var n atomic.Int64
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Rate: map[string]rate.Limit{"fake": 50},
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			return fmt.Sprint(n.Add(1)), nil
		}}}}
	start := time.Now()
	if got, err := d.Drain(t.Context()); err != nil || got != 11 {
		t.Fatalf("Drain = %d, %v", got, err)
	}
	if took := time.Since(start); took < 190*time.Millisecond {
		t.Errorf("11 submits at 50/s took %v, want at least 200ms", took)
	}
}

// The rate counts what the operator counts: submit_sm, each part of a long
// SMS one. Five two-part messages at 50 a second take ten slots.
func TestDispatchRateCountsParts(t *testing.T) {
	s := newMemory()
	for i := range 5 {
		if err := s.Enqueue(t.Context(), []outbox.Message{{Phone: phoneOf(i), Created: time.Now(),
			Body: strings.Repeat("Votre dossier avance. ", 10)}}); err != nil {
			t.Fatal(err)
		}
	}
	var n atomic.Int64
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Rate: map[string]rate.Limit{"fake": 50},
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			return fmt.Sprint(n.Add(1)), nil
		}}}}
	start := time.Now()
	if got, err := d.Drain(t.Context()); err != nil || got != 5 {
		t.Fatalf("Drain = %d, %v", got, err)
	}
	if n.Load() != 10 {
		t.Fatalf("%d submits, want 10 parts", n.Load())
	}
	if took := time.Since(start); took < 170*time.Millisecond {
		t.Errorf("10 parts at 50/s took %v, want at least 180ms (9 gaps of 20ms)", took)
	}
}

// A long text goes as one submit_sm per part, with the parts' esm_class and
// data_coding, a receipt asked on the last part only, whose id is
// recorded; a receipt in text form (no TLVs) then marks it.
func TestDispatchLongMessageAndTextReceipt(t *testing.T) {
	s := newMemory()
	const to = "+237677000001"
	err := s.Enqueue(t.Context(), []outbox.Message{{Phone: to, Body: strings.Repeat("Votre dossier avance. ", 10), Created: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	var subs []smpp.SubmitSM
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8000",
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(_ context.Context, m *smpp.SubmitSM) (string, error) {
			subs = append(subs, *m)
			return fmt.Sprintf("%X", 0xA0+len(subs)), nil
		}}}}
	if n, err := d.Drain(t.Context()); err != nil || n != 1 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	if len(subs) != 2 {
		t.Fatalf("%d submits, want 2 parts", len(subs))
	}
	for i, m := range subs {
		wantRD := uint8(0)
		if i == 1 {
			wantRD = 1
		}
		if m.ESMClass != 0x40 || m.DataCoding != 0 || m.RegisteredDelivery != wantRD || m.DestAddr != "237677000001" || m.SourceAddr != "8000" {
			t.Errorf("part %d: %+v", i+1, m)
		}
	}
	if m := messageTo(t, s, to); m.Status != outbox.MessageSent || m.SMSCID != "A2" || m.Bind != "fake-1" {
		t.Fatalf("message %+v, want sent as fake-1/A2", m)
	}
	receipt := smpp.Inbound{Kind: smpp.KindReceipt, ESMClass: 0x04, SourceAddr: "237677000001", DestAddr: "8000",
		ShortMessage: []byte("id:162 sub:001 dlvrd:000 submit date:2611280900 done date:2611280901 stat:UNDELIV err:001 text:Votre")}
	rc := &delivery.Receipts{Store: s}
	if err := rc.Handle("fake-1")(t.Context(), receipt); err != nil {
		t.Fatal(err)
	}
	if m := messageTo(t, s, to); m.Status != outbox.MessageUndeliverable {
		t.Errorf("after an UNDELIV receipt with the id in decimal: %s", m.Status)
	}
	if st := rc.Stats(); st.Matched != 1 || st.Unmatched != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestSourceTON(t *testing.T) {
	for _, tt := range []struct {
		source   string
		ton, npi uint8
	}{{"GUICHET", 5, 0}, {"MinSante", 5, 0}, {"8080", 3, 0}, {"1510", 3, 0}, {"+237222230001", 1, 1}, {"237677123456", 1, 1}} {
		if ton, npi := delivery.SourceTON(tt.source); ton != tt.ton || npi != tt.npi {
			t.Errorf("SourceTON(%q) = %d/%d, want %d/%d", tt.source, ton, npi, tt.ton, tt.npi)
		}
	}
}

// An operator that asks for it, or a message whose template does, gets
// texts spelt in GSM-7: 160 characters a part instead of 70; the others
// keep their accents in UCS-2.
func TestTransliteratePerOperator(t *testing.T) {
	for _, tt := range []struct {
		translit, template bool
		coding             uint8
		body               string
	}{
		{true, false, 0, "Votre dossier est pret: à retirer à la préfecture."}, // à é are GSM-7, ê is not
		{false, true, 0, "Votre dossier est pret: à retirer à la préfecture."},
		{false, false, 8, ""},
	} {
		s := newMemory()
		const to = "+237677000002"
		text := "Votre dossier est prêt: à retirer à la préfecture."
		err := s.Enqueue(t.Context(), []outbox.Message{{Phone: to, Body: text, Created: time.Now(), Transliterate: tt.template}})
		if err != nil {
			t.Fatal(err)
		}
		var got *smpp.SubmitSM
		d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "GUICHET", TransliterateTo: map[string]bool{"fake": tt.translit},
			Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(_ context.Context, m *smpp.SubmitSM) (string, error) {
				got = m
				return "1", nil
			}}}}
		if _, err := d.Drain(t.Context()); err != nil || got == nil {
			t.Fatalf("Drain: %v", err)
		}
		body, _, _ := sms.Decode(got.DataCoding, got.ESMClass, got.ShortMessage)
		if got.DataCoding != tt.coding || (tt.body != "" && body != tt.body) || got.SourceTON != 5 {
			t.Errorf("transliterate %v, template %v: coding %d, TON %d, %q", tt.translit, tt.template, got.DataCoding, got.SourceTON, body)
		}
	}
}

// Run looks at once when woken: a message written while it waits leaves
// now, not at the end of Every.
func TestDispatchWake(t *testing.T) {
	s := newMemory()
	var n atomic.Int64
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Every: time.Hour,
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			return fmt.Sprint(n.Add(1)), nil
		}}}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond) // Run found the outbox empty and waits its hour
	queue(t, s, 1, time.Now())
	d.Wake()
	d.Wake() // never blocks
	for deadline := time.Now().Add(5 * time.Second); d.Stats().Sent < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("woken, Run did not send the message")
		}
	}
}

package delivery_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// deliveryStore is an outbox the Dispatcher drains, with Enqueue to write
// and Messages to look.
type deliveryStore interface {
	delivery.DeliveryStore
	delivery.ReceiptStore
	Enqueue(ctx context.Context, msgs []outbox.Message) error
	Messages(ctx context.Context, phone string, limit int) ([]outbox.Message, error)
}

// optOuts are the opt-outs of the case store beside the outbox.
type optOuts interface {
	delivery.OptOuts
	SetOptOut(ctx context.Context, phone string, out bool) error
}

// stores are an outbox and the case store's opt-outs, on one database.
type stores struct {
	deliveryStore
	optOuts
}

// newMemory returns stores in memory.
func newMemory() stores {
	q := outbox.NewMemory()
	return stores{q, cases.NewMemory(q)}
}

// phoneOf is the i-th test number, on MTN's 677 range.
func phoneOf(i int) string { return fmt.Sprintf("+237677%06d", i) }

// queue writes n messages, one to each of phoneOf(0..n-1), created at
// created, and returns their phones.
func queue(t *testing.T, s deliveryStore, n int, created time.Time) []string {
	t.Helper()
	phones := make([]string, n)
	for i := range phones {
		phones[i] = phoneOf(i)
	}
	const ref = "20000011"
	msgs := make([]outbox.Message, n)
	for i := range msgs {
		msgs[i] = outbox.Message{Phone: phones[i], Lang: "fr", Kind: "moved", CaseRef: ref, Created: created,
			Body: fmt.Sprintf("Dossier %s: pret. Message %d.", ref, i)}
	}
	if err := s.Enqueue(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	return phones
}

// messageTo returns the one message to phone.
func messageTo(t *testing.T, s deliveryStore, phone string) outbox.Message {
	t.Helper()
	msgs, err := s.Messages(t.Context(), phone, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages to %s: %v, %v; want one", phone, msgs, err)
	}
	return msgs[0]
}

// accepted returns the ids the simulator gave, by destination (E.164), and
// how many submits it refused with each status.
func accepted(srv *smsctest.Server) (ids map[string][]string, refused map[uint32]int) {
	ids, refused = map[string][]string{}, map[uint32]int{}
	for _, sub := range srv.Submitted() {
		if sub.MessageID == "" {
			refused[sub.Status]++
			continue
		}
		dest := "+" + sub.Message.DestAddr
		ids[dest] = append(ids[dest], sub.MessageID)
	}
	return ids, refused
}

type rig struct {
	srv    *smsctest.Server
	d      *delivery.Dispatcher
	rc     *delivery.Receipts
	sender *redialled
	logs   *syncBuffer
	binds  []*smpp.Bind
}

// redialled is the sender of a bind that a test dials again: the latest.
type redialled struct {
	mu   sync.Mutex
	name string
	b    *smpp.Bind
}

func (r *redialled) Name() string { return r.name }

func (r *redialled) Submit(ctx context.Context, m *smpp.SubmitSM) (string, error) {
	r.mu.Lock()
	b := r.b
	r.mu.Unlock()
	return b.Submit(ctx, m)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newRig starts a simulator and a Dispatcher on s with MTN's bind "mtn-1"
// to it, with short waits.
func newRig(t *testing.T, s deliveryStore, opts smsctest.Options) *rig {
	t.Helper()
	srv := smsctest.NewServer(opts)
	t.Cleanup(srv.Close)
	return attach(t, s, srv)
}

// attach starts a Dispatcher on s bound to srv as "mtn-1".
func attach(t *testing.T, s deliveryStore, srv *smsctest.Server) *rig {
	t.Helper()
	routes, err := smpp.NewRoutes(smpp.Cameroon, "")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	sender := &redialled{name: "mtn-1"}
	d := &delivery.Dispatcher{
		Store: s, Routes: routes, Source: "8000", Senders: map[string]delivery.Sender{"mtn": sender},
		BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		ThrottlePause: 20 * time.Millisecond,
		SubmitTimeout: 5 * time.Second, Every: 5 * time.Millisecond, Batch: 50,
		Log: log,
	}
	rc := &delivery.Receipts{Store: s, Wait: 100 * time.Millisecond, Log: log}
	r := &rig{srv: srv, d: d, rc: rc, sender: sender, logs: logs}
	r.redial(t)
	return r
}

// redial binds again and gives the new bind to the Dispatcher.
func (r *rig) redial(t *testing.T) {
	t.Helper()
	b, err := smpp.Dial(t.Context(), smpp.BindConfig{Addr: r.srv.Addr(), SystemID: "guichet", Handler: r.rc.Handle("mtn-1"),
		RespTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		b.Close(ctx)
	})
	r.binds = append(r.binds, b)
	r.sender.mu.Lock()
	r.sender.b = b
	r.sender.mu.Unlock()
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// allSent checks that every message to phones is sent (or further), once,
// recorded with the id the simulator gave it; it returns how many were
// submitted more than once.
func allSent(t *testing.T, s deliveryStore, srv *smsctest.Server, phones []string) (duplicates int) {
	t.Helper()
	ids, _ := accepted(srv)
	for _, p := range phones {
		m := messageTo(t, s, p)
		got := ids[p]
		if m.Status != outbox.MessageSent && m.Status != outbox.MessageDelivered {
			t.Errorf("message to %s is %s (%s), want sent", p, m.Status, m.Reason)
			continue
		}
		if len(got) == 0 {
			t.Errorf("message to %s is %s but the SMSC never accepted it", p, m.Status)
			continue
		}
		if len(got) > 1 {
			duplicates++
		}
		if m.Bind != "mtn-1" || m.SMSCID != got[len(got)-1] {
			t.Errorf("message to %s recorded as %s/%s, want mtn-1/%s", p, m.Bind, m.SMSCID, got[len(got)-1])
		}
	}
	return duplicates
}

// 200 messages are all submitted once, recorded with their SMSC id, then
// delivered by receipts that write the hex ids in decimal.
func TestDispatchDeliversAndMatchesReceipts(t *testing.T) {
	s := newMemory()
	phones := queue(t, s, 200, time.Now())
	r := newRig(t, s, smsctest.Options{IDFormat: smsctest.Hex, ReceiptIDFormat: smsctest.Decimal, Receipts: true})
	n, err := r.d.Drain(t.Context())
	if err != nil || n != 200 {
		t.Fatalf("Drain = %d, %v; want 200", n, err)
	}
	if dup := allSent(t, s, r.srv, phones); dup != 0 {
		t.Errorf("%d messages submitted twice", dup)
	}
	if st := r.d.Stats(); st.Sent != 200 || st.Deferred != 0 || st.Failed != 0 {
		t.Errorf("stats %+v, want 200 sent and nothing else", st)
	}
	eventually(t, "200 receipts", func() bool { return r.rc.Stats().Matched == 200 })
	for _, p := range phones {
		if m := messageTo(t, s, p); m.Status != outbox.MessageDelivered {
			t.Errorf("message to %s is %s after its receipt", p, m.Status)
		}
	}
	if u := r.rc.Stats().Unmatched; u != 0 {
		t.Errorf("%d receipts unmatched", u)
	}
	if strings.Contains(r.logs.String(), "677000") {
		t.Errorf("a phone number reached the log:\n%.500s", r.logs.String())
	}
}

// ESME_RTHROTTLED refuses the submit: the message waits and goes later,
// none is lost or sent twice.
func TestDispatchThrottled(t *testing.T) {
	s := newMemory()
	phones := queue(t, s, 100, time.Now())
	r := newRig(t, s, smsctest.Options{ThrottleEvery: 5})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.d.Run(ctx) }()
	eventually(t, "100 messages sent", func() bool { return r.d.Stats().Sent == 100 })
	cancel()
	<-done
	if dup := allSent(t, s, r.srv, phones); dup != 0 {
		t.Errorf("%d messages submitted twice", dup)
	}
	_, refused := accepted(r.srv)
	st := r.d.Stats()
	t.Logf("%+v", st)
	if refused[smpp.StatusThrottled] == 0 || uint64(refused[smpp.StatusThrottled]) != st.Throttled || st.Deferred != st.Throttled {
		t.Errorf("simulator throttled %d submits; dispatcher counted %+v", refused[smpp.StatusThrottled], st)
	}
	if len(refused) != 1 {
		t.Errorf("refusals %v, want throttling only", refused)
	}
}

// The connection drops: what was in flight is deferred and sent on the
// next bind; duplicates only where the lost submit had been written.
func TestDispatchConnectionLost(t *testing.T) {
	s := newMemory()
	phones := queue(t, s, 60, time.Now())
	r := newRig(t, s, smsctest.Options{DropAfter: 15})
	for round := 0; r.d.Stats().Sent < 60; round++ {
		if round == 30 {
			t.Fatalf("after %d binds: %+v", round, r.d.Stats())
		}
		if _, err := r.d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond) // past the backoff
		r.redial(t)
	}
	st := r.d.Stats()
	t.Logf("%d binds, %+v", len(r.binds), st)
	if st.Deferred == 0 || len(r.binds) < 4 {
		t.Errorf("nothing deferred over %d binds: %+v", len(r.binds), st)
	}
	if dup := allSent(t, s, r.srv, phones); uint64(dup) > st.MaybeSent {
		t.Errorf("%d duplicates, more than the %d submits lost after sending", dup, st.MaybeSent)
	}
}

// A receipt for no message is counted and acknowledged; an unreadable one
// too.
func TestDispatchUnmatchedReceipt(t *testing.T) {
	s := newMemory()
	r := newRig(t, s, smsctest.Options{})
	for _, in := range []smpp.Inbound{
		{SourceAddr: "237677000001", DestAddr: "8000", ESMClass: 0x04,
			ShortMessage: []byte("id:999 sub:001 dlvrd:001 submit date:2611280900 done date:2611280901 stat:DELIVRD err:000 text:x")},
		{SourceAddr: "237677000001", DestAddr: "8000", ESMClass: 0x04, ShortMessage: []byte("garbage")},
	} {
		if err := r.srv.Inject(t.Context(), in); err != nil {
			t.Fatalf("receipt refused: %v", err)
		}
	}
	if st := r.rc.Stats(); st.Unmatched != 2 || st.Matched != 0 {
		t.Errorf("stats %+v, want 2 unmatched", st)
	}
	if logs := r.logs.String(); !strings.Contains(logs, "receipt matches no message") || strings.Contains(logs, "677000001") {
		t.Errorf("log without the unmatched receipt, or with the phone:\n%s", logs)
	}
}

// A message older than its validity is expired, not sent; one to a number
// without a route, and one refused for good, fail with their reason.
func TestDispatchGivesUp(t *testing.T) {
	for _, tc := range []struct {
		label     string
		opts      smsctest.Options
		created   time.Time
		phone     string
		status    string
		reason    string
		submitted int
	}{
		{"too old", smsctest.Options{}, time.Now().Add(-25 * time.Hour), phoneOf(0), outbox.MessageExpired, "not sent within its validity of 24h0m0s", 0},
		{"permanent", smsctest.Options{NackSubmits: true}, time.Now(), phoneOf(0), outbox.MessageFailed, "ESME_RINVCMDID (0x03)", 0},
		{"no route", smsctest.Options{}, time.Now(), "+33612345678", outbox.MessageFailed, "no route for this number", 0},
	} {
		t.Run(tc.label, func(t *testing.T) {
			s := newMemory()
			err := s.Enqueue(t.Context(), []outbox.Message{{Phone: tc.phone, Body: "Dossier pret", Created: tc.created}})
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t, s, tc.opts)
			if n, err := r.d.Drain(t.Context()); err != nil || n != 1 {
				t.Fatalf("Drain = %d, %v", n, err)
			}
			m := messageTo(t, s, tc.phone)
			if m.Status != tc.status || m.Reason != tc.reason {
				t.Errorf("message is %s (%s), want %s (%s)", m.Status, m.Reason, tc.status, tc.reason)
			}
			if ids, _ := accepted(r.srv); len(ids) != tc.submitted {
				t.Errorf("SMSC accepted %v", ids)
			}
			if n, _ := r.d.Drain(t.Context()); n != 0 {
				t.Errorf("claimed again %d times", n)
			}
		})
	}
}

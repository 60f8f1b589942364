package delivery_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// optOutStore is a store that keeps opt-outs and takes replies.
type optOutStore interface {
	deliveryStore
	optOuts
}

var _ optOutStore = stores{}

// optOutCase writes, for a phone that sent STOP, one that sent STOP then
// START and one that never did, a notification each, and to the first the
// confirmation of its STOP; it returns the three phones.
func optOutCase(t *testing.T, s optOutStore, created time.Time) (stopped, restarted, never string) {
	t.Helper()
	phones := queue(t, s, 3, created)
	stopped, restarted, never = phones[0], phones[1], phones[2]
	ctx := t.Context()
	for _, err := range []error{
		s.SetOptOut(ctx, stopped, true),
		s.SetOptOut(ctx, restarted, true),
		s.SetOptOut(ctx, restarted, false),
		s.Enqueue(ctx, []outbox.Message{{Phone: stopped, Lang: "fr", Body: "Vous ne recevrez plus de SMS. START pour reprendre.", Kind: outbox.KindOptOut, Created: created}}),
		// What the citizen asks for after STOP still reaches them.
		s.Enqueue(ctx, []outbox.Message{{Phone: stopped, Lang: "fr", Body: "Code Guichet: 123456", Kind: outbox.KindSignIn, Created: created}}),
		s.Enqueue(ctx, []outbox.Message{{Phone: stopped, Lang: "fr", Body: "Guichet: services publics\n1 COVID-19", Kind: outbox.KindDialogue, Created: created}}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return stopped, restarted, never
}

// wantOptOutOutcome checks what became of optOutCase's messages.
func wantOptOutOutcome(t *testing.T, s optOutStore, stopped, restarted, never string) {
	t.Helper()
	msgs, err := s.Messages(t.Context(), stopped, 0)
	if err != nil || len(msgs) != 4 {
		t.Fatalf("messages to %s: %+v, %v; want 4", stopped, msgs, err)
	}
	for _, m := range msgs {
		switch m.Kind {
		case outbox.KindOptOut, outbox.KindSignIn, outbox.KindDialogue:
			if m.Status != outbox.MessageSent && m.Status != outbox.MessageDelivered {
				t.Errorf("the %s message the citizen asked for is %s (%q), want sent", m.Kind, m.Status, m.Reason)
			}
		default:
			if m.Status != outbox.MessageFailed || m.Reason != "the citizen sent STOP" {
				t.Errorf("the notification to an opted-out phone is %s (%q), want failed (%q)", m.Status, m.Reason, "the citizen sent STOP")
			}
		}
	}
	for _, p := range []string{restarted, never} {
		if m := messageTo(t, s, p); m.Status != outbox.MessageSent && m.Status != outbox.MessageDelivered {
			t.Errorf("message to %s is %s (%q), want sent", p, m.Status, m.Reason)
		}
	}
}

// A phone that sent STOP gets no notification, only the confirmation of
// its STOP; one that sent START since gets them again.
func TestDispatchOptOut(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := newMemory()
	stopped, restarted, never := optOutCase(t, s, now)
	var (
		mu   sync.Mutex
		sent []string
	)
	d := &delivery.Dispatcher{Store: s, OptOuts: s, Routes: routeAll{}, Now: func() time.Time { return now },
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(_ context.Context, m *smpp.SubmitSM) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, "+"+m.DestAddr)
			return "id" + m.DestAddr, nil
		}}}}
	if n, err := d.Drain(t.Context()); err != nil || n != 6 {
		t.Fatalf("Drain = %d, %v; want 6", n, err)
	}
	wantOptOutOutcome(t, s, stopped, restarted, never)
	if got := strings.Count(strings.Join(sent, " "), stopped); got != 3 {
		t.Errorf("%d submits to the opted-out phone, want what it asked for only (confirmation, code, screen): %v", got, sent)
	}
	if st := d.Stats(); st.Sent != 5 || st.Failed != 1 {
		t.Errorf("stats %+v, want 5 sent and 1 failed", st)
	}
}

// Without OptOuts, the Dispatcher sends to every phone.
func TestDispatchNoOptOuts(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := newMemory()
	stopped, _, _ := optOutCase(t, s, now)
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Now: func() time.Time { return now },
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) { return "1", nil }}}}
	if n, err := d.Drain(t.Context()); err != nil || n != 6 {
		t.Fatalf("Drain = %d, %v; want 6", n, err)
	}
	msgs, _ := s.Messages(t.Context(), stopped, 0)
	for _, m := range msgs {
		if m.Status != outbox.MessageSent {
			t.Errorf("message %+v not sent", m)
		}
	}
}

type failingOptOuts struct{ err error }

func (f failingOptOuts) OptedOut(context.Context, string) (bool, error) { return false, f.err }

// When the opt-outs cannot be read, nothing is sent: the message stays
// claimed until its lease ends, and Drain reports the error. The STOP
// confirmation needs no lookup.
func TestDispatchOptOutsFail(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := newMemory()
	phones := queue(t, s, 1, now)
	if err := s.Enqueue(t.Context(), []outbox.Message{{Phone: phones[0], Body: "STOP recu", Kind: outbox.KindOptOut, Created: now}}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("database down")
	var submits atomic.Int32
	d := &delivery.Dispatcher{Store: s, OptOuts: failingOptOuts{boom}, Routes: routeAll{}, Now: func() time.Time { return now },
		Senders: map[string]delivery.Sender{"fake": &sender{SubmitFn: func(context.Context, *smpp.SubmitSM) (string, error) {
			submits.Add(1)
			return "1", nil
		}}}}
	if _, err := d.Drain(t.Context()); !errors.Is(err, boom) {
		t.Fatalf("Drain = %v, want %v", err, boom)
	}
	msgs, _ := s.Messages(t.Context(), phones[0], 0)
	for _, m := range msgs {
		want := outbox.MessageSending
		if m.Kind == outbox.KindOptOut {
			want = outbox.MessageSent
		}
		if m.Status != want {
			t.Errorf("%s message is %s (%q), want %s", m.Kind, m.Status, m.Reason, want)
		}
	}
	if n := submits.Load(); n != 1 {
		t.Errorf("%d submits, want the confirmation only", n)
	}
}

// On PostgreSQL, through the simulator.
func TestDispatchPostgresOptOut(t *testing.T) {
	s := newPostgres(t)
	stopped, restarted, never := optOutCase(t, s, time.Now())
	r := newRig(t, s, smsctest.Options{})
	r.d.OptOuts = s
	if n, err := r.d.Drain(t.Context()); err != nil || n != 6 {
		t.Fatalf("Drain = %d, %v; want 6", n, err)
	}
	wantOptOutOutcome(t, s, stopped, restarted, never)
	ids, _ := accepted(r.srv)
	if len(ids[stopped]) != 3 || len(ids[restarted]) != 1 || len(ids[never]) != 1 {
		t.Errorf("SMSC accepted %v, want to the opted-out phone what it asked for (3), one to each other", ids)
	}
}

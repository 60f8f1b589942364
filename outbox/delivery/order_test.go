package delivery_test

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// enqueue writes one message to phone with body.
func enqueue(t *testing.T, s deliveryStore, phone, body string) {
	t.Helper()
	if err := s.Enqueue(t.Context(), []outbox.Message{{Phone: phone, Lang: "fr", Body: body, Kind: "moved", Created: time.Now()}}); err != nil {
		t.Fatal(err)
	}
}

// inOrder checks that the SMSC accepted the messages to phone once each,
// in the order they were written, and that each is recorded with the id
// the SMSC gave it.
func inOrder(t *testing.T, s deliveryStore, srv *smsctest.Server, phone string) {
	t.Helper()
	msgs, err := s.Messages(t.Context(), phone, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(msgs, func(a, b outbox.Message) int { return cmp.Compare(a.ID, b.ID) })
	var want []string // the SMSC's ids, in the order the messages were written
	for _, m := range msgs {
		if m.Status != outbox.MessageSent {
			t.Fatalf("message %d (%q) is %s (%s), want sent", m.ID, m.Body, m.Status, m.Reason)
		}
		want = append(want, m.SMSCID)
	}
	if ids, _ := accepted(srv); !slices.Equal(ids[phone], want) {
		t.Errorf("the SMSC accepted %v for %s, want %v: the messages in the order they were written", ids[phone], phone, want)
	}
}

// drainUntil drains r until every message to phone is sent.
func drainUntil(t *testing.T, r *rig, s deliveryStore, phone string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		msgs, err := s.Messages(t.Context(), phone, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(msgs, func(m outbox.Message) bool { return m.Status != outbox.MessageSent }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages to %s not all sent: %+v (%+v)", phone, msgs, r.d.Stats())
		}
		if _, err := r.d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

// The first message to a number is throttled and deferred; a second one
// to it, written meanwhile, is not sent before it by the next Drain: the
// SMSC receives them in the order they were written, on either store.
func TestDispatchOrderAfterDeferral(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stores func(t *testing.T) stores
	}{
		{"memory", func(*testing.T) stores { return newMemory() }},
		{"postgres", func(t *testing.T) stores { return newPostgres(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.stores(t)
			// Every second submit is throttled: one submit first, so that
			// the first message's is.
			srv := smsctest.NewServer(smsctest.Options{ThrottleEvery: 2})
			t.Cleanup(srv.Close)
			r := attach(t, s, srv)
			r.d.ThrottlePause = 200 * time.Millisecond
			if _, err := r.sender.Submit(t.Context(), &smpp.SubmitSM{SourceAddr: "8000", DestAddr: "237677999999", ShortMessage: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			const to = "+237677000091"
			enqueue(t, s, to, "first")
			if n, err := r.d.Drain(t.Context()); err != nil || n != 1 || r.d.Stats().Throttled != 1 {
				t.Fatalf("Drain = %d, %v, %+v; want the first message throttled", n, err, r.d.Stats())
			}
			enqueue(t, s, to, "second")
			if n, err := r.d.Drain(t.Context()); err != nil || n != 0 {
				t.Errorf("Drain = %d, %v while the first message waits; want nothing claimed", n, err)
			}
			drainUntil(t, r, s, to)
			inOrder(t, s, srv, to)
		})
	}
}

// heldSender is a sender whose first submit waits for release, once it
// said it was called: a gateway that has claimed a message and is slow to
// send it.
type heldSender struct {
	next    delivery.Sender
	called  chan struct{}
	release chan struct{}
}

var _ delivery.Sender = (*heldSender)(nil)

func (h *heldSender) Name() string { return h.next.Name() }

func (h *heldSender) Submit(ctx context.Context, m *smpp.SubmitSM) (string, error) {
	select {
	case <-h.called:
	default:
		close(h.called)
		select {
		case <-h.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return h.next.Submit(ctx, m)
}

// Two gateways on one PostgreSQL outbox: while the first holds the first
// message to a number, claimed and not yet sent, the second does not send
// the next message to that number; the first sends both, in order.
func TestDispatchPostgresOrderAcrossDispatchers(t *testing.T) {
	s := newPostgres(t)
	srv := smsctest.NewServer(smsctest.Options{})
	t.Cleanup(srv.Close)
	a, b := attach(t, s, srv), attach(t, s, srv)
	held := &heldSender{next: a.sender, called: make(chan struct{}), release: make(chan struct{})}
	a.d.Senders = map[string]delivery.Sender{"mtn": held}
	const to = "+237677000092"
	enqueue(t, s, to, "first")
	drained := make(chan error, 1)
	go func() {
		_, err := a.d.Drain(t.Context())
		drained <- err
	}()
	<-held.called
	enqueue(t, s, to, "second")
	if n, err := b.d.Drain(t.Context()); err != nil || n != 0 {
		t.Errorf("the second gateway's Drain = %d, %v while the first holds the first message; want nothing claimed", n, err)
	}
	close(held.release)
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	drainUntil(t, a, s, to)
	inOrder(t, s, srv, to)
}

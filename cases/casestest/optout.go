package casestest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// replies is what the stores do for replies to inbound SMS, beside Store.
type replies interface {
	Enqueue(ctx context.Context, msgs []outbox.Message) error
	Bookings(ctx context.Context, phone string, from time.Time) ([]cases.Booking, error)
	SetOptOut(ctx context.Context, phone string, out bool) error
	OptedOut(ctx context.Context, phone string) (bool, error)
}

func repliesOf(t *testing.T, s Stores) replies {
	t.Helper()
	r, ok := any(s).(replies)
	if !ok {
		t.Fatalf("%T cannot reply to inbound SMS", s)
	}
	return r
}

// testEnqueue writes replies to the outbox: pending, claimable, checked as
// a change's messages are, all or none.
func testEnqueue(t *testing.T, s Stores) {
	ctx := t.Context()
	r := repliesOf(t, s)
	const phone = "+237677000001"
	noErr(t, r.Enqueue(ctx, nil))
	noErr(t, r.Enqueue(ctx, []outbox.Message{
		{Phone: phone, Lang: "fr", Body: "Vous ne recevrez plus de SMS.", Kind: outbox.KindOptOut, Created: t0},
		{Phone: phone, Lang: "fr", Body: "second", Kind: "reply", Created: t0.Add(time.Second), ID: 99, Attempts: 7},
	}))
	got := must[[]outbox.Message](t)(s.Messages(ctx, phone, 0))
	if len(got) != 2 {
		t.Fatalf("messages after Enqueue: %+v, want 2", got)
	}
	first, second := got[1], got[0]
	if first.Kind != outbox.KindOptOut || first.Body != "Vous ne recevrez plus de SMS." || first.Status != outbox.MessagePending ||
		first.Attempts != 0 || first.ID == 0 || !first.Created.Equal(t0) {
		t.Errorf("enqueued message is %+v", first)
	}
	if second.ID == 99 || second.ID <= first.ID || second.Attempts != 0 || second.Status != outbox.MessagePending {
		t.Errorf("second enqueued message is %+v: want a fresh id after %d, no attempt, pending", second, first.ID)
	}
	if got := claimAll(t, s, t0); !slices.Equal(got, []int64{first.ID, second.ID}) {
		t.Errorf("claimed %v, want %v", got, []int64{first.ID, second.ID})
	}

	// A message that outbox.Prepare refuses writes none of them.
	const other = "+237677000002"
	for _, bad := range []outbox.Message{
		{Phone: other, Body: ""},
		{Phone: "", Body: "x"},
		{Phone: other, Body: "x", Status: outbox.MessageSent},
	} {
		err := r.Enqueue(ctx, []outbox.Message{{Phone: other, Body: "fine"}, bad})
		wantCode(t, err, guichet.EINVALID, "")
	}
	noMessages(t, s, other)

	// A message without a date gets the store's now; a logged one stays
	// logged and is never claimed.
	noErr(t, r.Enqueue(ctx, []outbox.Message{{Phone: other, Body: "undated"}, {Phone: other, Body: "logged", Status: outbox.MessageLogged, Created: t0}}))
	for _, m := range must[[]outbox.Message](t)(s.Messages(ctx, other, 0)) {
		switch m.Body {
		case "undated":
			if m.Created.IsZero() || m.Status != outbox.MessagePending {
				t.Errorf("undated message is %+v", m)
			}
		case "logged":
			if m.Status != outbox.MessageLogged {
				t.Errorf("logged message is %+v", m)
			}
		}
	}
}

// testAnswerOnce acts on and answers an SMS once per key: a STOP
// delivered again after a START opts nobody out and answers nothing, even
// when the retries come at once; another key acts; a failed answer leaves
// the key free and, in a transactional store, its opt-out undone.
func testAnswerOnce(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677000009"
	answer := func(key string, out bool, body string) bool {
		t.Helper()
		ran, err := s.AnswerOnce(ctx, key, func(ctx context.Context, w cases.Replies) error {
			if err := w.SetOptOut(ctx, phone, out); err != nil {
				return err
			}
			return w.Enqueue(ctx, []outbox.Message{{Phone: phone, Lang: "fr", Body: body, Kind: outbox.KindOptOut, Created: t0}})
		})
		noErr(t, err)
		return ran
	}
	if !answer("stop-1", true, "STOP recu") || !answer("start-1", false, "START recu") {
		t.Fatal("a first SMS was not answered")
	}
	var (
		wg   sync.WaitGroup
		runs atomic.Int32
	)
	for range 8 {
		wg.Go(func() {
			ran, err := s.AnswerOnce(ctx, "stop-1", func(ctx context.Context, w cases.Replies) error {
				runs.Add(1)
				return w.SetOptOut(ctx, phone, true)
			})
			if err != nil || ran {
				t.Errorf("STOP delivered again: ran %v, %v", ran, err)
			}
		})
	}
	wg.Wait()
	if n := runs.Load(); n != 0 {
		t.Errorf("a STOP delivered again was acted on %d times", n)
	}
	if out := must[bool](t)(s.OptedOut(ctx, phone)); out {
		t.Error("a STOP delivered again after START opted the citizen out")
	}
	if got := must[[]outbox.Message](t)(s.Messages(ctx, phone, 0)); len(got) != 2 {
		t.Errorf("%d replies, want one per SMS: %+v", len(got), got)
	}

	// A failed answer is not remembered: the SMSC's next delivery runs it.
	_, err := s.AnswerOnce(ctx, "stop-2", func(ctx context.Context, w cases.Replies) error {
		return w.Enqueue(ctx, []outbox.Message{{Phone: phone, Body: ""}})
	})
	wantCode(t, err, guichet.EINVALID, "")
	if !answer("stop-2", true, "STOP recu") {
		t.Error("a key whose first answer failed is taken")
	}
	if out := must[bool](t)(s.OptedOut(ctx, phone)); !out {
		t.Error("the STOP answered on its second delivery did not opt out")
	}
}

// testBookings lists a phone's live bookings from a time, soonest first.
func testBookings(t *testing.T, s Stores) {
	ctx := t.Context()
	r := repliesOf(t, s)
	const phone, other = "+237677000001", "+237677000002"
	book := func(office, phone, service string, start time.Time) cases.Booking {
		t.Helper()
		return must[cases.Booking](t)(s.Book(ctx, booking(office, phone, service, start), 50, t0, nil))
	}
	later := book("wouri", phone, "courrier", slot.Add(48*time.Hour))
	first := book("douala-3", phone, "birth-certificate", slot) // starts at from: in
	cancelled := book("yaounde-1", phone, "business-licence", slot.Add(time.Hour))
	must[cases.Booking](t)(s.Cancel(ctx, cancelled.Ref, phone, t0))
	middle := book("yaounde-1", phone, "visit", slot.Add(24*time.Hour))
	book("wouri", other, "courrier", slot.Add(2*time.Hour))

	got := must[[]cases.Booking](t)(r.Bookings(ctx, phone, slot))
	refs := func(bs []cases.Booking) []string {
		var refs []string
		for _, b := range bs {
			refs = append(refs, b.Ref)
		}
		return refs
	}
	if want := []string{first.Ref, middle.Ref, later.Ref}; !slices.Equal(refs(got), want) {
		t.Fatalf("Bookings(from the slot) = %v, want %v", refs(got), want)
	}
	if b := got[0]; b.Office != "douala-3" || b.Service != "birth-certificate" || !b.Start.Equal(slot) ||
		b.Phone != phone || b.Lang != "fr" || b.Channel != "ussd" || !b.Booked.Equal(t0) || !b.Cancelled.IsZero() {
		t.Errorf("booking is %+v", b)
	}
	// From just after a slot's start, it is left out.
	if got := must[[]cases.Booking](t)(r.Bookings(ctx, phone, slot.Add(time.Second))); !slices.Equal(refs(got), []string{middle.Ref, later.Ref}) {
		t.Errorf("Bookings(after the first slot) = %v, want %v", refs(got), []string{middle.Ref, later.Ref})
	}
	if got := must[[]cases.Booking](t)(r.Bookings(ctx, "+237677000009", t0)); len(got) != 0 {
		t.Errorf("Bookings of a phone without any = %v", refs(got))
	}
}

// testOptOut records STOP and START: idempotent, per phone.
func testOptOut(t *testing.T, s Stores) {
	ctx := t.Context()
	r := repliesOf(t, s)
	const phone, other = "+237677000001", "+237677000002"
	opted := func(phone string, want bool) {
		t.Helper()
		if got := must[bool](t)(r.OptedOut(ctx, phone)); got != want {
			t.Errorf("OptedOut(%s) = %v, want %v", phone, got, want)
		}
	}
	opted(phone, false)
	noErr(t, r.SetOptOut(ctx, phone, false)) // START without a STOP
	opted(phone, false)
	noErr(t, r.SetOptOut(ctx, phone, true))
	noErr(t, r.SetOptOut(ctx, phone, true)) // STOP twice
	opted(phone, true)
	opted(other, false)
	noErr(t, r.SetOptOut(ctx, phone, false))
	opted(phone, false)
	noErr(t, r.SetOptOut(ctx, phone, true)) // STOP again after START
	opted(phone, true)
	wantCode(t, r.SetOptOut(ctx, "", true), guichet.EINVALID, "")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.SetOptOut(cancelled, other, true); !errors.Is(err, context.Canceled) {
		t.Errorf("SetOptOut with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := r.OptedOut(cancelled, phone); !errors.Is(err, context.Canceled) {
		t.Errorf("OptedOut with a cancelled context = %v, want context.Canceled", err)
	}
	if err := r.Enqueue(cancelled, []outbox.Message{{Phone: other, Body: "x"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := r.Bookings(cancelled, phone, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Bookings with a cancelled context = %v, want context.Canceled", err)
	}
	opted(other, false)
}

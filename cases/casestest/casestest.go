// Package casestest holds the contract that every store of the case
// domain keeps, with the outbox it writes to in the same transaction: run
// it from each implementation's tests with Run.
package casestest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// Stores are one implementation's stores on one database: the case
// domain's (cases.Memory, postgres.Cases), the outbox they write to
// (outbox.Memory, postgres.Outbox). The suite calls them through the
// interfaces the gateway's parts declare.
type Stores struct {
	cases.DB
	cases.CaseStore
	cases.VisitStore
	cases.CallbackStore
	Queue
	Outbox
}

// Queue is the rest of what the case stores keep: the callback queue that
// the hotline works, citizens' bookings and opt-outs.
type Queue interface {
	Callbacks(ctx context.Context, open bool, limit int) ([]cases.Callback, error)
	CallbacksOf(ctx context.Context, phone string) ([]cases.Callback, error)
	TakeCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
	CloseCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
	Bookings(ctx context.Context, phone string, from time.Time) ([]cases.Booking, error)
	SetOptOut(ctx context.Context, phone string, out bool) error
	OptedOut(ctx context.Context, phone string) (bool, error)
	AnswerOnce(ctx context.Context, key string, do func(ctx context.Context, w cases.Replies) error) (bool, error)
}

// Outbox is what the dispatcher, the inbox and the hotline do with the
// outbox.
type Outbox interface {
	Enqueue(ctx context.Context, msgs []outbox.Message) error
	ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error)
	Messages(ctx context.Context, phone string, limit int) ([]outbox.Message, error)
	DeliveryCounts(ctx context.Context, from, to time.Time) ([]outbox.DeliveryCount, error)
	Record(ctx context.Context, outcomes []outbox.Outcome) (int, error)
	ApplyReceipts(ctx context.Context, rs []outbox.Receipt) ([]bool, error)
}

// Run runs the contract suite. newStores returns fresh stores holding the
// demo seed (cases.DemoOffices and cases.DemoCases) and nothing else; it
// is called once per subtest.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	tests := []struct {
		name string
		run  func(t *testing.T, s Stores)
	}{
		{"Offices", testOffices},
		{"SeededCases", testSeededCases},
		{"OpenCase", testOpenCase},
		{"BookWithinCapacity", testBookWithinCapacity},
		{"BookOncePerService", testBookOncePerService},
		{"CancelFreesPlace", testCancelFreesPlace},
		{"Callback", testCallback},
		{"CallbackQueue", testCallbackQueue},
		{"TakeCallback", testTakeCallback},
		{"CloseCallback", testCloseCallback},
		{"CallbackConcurrent", testCallbackConcurrent},
		{"CallbackCancelled", testCallbackCancelled},
		{"Once", testOnce},
		{"OnceConcurrent", testOnceConcurrent},
		{"CancelledContext", testCancelledContext},
		{"OpenCaseNotify", testOpenCaseNotify},
		{"OpenCaseNotifyPanics", testOpenCaseNotifyPanics},
		{"BookNotify", testBookNotify},
		{"MoveCase", testMoveCase},
		{"MoveCaseAborted", testMoveCaseAborted},
		{"MoveCaseConcurrent", testMoveCaseConcurrent},
		{"Cases", testCases},
		{"CasesPaging", testCasesPaging},
		{"Remind", testRemind},
		{"RemindConcurrent", testRemindConcurrent},
		{"ClaimMessages", testClaimMessages},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimExpiredLease", testClaimExpiredLease},
		{"ClaimBehindDeferred", testClaimBehindDeferred},
		{"ClaimTransactionalFirst", testClaimTransactionalFirst},
		{"ClaimBehindClaimed", testClaimBehindClaimed},
		{"ClaimHeldTakesNoRoom", testClaimHeldTakesNoRoom},
		{"ClaimOrderConcurrent", testClaimOrderConcurrent},
		{"Messages", testMessages},
		{"Deliveries", testDeliveries},
		{"DeferredNotClaimed", testDeferredNotClaimed},
		{"Record", testRecord},
		{"ApplyReceipts", testApplyReceipts},
		{"Enqueue", testEnqueue},
		{"AnswerOnce", testAnswerOnce},
		{"Bookings", testBookings},
		{"OptOut", testOptOut},
		{"DeliveryCounts", testDeliveryCounts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStores(t)) })
	}
}

// t0 is a fixed "now" for bookings; slot is an hour after it.
var (
	t0   = time.Date(2026, time.November, 30, 7, 30, 0, 0, cases.Cameroon)
	slot = t0.Add(30 * time.Minute)
)

// wantCode fails t unless err carries the code and, if msg is not empty,
// that message.
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	if got := guichet.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if msg != "" && guichet.ErrorMessage(err) != msg {
		t.Fatalf("error %v: message %q, want %q", err, guichet.ErrorMessage(err), msg)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func booking(office, phone, service string, start time.Time) cases.Booking {
	return cases.Booking{Office: office, Start: start, Service: service, Phone: phone, Lang: "fr", Channel: "ussd", Booked: t0}
}

func testOffices(t *testing.T, s Stores) {
	ctx := t.Context()
	ids := func(offices []cases.Office) []string {
		var ids []string
		for _, o := range offices {
			ids = append(ids, o.ID)
		}
		return ids
	}
	all := must[[]cases.Office](t)(s.Offices(ctx, ""))
	if got, want := ids(all), []string{"bafoussam-ec", "douala-3", "yaounde-1", "wouri"}; !slices.Equal(got, want) {
		t.Errorf("Offices(\"\") = %v, want %v (by name)", got, want)
	}
	licence := must[[]cases.Office](t)(s.Offices(ctx, "business-licence"))
	if got, want := ids(licence), []string{"douala-3", "yaounde-1", "wouri"}; !slices.Equal(got, want) {
		t.Errorf("Offices(business-licence) = %v, want %v", got, want)
	}
	o := must[cases.Office](t)(s.Office(ctx, "wouri"))
	if o.Name != "Prefecture du Wouri" || !slices.Equal(o.Services, []string{"business-licence", "courrier"}) {
		t.Errorf("Office(wouri) = %+v", o)
	}
	_, err := s.Office(ctx, "atlantis")
	wantCode(t, err, guichet.ENOTFOUND, "")
}

func testSeededCases(t *testing.T, s Stores) {
	for _, want := range cases.DemoCases() {
		got := must[cases.Case](t)(s.Case(t.Context(), want.Ref))
		if !equalCase(got, want) {
			t.Errorf("Case(%s) = %+v, want %+v", want.Ref, got, want)
		}
	}
}

func testOpenCase(t *testing.T, s Stores) {
	ctx := t.Context()
	c := cases.Case{
		Service: "birth-certificate", Status: cases.StatusReceived, Phone: "+237677123456",
		Lang: "en", Channel: "ussd", Data: map[string]string{"born": "01021990"},
		Opened: t0, Updated: t0,
		History: []cases.Event{{Status: cases.StatusReceived, At: t0, Channel: "ussd", Who: "+237677123456"}},
	}
	a := must[cases.Case](t)(s.OpenCase(ctx, c, nil))
	b := must[cases.Case](t)(s.OpenCase(ctx, c, nil))
	for _, ref := range []string{a.Ref, b.Ref} {
		if len(ref) != 8 || !reference.Valid(ref) {
			t.Errorf("ref %q: want 8 digits with a valid check digit", ref)
		}
		for _, d := range cases.DemoCases() {
			if ref == d.Ref {
				t.Errorf("ref %q is a demo reference", ref)
			}
		}
	}
	if a.Ref == b.Ref {
		t.Fatalf("two cases got the same ref %s", a.Ref)
	}
	got := must[cases.Case](t)(s.Case(ctx, a.Ref))
	c.Ref = a.Ref
	if !equalCase(got, c) {
		t.Errorf("Case(%s) = %+v, want %+v", a.Ref, got, c)
	}
	// What a caller does to a returned case does not reach the store.
	got.Data["born"] = "changed"
	if again := must[cases.Case](t)(s.Case(ctx, a.Ref)); again.Data["born"] != "01021990" {
		t.Errorf("store shares its case data with callers: %v", again.Data)
	}
	_, err := s.Case(ctx, reference.FromNumber(9999999, 7))
	wantCode(t, err, guichet.ENOTFOUND, "")
}

// testBookWithinCapacity books one slot from 200 phones at once: exactly
// the capacity succeeds, each with its SMS, and the others write nothing.
func testBookWithinCapacity(t *testing.T, s Stores) {
	const tries, capacity = 200, 50
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		refs   = map[string]bool{}
		full   atomic.Int32
		others = make(chan error, tries)
	)
	for i := range tries {
		wg.Go(func() {
			b, err := s.Book(t.Context(), booking("douala-3", fmt.Sprintf("+23767700%04d", i), "birth-certificate", slot), capacity, t0, sms[cases.Booking]("booked"))
			switch {
			case err == nil:
				mu.Lock()
				refs[b.Ref] = true
				mu.Unlock()
			case guichet.ErrorCode(err) == guichet.ECONFLICT && guichet.ErrorMessage(err) == "slot full":
				full.Add(1)
			default:
				others <- err
			}
		})
	}
	wg.Wait()
	close(others)
	for err := range others {
		t.Errorf("unexpected error: %v", err)
	}
	if len(refs) != capacity || full.Load() != tries-capacity {
		t.Fatalf("%d distinct bookings and %d \"slot full\", want %d and %d", len(refs), full.Load(), capacity, tries-capacity)
	}
	taken := must[map[int64]int](t)(s.Taken(t.Context(), "douala-3", slot, slot.Add(time.Hour)))
	if want := map[int64]int{slot.Unix(): capacity}; !reflect.DeepEqual(taken, want) {
		t.Errorf("Taken = %v, want %v", taken, want)
	}
	msgs := must[[]outbox.Message](t)(s.ClaimMessages(t.Context(), 1000, time.Minute, t0))
	for _, m := range msgs {
		if !refs[m.CaseRef] {
			t.Errorf("message %+v is about no booking", m)
		}
	}
	if len(msgs) != capacity {
		t.Errorf("%d messages, want one per booking: %d", len(msgs), capacity)
	}
	// Another office's slot at the same time is not affected.
	if _, err := s.Book(t.Context(), booking("yaounde-1", "+237699000000", "birth-certificate", slot), capacity, t0, nil); err != nil {
		t.Errorf("booking another office: %v", err)
	}
}

func testBookOncePerService(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677123456"
	if _, err := s.Book(ctx, booking("douala-3", phone, "birth-certificate", slot), 50, t0, nil); err != nil {
		t.Fatal(err)
	}
	// Same service, another slot, another office: refused.
	_, err := s.Book(ctx, booking("yaounde-1", phone, "birth-certificate", slot.Add(24*time.Hour)), 50, t0, nil)
	wantCode(t, err, guichet.ECONFLICT, "already booked")
	// Another service: accepted.
	if _, err := s.Book(ctx, booking("douala-3", phone, "business-licence", slot.Add(time.Hour)), 50, t0, nil); err != nil {
		t.Errorf("booking another service: %v", err)
	}
	// Once the first slot has started, the phone may book again.
	later := slot.Add(time.Minute)
	if _, err := s.Book(ctx, booking("douala-3", phone, "birth-certificate", slot.Add(24*time.Hour)), 50, later, nil); err != nil {
		t.Errorf("booking after the first slot started: %v", err)
	}
}

func testCancelFreesPlace(t *testing.T, s Stores) {
	ctx := t.Context()
	const capacity = 2
	a := must[cases.Booking](t)(s.Book(ctx, booking("wouri", "+237677000001", "courrier", slot), capacity, t0, nil))
	must[cases.Booking](t)(s.Book(ctx, booking("wouri", "+237677000002", "courrier", slot), capacity, t0, nil))
	_, err := s.Book(ctx, booking("wouri", "+237677000003", "courrier", slot), capacity, t0, nil)
	wantCode(t, err, guichet.ECONFLICT, "slot full")

	// Only the booking's own phone may cancel it; to another, it does not exist.
	_, err = s.Cancel(ctx, a.Ref, "+237677000003", t0)
	wantCode(t, err, guichet.ENOTFOUND, "")
	_, err = s.Cancel(ctx, reference.FromNumber(9999999, 7), "+237677000001", t0)
	wantCode(t, err, guichet.ENOTFOUND, "")

	got := must[cases.Booking](t)(s.Cancel(ctx, a.Ref, "+237677000001", t0))
	if got.Ref != a.Ref || !got.Cancelled.Equal(t0) {
		t.Errorf("Cancel = %+v, want ref %s cancelled at %v", got, a.Ref, t0)
	}
	taken := must[map[int64]int](t)(s.Taken(ctx, "wouri", slot, slot.Add(time.Hour)))
	if taken[slot.Unix()] != 1 {
		t.Errorf("Taken after cancel = %v, want 1 place taken", taken)
	}
	_, err = s.Cancel(ctx, a.Ref, "+237677000001", t0)
	wantCode(t, err, guichet.ECONFLICT, "")

	// The freed place can be booked, and the cancelling phone may book again.
	must[cases.Booking](t)(s.Book(ctx, booking("wouri", "+237677000003", "courrier", slot), capacity, t0, nil))
	_, err = s.Book(ctx, booking("wouri", "+237677000004", "courrier", slot), capacity, t0, nil)
	wantCode(t, err, guichet.ECONFLICT, "slot full")
	must[cases.Booking](t)(s.Book(ctx, booking("wouri", "+237677000001", "courrier", slot.Add(time.Hour)), capacity, t0, nil))

	// A slot that has started cannot be cancelled.
	b := must[cases.Booking](t)(s.Book(ctx, booking("wouri", "+237677000009", "other", slot.Add(2*time.Hour)), capacity, t0, nil))
	_, err = s.Cancel(ctx, b.Ref, "+237677000009", slot.Add(2*time.Hour))
	wantCode(t, err, guichet.ECONFLICT, "booking is past")
}

func testCallback(t *testing.T, s Stores) {
	ctx := t.Context()
	request := func(phone, reason string) cases.Callback {
		t.Helper()
		cb := must[cases.Callback](t)(s.RequestCallback(ctx, cases.Callback{Phone: phone, Reason: reason, Lang: "fr", Channel: "ussd", Requested: t0}))
		if n := len(cb.Ticket); n == 0 || n > 6 || !isDigits(cb.Ticket) {
			t.Fatalf("ticket %q: want 1 to 6 digits", cb.Ticket)
		}
		return cb
	}
	a := request("+237677000001", "passport")
	again := request("+237677000001", "still waiting")
	if again.Ticket != a.Ticket || again.Reason != "passport" {
		t.Errorf("second request = %+v, want the open one %+v", again, a)
	}
	if b := request("+237677000002", ""); b.Ticket == a.Ticket {
		t.Errorf("two phones share ticket %s", a.Ticket)
	}
}

func testOnce(t *testing.T, s Stores) {
	ctx := t.Context()
	runs := 0
	do := func(vars map[string]string, err error) func(context.Context, cases.Store) (menus.Result, error) {
		return func(context.Context, cases.Store) (menus.Result, error) {
			runs++
			if err != nil {
				return menus.Result{}, err
			}
			return menus.Result{Vars: vars}, nil
		}
	}
	boom := guichet.Errorf(guichet.EUNAVAILABLE, "down")

	// A failure is not remembered: the retry runs.
	if _, err := s.Once(ctx, "cases.open", "k1", do(nil, boom)); !errors.Is(err, boom) {
		t.Fatalf("Once = %v, want %v", err, boom)
	}
	first := must[menus.Result](t)(s.Once(ctx, "cases.open", "k1", do(map[string]string{"ref": "1"}, nil)))
	second := must[menus.Result](t)(s.Once(ctx, "cases.open", "k1", do(map[string]string{"ref": "2"}, nil)))
	if runs != 2 || first.Vars["ref"] != "1" || second.Vars["ref"] != "1" {
		t.Errorf("runs %d, results %v then %v; want 2 runs and ref 1 twice", runs, first.Vars, second.Vars)
	}
	// The same key under another op, or another key, is another call.
	other := must[menus.Result](t)(s.Once(ctx, "slots.book", "k1", do(map[string]string{"ref": "3"}, nil)))
	third := must[menus.Result](t)(s.Once(ctx, "cases.open", "k2", do(map[string]string{"ref": "4"}, nil)))
	if other.Vars["ref"] != "3" || third.Vars["ref"] != "4" {
		t.Errorf("other op %v, other key %v: want refs 3 and 4", other.Vars, third.Vars)
	}
	// What a caller does to a result does not change the remembered one.
	second.Vars["ref"] = "changed"
	if again := must[menus.Result](t)(s.Once(ctx, "cases.open", "k1", do(nil, boom))); again.Vars["ref"] != "1" {
		t.Errorf("remembered result changed to %v", again.Vars)
	}
}

// testOnceConcurrent retries a call while the first one runs: the retry
// waits and gets the first one's result.
func testOnceConcurrent(t *testing.T, s Stores) {
	var (
		runs atomic.Int32
		wg   sync.WaitGroup
		got  = make([]menus.Result, 20)
		errs = make([]error, 20)
	)
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = s.Once(t.Context(), "cases.open", "same", func(context.Context, cases.Store) (menus.Result, error) {
				n := runs.Add(1)
				time.Sleep(5 * time.Millisecond)
				return menus.Result{Vars: map[string]string{"ref": fmt.Sprint(n)}}, nil
			})
		})
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("do ran %d times, want once", runs.Load())
	}
	for i := range got {
		if errs[i] != nil || got[i].Vars["ref"] != "1" {
			t.Errorf("call %d: %v, %v; want ref 1", i, got[i].Vars, errs[i])
		}
	}

	// A call that waits for another may give up when its context ends.
	release, holding := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := s.Once(t.Context(), "cases.open", "slow", func(context.Context, cases.Store) (menus.Result, error) {
			close(holding)
			<-release
			return menus.Result{}, nil
		})
		done <- err
	}()
	<-holding
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := s.Once(ctx, "cases.open", "slow", func(context.Context, cases.Store) (menus.Result, error) {
		t.Error("ran while the first call held the key")
		return menus.Result{}, nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting call = %v, want deadline exceeded", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func testCancelledContext(t *testing.T, s Stores) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.OpenCase(ctx, cases.Case{Service: "x", Status: cases.StatusReceived, Phone: "+237677000001"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenCase with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.Book(ctx, booking("wouri", "+237677000001", "courrier", slot), 50, t0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Book with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.MoveCase(ctx, cases.DemoCourrierReceived, cases.Move{Status: "forwarded", At: t0}, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("MoveCase with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.Cases(ctx, cases.CaseFilter{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Cases with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.ClaimMessages(ctx, 10, time.Minute, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("ClaimMessages with a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.Remind(ctx, t0, t0.Add(time.Hour), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Remind with a cancelled context = %v, want context.Canceled", err)
	}
}

// equalCase compares cases by instant, whatever zone a store returns times
// in.
func equalCase(a, b cases.Case) bool {
	norm := func(c cases.Case) cases.Case {
		c.Opened, c.Updated = c.Opened.UTC(), c.Updated.UTC()
		c.History = slices.Clone(c.History)
		for i := range c.History {
			c.History[i].At = c.History[i].At.UTC()
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

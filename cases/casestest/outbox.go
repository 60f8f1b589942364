package casestest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// tomorrow is the day after t0, in Cameroon, as reminders see it.
var (
	tomorrow    = time.Date(2026, time.December, 1, 0, 0, 0, 0, cases.Cameroon)
	dayAfterTom = tomorrow.AddDate(0, 0, 1)
)

func testRemind(t *testing.T, s Stores) {
	ctx := t.Context()
	book := func(phone string, start time.Time) cases.Booking {
		t.Helper()
		return must[cases.Booking](t)(s.Book(ctx, booking("douala-3", phone, "visit", start), 50, t0, nil))
	}
	due := book("+237677000001", tomorrow.Add(8*time.Hour))
	first := book("+237677000002", tomorrow) // the window's start is in it
	cancelled := book("+237677000003", tomorrow.Add(9*time.Hour))
	must[cases.Booking](t)(s.Cancel(ctx, cancelled.Ref, cancelled.Phone, t0))
	book("+237677000004", dayAfterTom)                // the window's end is not
	book("+237677000005", tomorrow.Add(-time.Hour))   // today
	book("+237677000006", dayAfterTom.Add(time.Hour)) // the day after

	var notified []string
	n := must[int](t)(s.Remind(ctx, tomorrow, dayAfterTom, func(b cases.Booking) []outbox.Message {
		notified = append(notified, b.Ref)
		return sms[cases.Booking]("reminder")(b)
	}))
	slices.Sort(notified)
	if want := []string{due.Ref, first.Ref}; n != 2 || !slices.Equal(notified, sortedCopy(want)) {
		t.Errorf("Remind = %d, notified %v; want 2, %v", n, notified, want)
	}
	for _, b := range []cases.Booking{due, first} {
		if msgs := must[[]outbox.Message](t)(s.Messages(ctx, b.Phone, 0)); len(msgs) != 1 || msgs[0].CaseRef != b.Ref || msgs[0].Kind != "reminder" {
			t.Errorf("messages to %s: %+v, want a reminder of %s", b.Phone, msgs, b.Ref)
		}
	}
	for _, phone := range []string{"+237677000003", "+237677000004", "+237677000005", "+237677000006"} {
		noMessages(t, s, phone)
	}

	// Reminded once: a second run finds nothing.
	if n := must[int](t)(s.Remind(ctx, tomorrow, dayAfterTom, sms[cases.Booking]("reminder"))); n != 0 {
		t.Errorf("second Remind = %d, want 0", n)
	}
	// A run whose notify panics reminds nobody; the next one does.
	late := book("+237677000007", tomorrow.Add(14*time.Hour))
	panics(t, func() {
		s.Remind(ctx, tomorrow, dayAfterTom, func(cases.Booking) []outbox.Message { panic("boom") })
	})
	noMessages(t, s, late.Phone)
	if n := must[int](t)(s.Remind(ctx, tomorrow, dayAfterTom, sms[cases.Booking]("reminder"))); n != 1 {
		t.Errorf("Remind after a panic = %d, want 1", n)
	}
}

// testRemindConcurrent reminds from four goroutines at once, as two
// processes would: each booking is reminded once.
func testRemindConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	const bookings = 30
	var phones []string
	for i := range bookings {
		phone := fmt.Sprintf("+2376990%05d", i)
		phones = append(phones, phone)
		start := tomorrow.Add(time.Duration(8+i%7) * time.Hour)
		must[cases.Booking](t)(s.Book(ctx, booking("yaounde-1", phone, "visit", start), 50, t0, nil))
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 4 {
		wg.Go(func() {
			slept := false
			n, err := s.Remind(ctx, tomorrow, dayAfterTom, func(b cases.Booking) []outbox.Message {
				if !slept { // so that unlocked reminders would overlap
					time.Sleep(20 * time.Millisecond)
					slept = true
				}
				return sms[cases.Booking]("reminder")(b)
			})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != bookings {
		t.Errorf("reminded %d in all, want %d", total, bookings)
	}
	for _, phone := range phones {
		if msgs := must[[]outbox.Message](t)(s.Messages(ctx, phone, 0)); len(msgs) != 1 {
			t.Errorf("%s got %d reminders, want 1", phone, len(msgs))
		}
	}
}

// write writes n pending messages to phone, about one new case, created a
// second apart from t0, and returns them as Messages tells them, oldest
// first.
func write(t *testing.T, s Stores, phone string, n int) []outbox.Message {
	t.Helper()
	must[cases.Case](t)(s.OpenCase(t.Context(), newCase("courrier", phone), func(c cases.Case) []outbox.Message {
		msgs := make([]outbox.Message, n)
		for i := range msgs {
			msgs[i] = outbox.Message{Phone: phone, Lang: "fr", Body: fmt.Sprint("message ", i), Kind: "opened", CaseRef: c.Ref, Created: t0.Add(time.Duration(i) * time.Second)}
		}
		return msgs
	}))
	msgs := must[[]outbox.Message](t)(s.Messages(t.Context(), phone, n))
	slices.Reverse(msgs)
	return msgs
}

// numbers returns n test numbers, +237677100000 and after.
func numbers(n int) []string {
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+237677%06d", 100000+i)
	}
	return phones
}

// spread writes each messages, pending, to every number of phones,
// interleaved (the first to every number, then the second…), created a
// millisecond apart from t0, and returns them by id.
func spread(t *testing.T, s Stores, phones []string, each int) []outbox.Message {
	t.Helper()
	var msgs []outbox.Message
	for i := range each {
		for _, phone := range phones {
			msgs = append(msgs, outbox.Message{Phone: phone, Lang: "fr", Body: fmt.Sprint("message ", i), Kind: "moved",
				Created: t0.Add(time.Duration(len(msgs)) * time.Millisecond)})
		}
	}
	noErr(t, s.Enqueue(t.Context(), msgs))
	var written []outbox.Message
	for _, phone := range phones {
		written = append(written, must[[]outbox.Message](t)(s.Messages(t.Context(), phone, each))...)
	}
	slices.SortFunc(written, func(a, b outbox.Message) int { return cmp.Compare(a.ID, b.ID) })
	if len(written) != len(msgs) {
		t.Fatalf("wrote %d messages, read back %d", len(msgs), len(written))
	}
	return written
}

// current returns m as the store has it now.
func current(t *testing.T, s Stores, m outbox.Message) outbox.Message {
	t.Helper()
	now, ok := byID(t, s, m.Phone)[m.ID]
	if !ok {
		t.Fatalf("message %d to %s is gone", m.ID, m.Phone)
	}
	return now
}

func ids(msgs []outbox.Message) []int64 {
	ids := make([]int64, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	return ids
}

func testClaimMessages(t *testing.T, s Stores) {
	ctx := t.Context()
	// One message to each of five numbers, so that none waits behind
	// another (testClaimBehindClaimed).
	written := spread(t, s, numbers(5), 1)
	claim := func(limit int, now time.Time) []outbox.Message {
		t.Helper()
		return must[[]outbox.Message](t)(s.ClaimMessages(ctx, limit, time.Minute, now))
	}
	first := claim(2, t0)
	if got, want := ids(first), ids(written[:2]); !slices.Equal(got, want) {
		t.Fatalf("first claim %v, want the oldest %v", got, want)
	}
	for i, m := range first {
		want := written[i]
		want.Status, want.Attempts = outbox.MessageSending, 1
		if !equalMessage(m, want) {
			t.Errorf("claimed %+v, want %+v", m, want)
		}
	}
	rest := claim(10, t0)
	if got, want := ids(rest), ids(written[2:]); !slices.Equal(got, want) {
		t.Fatalf("second claim %v, want %v", got, want)
	}
	if again := claim(10, t0); len(again) > 0 {
		t.Errorf("third claim %v, want none: all are claimed", ids(again))
	}

	record(t, s,
		outbox.Outcome{ID: first[0].ID, Attempt: 1, Status: outbox.MessageSent},
		outbox.Outcome{ID: first[1].ID, Attempt: 1, Status: outbox.MessageFailed, Reason: "unknown subscriber"},
		outbox.Outcome{ID: rest[0].ID, Attempt: 1, Status: outbox.MessagePending, Reason: "throttled"})
	retry := claim(10, t0.Add(time.Second))
	if len(retry) != 1 || retry[0].ID != rest[0].ID || retry[0].Attempts != 2 {
		t.Errorf("claim after a retry = %+v, want message %d at its second attempt", retry, rest[0].ID)
	}
	if m := current(t, s, first[0]); m.Status != outbox.MessageSent {
		t.Errorf("sent message is %+v", m)
	}
	if m := current(t, s, first[1]); m.Status != outbox.MessageFailed || m.Reason != "unknown subscriber" {
		t.Errorf("failed message is %+v", m)
	}

	if n := must[int](t)(s.Record(ctx, []outbox.Outcome{{ID: 1 << 40, Attempt: 1, Status: outbox.MessageSent}})); n != 0 {
		t.Errorf("the outcome of no message was applied")
	}
	wantCode(t, errOf(s.Record(ctx, []outbox.Outcome{{ID: first[0].ID, Attempt: 1, Status: outbox.MessageSending}})), guichet.EINVALID, "")
	_, err := s.ClaimMessages(ctx, 0, time.Minute, t0)
	wantCode(t, err, guichet.EINVALID, "")
}

// testClaimConcurrent drains the outbox from four claimers at once: each
// message goes to exactly one. The messages go to as many numbers, so that
// none waits behind another that is never recorded.
func testClaimConcurrent(t *testing.T, s Stores) {
	const n = 60
	written := spread(t, s, numbers(n), 1)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		claims = map[int64]int{}
	)
	for range 4 {
		wg.Go(func() {
			for {
				msgs, err := s.ClaimMessages(t.Context(), 3, time.Minute, t0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(msgs) == 0 {
					return
				}
				mu.Lock()
				for _, m := range msgs {
					claims[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, m := range written {
		if claims[m.ID] != 1 {
			t.Errorf("message %d claimed %d times, want once", m.ID, claims[m.ID])
		}
	}
	if len(claims) != n {
		t.Errorf("%d messages claimed, want %d", len(claims), n)
	}
}

// testClaimExpiredLease claims again a message whose sender's lease ended:
// the sender crashed.
func testClaimExpiredLease(t *testing.T, s Stores) {
	ctx := t.Context()
	written := write(t, s, "+237677000001", 1)
	claim := func(now time.Time) []outbox.Message {
		t.Helper()
		return must[[]outbox.Message](t)(s.ClaimMessages(ctx, 10, time.Minute, now))
	}
	if got := claim(t0); len(got) != 1 {
		t.Fatalf("claimed %v, want the message", ids(got))
	}
	if got := claim(t0.Add(59 * time.Second)); len(got) != 0 {
		t.Errorf("claimed %v while the lease holds", ids(got))
	}
	again := claim(t0.Add(time.Minute))
	if len(again) != 1 || again[0].ID != written[0].ID || again[0].Attempts != 2 || again[0].Status != outbox.MessageSending {
		t.Fatalf("claim after the lease = %+v, want message %d at its second attempt", again, written[0].ID)
	}
	record(t, s, outbox.Outcome{ID: again[0].ID, Attempt: again[0].Attempts, Status: outbox.MessageSent})
	if got := claim(t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("claimed %v after it was sent", ids(got))
	}
}

func testMessages(t *testing.T, s Stores) {
	ctx := t.Context()
	written := write(t, s, "+237677000001", 4)
	write(t, s, "+237677000002", 2)
	got := must[[]outbox.Message](t)(s.Messages(ctx, "+237677000001", 3))
	want := slices.Clone(written[1:])
	slices.Reverse(want)
	if len(got) != 3 {
		t.Fatalf("Messages = %v, want %v", ids(got), ids(want))
	}
	for i := range got {
		if !equalMessage(got[i], want[i]) {
			t.Errorf("message %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	noMessages(t, s, "+237677000003")
}

// equalMessage compares messages by instant, whatever zone a store returns
// times in.
func equalMessage(a, b outbox.Message) bool {
	a.Created, b.Created = a.Created.UTC(), b.Created.UTC()
	return a == b
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// byID returns the messages to phone by id, as Messages tells them.
func byID(t *testing.T, s Stores, phone string) map[int64]outbox.Message {
	t.Helper()
	out := map[int64]outbox.Message{}
	for _, m := range must[[]outbox.Message](t)(s.Messages(t.Context(), phone, 0)) {
		out[m.ID] = m
	}
	return out
}

// testDeliveries sends messages and applies receipts: ids match whether
// the receipt writes them in hex or decimal, but only on the same bind and
// destination; states map to statuses, intermediate ones change nothing.
func testDeliveries(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone, other = "+237677000001", "+237699000002"
	written := write(t, s, phone, 6)
	mine := write(t, s, other, 1)
	must[[]outbox.Message](t)(s.ClaimMessages(ctx, 10, time.Minute, t0))
	smscIDs := []string{"0000A1B2", "42", "0000A1B3", "0000A1B4", "0000A1B5", "0000A1B6"}
	var outcomes []outbox.Outcome
	for i, m := range written {
		outcomes = append(outcomes, outbox.Outcome{ID: m.ID, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: smscIDs[i]})
	}
	record(t, s, append(outcomes, outbox.Outcome{ID: mine[0].ID, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "0000A1B2"})...)
	if n := must[int](t)(s.Record(ctx, []outbox.Outcome{{ID: 1 << 40, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "1"}})); n != 0 {
		t.Errorf("the outcome of no message was applied")
	}

	sent := byID(t, s, phone)[written[0].ID]
	if sent.Status != outbox.MessageSent || sent.Bind != "mtn-1" || sent.SMSCID != "0000A1B2" || sent.Sent.IsZero() {
		t.Fatalf("sent message is %+v, want sent on mtn-1 as 0000A1B2 with a time", sent)
	}
	for _, tc := range []struct {
		label          string
		bind, id, dest string
		state          string
		matched        bool
		msg            int64 // 0: none changes
		status         string
	}{
		{"decimal id, number without +", "mtn-1", "41394", "237677000001", "DELIVRD", true, written[0].ID, outbox.MessageDelivered},
		{"same id in hex", "mtn-1", "0x2a", "+237677000001", "UNDELIV", true, written[1].ID, outbox.MessageUndeliverable},
		{"rejected", "mtn-1", "A1B3", "237677000001", "REJECTD", true, written[2].ID, outbox.MessageUndeliverable},
		{"expired", "mtn-1", "41396", "237677000001", "EXPIRED", true, written[3].ID, outbox.MessageExpired},
		{"deleted", "mtn-1", "0000a1b5", "237677000001", "DELETED", true, written[4].ID, outbox.MessageUndeliverable},
		{"enroute keeps sent", "mtn-1", "0000A1B6", "237677000001", "ENROUTE", true, written[5].ID, outbox.MessageSent},
		{"another bind", "orange-1", "0000A1B6", "237677000001", "DELIVRD", false, 0, ""},
		{"another number", "mtn-1", "0000A1B6", "237677000009", "DELIVRD", false, 0, ""},
		{"unknown id", "mtn-1", "FFFF", "237677000001", "DELIVRD", false, 0, ""},
	} {
		before := byID(t, s, phone)
		r := outbox.Receipt{Bind: tc.bind, Phone: outbox.ReceiptNumber(tc.dest), SMSCID: tc.id, State: tc.state}
		matched := must[[]bool](t)(s.ApplyReceipts(ctx, []outbox.Receipt{r}))[0]
		if matched != tc.matched {
			t.Errorf("%s: matched %v, want %v", tc.label, matched, tc.matched)
		}
		after := byID(t, s, phone)
		for id, m := range after {
			want := before[id].Status
			if id == tc.msg {
				want = tc.status
			}
			if m.Status != want {
				t.Errorf("%s: message %d is %s, want %s", tc.label, id, m.Status, want)
			}
		}
	}
	if m := byID(t, s, other)[mine[0].ID]; m.Status != outbox.MessageSent {
		t.Errorf("the other number's message with the same id became %s", m.Status)
	}
	if got := claimAll(t, s, t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("claimed %v after they were sent", got)
	}
}

func claimAll(t *testing.T, s Stores, now time.Time) []int64 {
	t.Helper()
	return ids(must[[]outbox.Message](t)(s.ClaimMessages(t.Context(), 100, time.Minute, now)))
}

// testDeferredNotClaimed defers a message: it is pending, with its reason,
// and claimed again only from the time given.
func testDeferredNotClaimed(t *testing.T, s Stores) {
	ctx := t.Context()
	written := write(t, s, "+237677000001", 2)
	if got := claimAll(t, s, t0); len(got) != 2 {
		t.Fatalf("claimed %v, want both", got)
	}
	record(t, s,
		outbox.Outcome{ID: written[0].ID, Attempt: 1, Status: outbox.MessagePending, Reason: "ESME_RMSGQFUL (0x14)", NotBefore: t0.Add(30 * time.Second)},
		outbox.Outcome{ID: written[1].ID, Attempt: 1, Status: outbox.MessageExpired, Reason: "older than 24h"})
	if n := must[int](t)(s.Record(ctx, []outbox.Outcome{{ID: 1 << 40, Attempt: 1, Status: outbox.MessagePending, Reason: "x", NotBefore: t0}})); n != 0 {
		t.Errorf("the deferral of no message was applied")
	}
	m := byID(t, s, "+237677000001")
	if got := m[written[0].ID]; got.Status != outbox.MessagePending || got.Reason != "ESME_RMSGQFUL (0x14)" {
		t.Errorf("deferred message is %+v", got)
	}
	if got := m[written[1].ID]; got.Status != outbox.MessageExpired {
		t.Errorf("expired message is %+v", got)
	}
	if got := claimAll(t, s, t0.Add(29*time.Second)); len(got) != 0 {
		t.Errorf("claimed %v before its time", got)
	}
	if got := claimAll(t, s, t0.Add(30*time.Second)); !slices.Equal(got, []int64{written[0].ID}) {
		t.Errorf("claimed %v at its time, want [%d]", got, written[0].ID)
	}
	// Deferred without a time, it waits no more.
	record(t, s, outbox.Outcome{ID: written[0].ID, Attempt: 2, Status: outbox.MessagePending, Reason: "connection lost before sending"})
	if got := claimAll(t, s, t0.Add(31*time.Second)); len(got) != 1 {
		t.Errorf("claimed %v after a deferral without a time, want the message", got)
	}
}

// testRecord applies many outcomes at once: sent ones with their bind and
// id, deferred ones until their time, failed and expired ones; an outcome
// of a claim that has since been claimed again, or of a message no longer
// claimed, changes nothing; an unknown status is refused whole.
func testRecord(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677000021"
	written := write(t, s, phone, 5)
	claimed := must[[]outbox.Message](t)(s.ClaimMessages(ctx, 100, time.Minute, t0))
	if len(claimed) != 5 {
		t.Fatalf("claimed %d, want 5", len(claimed))
	}
	a := claimed[0].Attempts
	wantCode(t, errOf(s.Record(ctx, []outbox.Outcome{{ID: written[0].ID, Attempt: a, Status: outbox.MessageDelivered}})), guichet.EINVALID, "")
	n := must[int](t)(s.Record(ctx, []outbox.Outcome{
		{ID: written[0].ID, Attempt: a, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "A1"},
		{ID: written[1].ID, Attempt: a, Status: outbox.MessagePending, Reason: "ESME_RMSGQFUL (0x14)", NotBefore: t0.Add(30 * time.Second)},
		{ID: written[2].ID, Attempt: a, Status: outbox.MessageFailed, Reason: "ESME_RINVDSTADR (0x0B)"},
		{ID: written[3].ID, Attempt: a, Status: outbox.MessageExpired, Reason: "too old"},
		{ID: written[4].ID, Attempt: a - 1, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "stale"}, // an older claim's
		{ID: 1 << 40, Attempt: 1, Status: outbox.MessageSent},
	}))
	if n != 4 {
		t.Errorf("Record applied %d outcomes, want 4", n)
	}
	m := byID(t, s, phone)
	if got := m[written[0].ID]; got.Status != outbox.MessageSent || got.Bind != "mtn" || got.SMSCID != "A1" || got.Sent.IsZero() {
		t.Errorf("sent message is %+v", got)
	}
	if got := m[written[1].ID]; got.Status != outbox.MessagePending || got.Reason != "ESME_RMSGQFUL (0x14)" {
		t.Errorf("deferred message is %+v", got)
	}
	if got := m[written[2].ID]; got.Status != outbox.MessageFailed || got.Reason != "ESME_RINVDSTADR (0x0B)" {
		t.Errorf("failed message is %+v", got)
	}
	if got := m[written[3].ID]; got.Status != outbox.MessageExpired {
		t.Errorf("expired message is %+v", got)
	}
	if got := m[written[4].ID]; got.Status != outbox.MessageSending || got.SMSCID != "" {
		t.Errorf("the outcome of an older claim changed %+v", got)
	}
	// The deferred one is claimed again from its time only; a sent one's
	// second outcome (its claim is over) changes nothing.
	if got := claimAll(t, s, t0.Add(29*time.Second)); len(got) != 0 {
		t.Errorf("claimed %v before the deferred message's time", got)
	}
	if got := claimAll(t, s, t0.Add(2*time.Minute)); !slices.Contains(got, written[1].ID) {
		t.Errorf("claimed %v at its time, want the deferred %d among them", got, written[1].ID)
	}
	if n := must[int](t)(s.Record(ctx, []outbox.Outcome{{ID: written[0].ID, Attempt: a, Status: outbox.MessageFailed}})); n != 0 {
		t.Errorf("an outcome for a message no longer claimed was applied")
	}
}

func errOf[T any](_ T, err error) error { return err }

// testApplyReceipts applies receipts many at once: each to its message,
// ids compared in any base, on its bind and number only; a state that
// changes nothing still matches.
func testApplyReceipts(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677000041"
	written := write(t, s, phone, 3)
	claimAll(t, s, t0)
	for i, id := range []string{"1F", "20", "21"} {
		record(t, s, outbox.Outcome{ID: written[i].ID, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn", SMSCID: id})
	}
	matched := must[[]bool](t)(s.ApplyReceipts(ctx, []outbox.Receipt{
		{Bind: "mtn", Phone: phone, SMSCID: "31", State: "DELIVRD"},    // 0x1F in decimal
		{Bind: "orange", Phone: phone, SMSCID: "20", State: "DELIVRD"}, // another bind
		{Bind: "mtn", Phone: phone, SMSCID: "20", State: "UNDELIV"},
		{Bind: "mtn", Phone: phone, SMSCID: "21", State: "ENROUTE"},
		{Bind: "mtn", Phone: "+237677000042", SMSCID: "21", State: "DELIVRD"}, // another number
	}))
	if want := []bool{true, false, true, true, false}; !slices.Equal(matched, want) {
		t.Errorf("matched %v, want %v", matched, want)
	}
	m := byID(t, s, phone)
	for i, want := range []string{outbox.MessageDelivered, outbox.MessageUndeliverable, outbox.MessageSent} {
		if got := m[written[i].ID].Status; got != want {
			t.Errorf("message %d is %s, want %s", i, got, want)
		}
	}
	if got := must[[]bool](t)(s.ApplyReceipts(ctx, nil)); len(got) != 0 {
		t.Errorf("no receipts matched %v", got)
	}
}

// claimedAt claims up to limit messages at now, for a minute.
func claimedAt(t *testing.T, s Stores, limit int, now time.Time) []int64 {
	t.Helper()
	return ids(must[[]outbox.Message](t)(s.ClaimMessages(t.Context(), limit, time.Minute, now)))
}

// record records outcomes, each of which must apply.
func record(t *testing.T, s Stores, outcomes ...outbox.Outcome) {
	t.Helper()
	if n := must[int](t)(s.Record(t.Context(), outcomes)); n != len(outcomes) {
		t.Fatalf("Record applied %d of %d outcomes", n, len(outcomes))
	}
}

// testClaimBehindDeferred: a message written after an earlier one to its
// number was deferred waits for it: neither is claimed before the first is
// due, then both are, in the same claim, in order. A logged message holds
// nothing back, and messages to other numbers go meanwhile.
func testClaimBehindDeferred(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone, other = "+237677000051", "+237677000052"
	noErr(t, s.Enqueue(ctx, []outbox.Message{{Phone: phone, Body: "logged", Status: outbox.MessageLogged, Created: t0}}))
	first := write(t, s, phone, 1)[0]
	if got := claimAll(t, s, t0); !slices.Equal(got, []int64{first.ID}) {
		t.Fatalf("claimed %v, want [%d]", got, first.ID)
	}
	record(t, s, outbox.Outcome{ID: first.ID, Attempt: 1, Status: outbox.MessagePending, Reason: "ESME_RTHROTTLED (0x58)", NotBefore: t0.Add(30 * time.Second)})
	second := write(t, s, phone, 1)[0]
	mine := write(t, s, other, 1)[0]
	if got := claimAll(t, s, t0.Add(29*time.Second)); !slices.Equal(got, []int64{mine.ID}) {
		t.Errorf("claimed %v while the first message to %s waits; want only the other number's [%d]", got, phone, mine.ID)
	}
	if got := claimAll(t, s, t0.Add(30*time.Second)); !slices.Equal(got, []int64{first.ID, second.ID}) {
		t.Errorf("claimed %v once the first is due, want both in order: [%d %d]", got, first.ID, second.ID)
	}
}

// testClaimBehindClaimed: a message is not claimed while an earlier one to
// its number is claimed by another sender, until that one is final (sent,
// whatever its receipt will say) or its lease runs out: then the later
// ones go with it, in order.
func testClaimBehindClaimed(t *testing.T, s Stores) {
	const phone = "+237677000061"
	written := write(t, s, phone, 4)
	if got := claimedAt(t, s, 1, t0); !slices.Equal(got, []int64{written[0].ID}) {
		t.Fatalf("claimed %v, want the first [%d]", got, written[0].ID)
	}
	if got := claimAll(t, s, t0); len(got) != 0 {
		t.Errorf("claimed %v while message %d to the same number is claimed", got, written[0].ID)
	}
	record(t, s, outbox.Outcome{ID: written[0].ID, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "A1"})
	if got := claimedAt(t, s, 1, t0); !slices.Equal(got, []int64{written[1].ID}) {
		t.Fatalf("claimed %v once the first was sent, want the second [%d]", got, written[1].ID)
	}
	if got := claimAll(t, s, t0.Add(59*time.Second)); len(got) != 0 {
		t.Errorf("claimed %v while message %d to the same number is claimed", got, written[1].ID)
	}
	if got, want := claimAll(t, s, t0.Add(time.Minute)), ids(written[1:]); !slices.Equal(got, want) {
		t.Errorf("claimed %v once the second's lease ran out, want %v", got, want)
	}
}

// testClaimTransactionalFirst: bulk messages (a campaign) written first
// leave after the transactional ones due, which a claim takes first, and a
// transactional message does not wait behind its number's campaign
// message; each kind keeps its order to a number.
func testClaimTransactionalFirst(t *testing.T, s Stores) {
	ctx := t.Context()
	var bulk []outbox.Message
	for i := range 5 {
		bulk = append(bulk, outbox.Message{Phone: fmt.Sprintf("+2376770009%02d", i), Body: "Vaccination samedi", Bulk: true, Owner: "health", KeyID: "key_1", Created: t0})
	}
	noErr(t, s.Enqueue(ctx, bulk))
	notice := write(t, s, "+237677000900", 1)[0] // after that number's campaign message
	others := write(t, s, "+237677000950", 2)
	if got := claimedAt(t, s, 2, t0); !slices.Equal(got, []int64{notice.ID, others[0].ID}) {
		t.Errorf("a claim of two took %v, want the transactional %d and %d before the campaign, %d not behind its number's campaign message",
			got, notice.ID, others[0].ID, notice.ID)
	}
	// others[1] waits behind others[0], claimed: the campaign goes.
	if got, want := claimedAt(t, s, 10, t0), ids(campaign(t, s)); !slices.Equal(got, want) {
		t.Errorf("then claimed %v, want the campaign %v", got, want)
	}
	msgs := must[[]outbox.Message](t)(s.Messages(ctx, "+237677000901", 10))
	if len(msgs) != 1 || !msgs[0].Bulk || msgs[0].Owner != "health" || msgs[0].KeyID != "key_1" {
		t.Errorf("a campaign message reads back as %+v", msgs)
	}
}

// campaign returns the bulk messages written so far.
func campaign(t *testing.T, s Stores) []outbox.Message {
	t.Helper()
	var out []outbox.Message
	for i := range 5 {
		for _, m := range must[[]outbox.Message](t)(s.Messages(t.Context(), fmt.Sprintf("+2376770009%02d", i), 10)) {
			if m.Bulk {
				out = append(out, m)
			}
		}
	}
	return out
}

// testClaimHeldTakesNoRoom: the messages of a number held back do not take
// a claim's room: with many waiting behind a deferred one, a claim of two
// still takes the two written to another number after them.
func testClaimHeldTakesNoRoom(t *testing.T, s Stores) {
	const held, other = "+237677000071", "+237677000072"
	first := write(t, s, held, 1)[0]
	claimAll(t, s, t0)
	record(t, s, outbox.Outcome{ID: first.ID, Attempt: 1, Status: outbox.MessagePending, Reason: "no bind", NotBefore: t0.Add(time.Hour)})
	write(t, s, held, 5)
	mine := write(t, s, other, 2)
	if got := claimedAt(t, s, 2, t0); !slices.Equal(got, ids(mine)) {
		t.Errorf("claimed %v, want the other number's %v", got, ids(mine))
	}
}

// testClaimOrderConcurrent drains several messages to each of a dozen
// numbers from eight claimers at once, each taking a few at a time and
// recording them sent after a moment, as senders in several processes do:
// no claim ever takes a message while an earlier one to its number is
// neither final nor in the same claim, and each message is claimed once.
func testClaimOrderConcurrent(t *testing.T, s Stores) {
	const claimers, each = 8, 5
	written := spread(t, s, numbers(12), each)
	type state struct{ claimed, final bool }
	var (
		mu      sync.Mutex
		states  = map[int64]*state{}
		byPhone = map[string][]int64{} // in id order
		done    atomic.Int64
		faults  atomic.Int64 // the first few are told
		wg      sync.WaitGroup
	)
	for _, m := range written {
		states[m.ID] = &state{}
		byPhone[m.Phone] = append(byPhone[m.Phone], m.ID)
	}
	deadline := time.Now().Add(20 * time.Second)
	for range claimers {
		wg.Go(func() {
			for done.Load() < int64(len(written)) && time.Now().Before(deadline) {
				msgs, err := s.ClaimMessages(t.Context(), 3, time.Minute, t0)
				if err != nil {
					t.Error(err)
					return
				}
				if len(msgs) == 0 {
					time.Sleep(time.Millisecond)
					continue
				}
				mine := map[int64]bool{}
				for _, m := range msgs {
					mine[m.ID] = true
				}
				mu.Lock()
				for _, m := range msgs {
					if states[m.ID].claimed {
						t.Errorf("message %d claimed twice", m.ID)
					}
					states[m.ID].claimed = true
					for _, id := range byPhone[m.Phone] {
						if id < m.ID && !states[id].final && !mine[id] && faults.Add(1) <= 5 {
							t.Errorf("message %d claimed while %d to the same number is neither final nor in the claim", m.ID, id)
						}
					}
				}
				mu.Unlock()
				time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond) // sending
				// Final before Record commits, so that a claim that
				// follows the commit never sees one not yet marked; a
				// claim during the commit may miss a fault, none is
				// reported that is not one.
				mu.Lock()
				outcomes := make([]outbox.Outcome, len(msgs))
				for i, m := range msgs {
					states[m.ID].final = true
					outcomes[i] = outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: fmt.Sprint(m.ID)}
				}
				mu.Unlock()
				n, err := s.Record(t.Context(), outcomes)
				if err != nil || n != len(outcomes) {
					t.Errorf("Record = %d, %v; want %d", n, err, len(outcomes))
					return
				}
				done.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if n := faults.Load(); n > 0 {
		t.Errorf("%d messages claimed out of order in all", n)
	}
	if n := done.Load(); n != int64(len(written)) {
		t.Errorf("%d of %d messages sent", n, len(written))
	}
}

package casestest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// callbackQueue is what the hotline console does with callback requests,
// beside Store.
type callbackQueue interface {
	Callbacks(ctx context.Context, open bool, limit int) ([]cases.Callback, error)
	CallbacksOf(ctx context.Context, phone string) ([]cases.Callback, error)
	TakeCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
	CloseCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
}

func callbackQueueOf(t *testing.T, s Stores) callbackQueue {
	t.Helper()
	q, ok := any(s).(callbackQueue)
	if !ok {
		t.Fatalf("%T keeps no callback queue", s)
	}
	return q
}

// requestAt asks a callback for phone at requested.
func requestAt(t *testing.T, s Stores, phone, reason string, requested time.Time) cases.Callback {
	t.Helper()
	return must[cases.Callback](t)(s.RequestCallback(t.Context(), cases.Callback{
		Phone: phone, Reason: reason, Lang: "fr", Channel: "ussd", Requested: requested,
		// A new request is neither taken nor closed, whatever it says.
		TakenBy: "intruder", Taken: requested, ClosedBy: "intruder", Closed: requested,
	}))
}

// equalCallbacks compares callback requests by instant, whatever zone a
// store returns times in.
func equalCallbacks(a, b []cases.Callback) bool {
	norm := func(cbs []cases.Callback) []cases.Callback {
		out := make([]cases.Callback, len(cbs))
		for i, cb := range cbs {
			cb.Requested, cb.Taken, cb.Closed = cb.Requested.UTC(), cb.Taken.UTC(), cb.Closed.UTC()
			out[i] = cb
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func tickets(cbs []cases.Callback) []string {
	out := make([]string, 0, len(cbs))
	for _, cb := range cbs {
		out = append(out, cb.Ticket)
	}
	return out
}

// testCallbackQueue lists open requests oldest first, in the order they
// came when they came at the same time, with the pages' limits.
func testCallbackQueue(t *testing.T, s Stores) {
	ctx := t.Context()
	q := callbackQueueOf(t, s)
	if got := must[[]cases.Callback](t)(q.Callbacks(ctx, true, 0)); len(got) != 0 {
		t.Fatalf("open requests of an empty store: %+v", got)
	}
	late := requestAt(t, s, "+237677000001", "passport", t0.Add(2*time.Minute))
	first := requestAt(t, s, "+237677000002", "birth", t0)
	middle := requestAt(t, s, "+237677000003", "", t0.Add(time.Minute))
	tied := requestAt(t, s, "+237677000004", "licence", t0) // same time as first, asked after it
	if late.TakenBy != "" || !late.Taken.IsZero() || late.ClosedBy != "" || !late.Closed.IsZero() {
		t.Errorf("new request is %+v: want neither taken nor closed", late)
	}
	queue := []cases.Callback{first, tied, middle, late}
	for _, tc := range []struct {
		label string
		limit int
		want  []cases.Callback
	}{
		{"no limit", 0, queue},
		{"negative limit", -1, queue},
		{"limit 2", 2, queue[:2]},
		{"limit over the maximum", guichet.MaxPage + 1, queue},
	} {
		got := must[[]cases.Callback](t)(q.Callbacks(ctx, true, tc.limit))
		if !equalCallbacks(got, tc.want) {
			t.Errorf("%s: open requests %v, want %v\ngot  %+v\nwant %+v", tc.label, tickets(got), tickets(tc.want), got, tc.want)
		}
	}
	if got := must[[]cases.Callback](t)(q.Callbacks(ctx, false, 0)); len(got) != 0 {
		t.Errorf("closed requests when none was closed: %+v", got)
	}

	// A page is DefaultPage long unless asked otherwise.
	for i := range guichet.DefaultPage + 2 {
		requestAt(t, s, fmt.Sprintf("+23769900%04d", i), "", t0.Add(time.Hour+time.Duration(i)*time.Second))
	}
	all := len(queue) + guichet.DefaultPage + 2
	for _, tc := range []struct {
		limit, want int
	}{{0, guichet.DefaultPage}, {guichet.DefaultPage + 1, guichet.DefaultPage + 1}, {guichet.MaxPage, all}} {
		got := must[[]cases.Callback](t)(q.Callbacks(ctx, true, tc.limit))
		if len(got) != tc.want || !equalCallbacks(got[:len(queue)], queue) {
			t.Errorf("Callbacks(open, %d): %d requests starting %v, want %d starting %v", tc.limit, len(got), tickets(got[:min(len(got), len(queue))]), tc.want, tickets(queue))
		}
	}
}

// testTakeCallback takes requests: one operator at a time, again by the
// same one, never a closed or unknown one.
func testTakeCallback(t *testing.T, s Stores) {
	ctx := t.Context()
	q := callbackQueueOf(t, s)
	a := requestAt(t, s, "+237677000001", "passport", t0)
	b := requestAt(t, s, "+237677000002", "birth", t0.Add(time.Minute))
	t1, t2 := t0.Add(10*time.Minute), t0.Add(20*time.Minute)
	taken := a
	taken.TakenBy, taken.Taken = "amina", t1
	for _, tc := range []struct {
		label       string
		ticket, who string
		at          time.Time
		code        string // "" for success
		mentions    string // what the error's message names
		want        cases.Callback
	}{
		{"take", a.Ticket, "amina", t1, "", "", taken},
		{"take again, same operator: keeps the first time", a.Ticket, "amina", t2, "", "", taken},
		{"another operator", a.Ticket, "bruno", t2, guichet.ECONFLICT, "amina", cases.Callback{}},
		{"unknown ticket", "999999", "amina", t2, guichet.ENOTFOUND, "", cases.Callback{}},
		{"no operator", b.Ticket, "", t2, guichet.EINVALID, "", cases.Callback{}},
		{"no time", b.Ticket, "amina", time.Time{}, guichet.EINVALID, "", cases.Callback{}},
	} {
		got, err := q.TakeCallback(ctx, tc.ticket, tc.who, tc.at)
		if tc.code == "" {
			if err != nil || !equalCallbacks([]cases.Callback{got}, []cases.Callback{tc.want}) {
				t.Errorf("%s: %+v, %v; want %+v", tc.label, got, err, tc.want)
			}
			continue
		}
		if guichet.ErrorCode(err) != tc.code || !strings.Contains(guichet.ErrorMessage(err), tc.mentions) {
			t.Errorf("%s: %+v, %v; want %s naming %q", tc.label, got, err, tc.code, tc.mentions)
		}
	}
	// The lists tell who took what; refused takes changed nothing.
	if got, want := must[[]cases.Callback](t)(q.Callbacks(ctx, true, 0)), []cases.Callback{taken, b}; !equalCallbacks(got, want) {
		t.Errorf("open requests %+v, want %+v", got, want)
	}
	if got, want := must[[]cases.Callback](t)(q.CallbacksOf(ctx, a.Phone)), []cases.Callback{taken}; !equalCallbacks(got, want) {
		t.Errorf("requests of %s: %+v, want %+v", a.Phone, got, want)
	}
}

// testCloseCallback closes requests: they leave the queue for the closed
// list, and their phones may ask again.
func testCloseCallback(t *testing.T, s Stores) {
	ctx := t.Context()
	q := callbackQueueOf(t, s)
	const phoneA, phoneB = "+237677000001", "+237677000002"
	a := requestAt(t, s, phoneA, "passport", t0)
	b := requestAt(t, s, phoneB, "birth", t0.Add(time.Minute))
	must[cases.Callback](t)(q.TakeCallback(ctx, a.Ticket, "amina", t0.Add(time.Hour)))

	// Another operator may close it: a supervisor, or a colleague who
	// took over.
	closedA := a
	closedA.TakenBy, closedA.Taken, closedA.ClosedBy, closedA.Closed = "amina", t0.Add(time.Hour), "bruno", t0.Add(3*time.Hour)
	if got := must[cases.Callback](t)(q.CloseCallback(ctx, a.Ticket, "bruno", t0.Add(3*time.Hour))); !equalCallbacks([]cases.Callback{got}, []cases.Callback{closedA}) {
		t.Errorf("closed %+v, want %+v", got, closedA)
	}
	// Closed later, with an earlier time: the closed list goes by time.
	closedB := b
	closedB.ClosedBy, closedB.Closed = "amina", t0.Add(2*time.Hour)
	must[cases.Callback](t)(q.CloseCallback(ctx, b.Ticket, "amina", t0.Add(2*time.Hour)))

	for _, tc := range []struct {
		label string
		open  bool
		limit int
		want  []cases.Callback
	}{
		{"open", true, 0, nil},
		{"closed, newest first", false, 0, []cases.Callback{closedA, closedB}},
		{"closed, limit 1", false, 1, []cases.Callback{closedA}},
	} {
		if got := must[[]cases.Callback](t)(q.Callbacks(ctx, tc.open, tc.limit)); !equalCallbacks(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.label, got, tc.want)
		}
	}
	for _, tc := range []struct {
		label string
		do    func(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error)
		code  string
	}{
		{"close again", q.CloseCallback, guichet.ENOTFOUND},
		{"take a closed one", q.TakeCallback, guichet.ENOTFOUND},
	} {
		_, err := tc.do(ctx, a.Ticket, "amina", t0.Add(4*time.Hour))
		wantCode(t, err, tc.code, "")
	}
	_, err := q.CloseCallback(ctx, "999999", "amina", t0)
	wantCode(t, err, guichet.ENOTFOUND, "")
	_, err = q.CloseCallback(ctx, a.Ticket, "", t0)
	wantCode(t, err, guichet.EINVALID, "")

	// The phone may ask again: a new open request, with a new ticket.
	again := requestAt(t, s, phoneA, "passport, again", t0.Add(5*time.Hour))
	if again.Ticket == a.Ticket || again.Reason != "passport, again" || again.TakenBy != "" {
		t.Errorf("new request %+v: want a new ticket, the new reason, not taken (closed one %s)", again, a.Ticket)
	}
	if got := must[[]cases.Callback](t)(q.Callbacks(ctx, true, 0)); !equalCallbacks(got, []cases.Callback{again}) {
		t.Errorf("open requests %+v, want %+v", got, again)
	}
	if got := must[cases.Callback](t)(q.TakeCallback(ctx, again.Ticket, "bruno", t0.Add(6*time.Hour))); got.TakenBy != "bruno" {
		t.Errorf("took the new request: %+v", got)
	}
	again.TakenBy, again.Taken = "bruno", t0.Add(6*time.Hour)
	for _, tc := range []struct {
		phone string
		want  []cases.Callback
	}{
		{phoneA, []cases.Callback{again, closedA}},
		{phoneB, []cases.Callback{closedB}},
		{"+237677000009", nil},
	} {
		if got := must[[]cases.Callback](t)(q.CallbacksOf(ctx, tc.phone)); !equalCallbacks(got, tc.want) {
			t.Errorf("requests of %s: %+v, want %+v", tc.phone, got, tc.want)
		}
	}

	// A phone's list stops at CallbacksPerPhone, newest first.
	const phoneC = "+237677000003"
	for i := range cases.CallbacksPerPhone + 2 {
		cb := requestAt(t, s, phoneC, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute))
		must[cases.Callback](t)(q.CloseCallback(ctx, cb.Ticket, "amina", t0.Add(time.Duration(i)*time.Minute+time.Second)))
	}
	got := must[[]cases.Callback](t)(q.CallbacksOf(ctx, phoneC))
	if len(got) != cases.CallbacksPerPhone || got[0].Reason != fmt.Sprint(cases.CallbacksPerPhone+1) || got[len(got)-1].Reason != "2" {
		t.Errorf("requests of %s: %d, want the latest %d, newest first: %+v", phoneC, len(got), cases.CallbacksPerPhone, got)
	}
}

// testCallbackConcurrent has ten operators take one request at once: one
// gets it and the others are told who; then they all close it at once:
// one does.
func testCallbackConcurrent(t *testing.T, s Stores) {
	ctx := t.Context()
	q := callbackQueueOf(t, s)
	const operators = 10
	cb := requestAt(t, s, "+237677000001", "passport", t0)
	race := func(do func(who string) (cases.Callback, error)) (winners []string, errs []error) {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			start = make(chan struct{})
		)
		for i := range operators {
			who := fmt.Sprintf("operator-%d", i)
			wg.Go(func() {
				<-start
				_, err := do(who)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					winners = append(winners, who)
				} else {
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		return winners, errs
	}

	winners, errs := race(func(who string) (cases.Callback, error) {
		return q.TakeCallback(ctx, cb.Ticket, who, t0.Add(time.Minute))
	})
	if len(winners) != 1 {
		t.Fatalf("%d operators took the request (%v), want one; errors: %v", len(winners), winners, errs)
	}
	for _, err := range errs {
		if guichet.ErrorCode(err) != guichet.ECONFLICT || !strings.Contains(guichet.ErrorMessage(err), winners[0]) {
			t.Errorf("losing take: %v, want a conflict naming %s", err, winners[0])
		}
	}
	if got := must[[]cases.Callback](t)(q.CallbacksOf(ctx, cb.Phone)); len(got) != 1 || got[0].TakenBy != winners[0] {
		t.Errorf("requests after the race: %+v, want one taken by %s", got, winners[0])
	}

	winners, errs = race(func(who string) (cases.Callback, error) {
		return q.CloseCallback(ctx, cb.Ticket, who, t0.Add(time.Hour))
	})
	if len(winners) != 1 {
		t.Fatalf("%d operators closed the request (%v), want one; errors: %v", len(winners), winners, errs)
	}
	for _, err := range errs {
		wantCode(t, err, guichet.ENOTFOUND, "")
	}
	closed := must[[]cases.Callback](t)(q.Callbacks(ctx, false, 0))
	if len(closed) != 1 || closed[0].ClosedBy != winners[0] {
		t.Errorf("closed requests after the race: %+v, want one closed by %s", closed, winners[0])
	}
}

// testCallbackCancelled calls the queue with a cancelled context.
func testCallbackCancelled(t *testing.T, s Stores) {
	q := callbackQueueOf(t, s)
	cb := requestAt(t, s, "+237677000001", "passport", t0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, tc := range []struct {
		label string
		do    func() error
	}{
		{"Callbacks", func() error { _, err := q.Callbacks(ctx, true, 0); return err }},
		{"CallbacksOf", func() error { _, err := q.CallbacksOf(ctx, cb.Phone); return err }},
		{"TakeCallback", func() error { _, err := q.TakeCallback(ctx, cb.Ticket, "amina", t0); return err }},
		{"CloseCallback", func() error { _, err := q.CloseCallback(ctx, cb.Ticket, "amina", t0); return err }},
	} {
		if err := tc.do(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want context.Canceled", tc.label, err)
		}
	}
	if got := must[[]cases.Callback](t)(q.Callbacks(t.Context(), true, 0)); !equalCallbacks(got, []cases.Callback{cb}) {
		t.Errorf("open requests after cancelled calls: %+v, want %+v", got, cb)
	}
	if dc, ok := any(s).(deliveryCounts); ok {
		if _, err := dc.DeliveryCounts(ctx, t0, t0.Add(time.Hour)); !errors.Is(err, context.Canceled) {
			t.Errorf("DeliveryCounts with a cancelled context = %v, want context.Canceled", err)
		}
	}
}

// deliveryCounts is what the hotline's dashboard reads of the outbox,
// beside Store.
type deliveryCounts interface {
	DeliveryCounts(ctx context.Context, from, to time.Time) ([]outbox.DeliveryCount, error)
}

// testDeliveryCounts counts messages created in a window by bind and
// status: from is in, to is out, whatever the status of those outside.
func testDeliveryCounts(t *testing.T, s Stores) {
	ctx := t.Context()
	dc, ok := any(s).(deliveryCounts)
	if !ok {
		t.Fatalf("%T counts no deliveries", s)
	}
	r := repliesOf(t, s)
	const phone, other = "+237677000001", "+237677000002"
	written := write(t, s, phone, 6) // created t0, t0+1s … t0+5s
	noErr(t, r.Enqueue(ctx, []outbox.Message{
		{Phone: other, Body: "before", Created: t0.Add(-time.Second)},
		{Phone: other, Body: "at the end", Created: t0.Add(time.Hour)},
		{Phone: other, Body: "logged", Created: t0.Add(time.Hour - time.Second), Status: outbox.MessageLogged},
	}))
	outside := byBody(t, s, other)
	if got := claimAll(t, s, t0); len(got) != 8 {
		t.Fatalf("claimed %v, want the 8 pending messages", got)
	}
	var outcomes []outbox.Outcome
	for i, bind := range []string{"mtn-1", "mtn-1", "mtn-1", "orange-1"} {
		outcomes = append(outcomes, outbox.Outcome{ID: written[i].ID, Attempt: 1, Status: outbox.MessageSent, Bind: bind, SMSCID: fmt.Sprint(i + 1)})
	}
	record(t, s, append(outcomes,
		outbox.Outcome{ID: outside["before"], Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "99"},
		outbox.Outcome{ID: outside["at the end"], Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "98"},
		// written[4] stays sending.
		outbox.Outcome{ID: written[5].ID, Attempt: 1, Status: outbox.MessageFailed, Reason: "ESME_RINVDSTADR"},
	)...)
	receipts := []outbox.Receipt{
		{Bind: "mtn-1", Phone: phone, SMSCID: "1", State: "DELIVRD"},
		{Bind: "mtn-1", Phone: phone, SMSCID: "2", State: "DELIVRD"},
		{Bind: "orange-1", Phone: phone, SMSCID: "4", State: "UNDELIV"},
	}
	for i, ok := range must[[]bool](t)(s.ApplyReceipts(ctx, receipts)) {
		if !ok {
			t.Fatalf("receipt %+v matched nothing", receipts[i])
		}
	}
	noErr(t, r.Enqueue(ctx, []outbox.Message{{Phone: other, Body: "pending", Created: t0.Add(10 * time.Minute)}}))

	hour := []outbox.DeliveryCount{
		{Bind: "", Status: outbox.MessageFailed, N: 1},
		{Bind: "", Status: outbox.MessageLogged, N: 1},
		{Bind: "", Status: outbox.MessagePending, N: 1},
		{Bind: "", Status: outbox.MessageSending, N: 1},
		{Bind: "mtn-1", Status: outbox.MessageDelivered, N: 2},
		{Bind: "mtn-1", Status: outbox.MessageSent, N: 1},
		{Bind: "orange-1", Status: outbox.MessageUndeliverable, N: 1},
	}
	for _, tc := range []struct {
		label    string
		from, to time.Time
		want     []outbox.DeliveryCount
	}{
		{"the hour from t0", t0, t0.Add(time.Hour), hour},
		{"the same hour in UTC", t0.UTC(), t0.Add(time.Hour).UTC(), hour},
		{"a second wider each side", t0.Add(-time.Second), t0.Add(time.Hour + time.Second), []outbox.DeliveryCount{
			{Bind: "", Status: outbox.MessageFailed, N: 1},
			{Bind: "", Status: outbox.MessageLogged, N: 1},
			{Bind: "", Status: outbox.MessagePending, N: 1},
			{Bind: "", Status: outbox.MessageSending, N: 1},
			{Bind: "mtn-1", Status: outbox.MessageDelivered, N: 2},
			{Bind: "mtn-1", Status: outbox.MessageSent, N: 3},
			{Bind: "orange-1", Status: outbox.MessageUndeliverable, N: 1},
		}},
		{"two seconds", t0.Add(time.Second), t0.Add(3 * time.Second), []outbox.DeliveryCount{
			{Bind: "mtn-1", Status: outbox.MessageDelivered, N: 1},
			{Bind: "mtn-1", Status: outbox.MessageSent, N: 1},
		}},
		{"nothing created", t0.Add(2 * time.Hour), t0.Add(3 * time.Hour), []outbox.DeliveryCount{}},
		{"empty window", t0, t0, []outbox.DeliveryCount{}},
	} {
		got := must[[]outbox.DeliveryCount](t)(dc.DeliveryCounts(ctx, tc.from, tc.to))
		if len(got) != len(tc.want) || len(got) > 0 && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.label, got, tc.want)
		}
	}
}

// byBody returns the ids of the messages to phone by body.
func byBody(t *testing.T, s Stores, phone string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, m := range must[[]outbox.Message](t)(s.Messages(t.Context(), phone, 0)) {
		out[m.Body] = m.ID
	}
	return out
}

package casestest

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// sms returns a notify function that writes one message about what it is
// given, a case or a booking.
func sms[T cases.Case | cases.Booking](kind string) func(T) []outbox.Message {
	return func(v T) []outbox.Message {
		var phone, lang, ref string
		switch v := any(v).(type) {
		case cases.Case:
			phone, lang, ref = v.Phone, v.Lang, v.Ref
		case cases.Booking:
			phone, lang, ref = v.Phone, v.Lang, v.Ref
		}
		return []outbox.Message{{Phone: phone, Lang: lang, Body: kind + " " + ref, Kind: kind, CaseRef: ref, Created: t0}}
	}
}

// newCase returns a case to open, of phone for service.
func newCase(service, phone string) cases.Case {
	return cases.Case{
		Service: service, Status: cases.StatusReceived, Phone: phone,
		Lang: "fr", Channel: "ussd", Data: map[string]string{"name": "Ngo Biyong"},
		Opened: t0, Updated: t0,
		History: []cases.Event{{Status: cases.StatusReceived, At: t0, Channel: "ussd", Who: phone}},
	}
}

// panics runs f and fails t unless it panics: a notify that panics must
// not be swallowed.
func panics(t *testing.T, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if recover() == nil {
			t.Error("the notify function's panic did not go on")
		}
	}()
	f()
}

// noMessages fails t if phone has any message.
func noMessages(t *testing.T, s Stores, phone string) {
	t.Helper()
	if msgs := must[[]outbox.Message](t)(s.Messages(t.Context(), phone, 0)); len(msgs) > 0 {
		t.Errorf("messages to %s: %+v, want none", phone, msgs)
	}
}

func testOpenCaseNotify(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677111111"
	var notified cases.Case
	c := must[cases.Case](t)(s.OpenCase(ctx, newCase("birth-certificate", phone), func(c cases.Case) []outbox.Message {
		notified = c
		return []outbox.Message{
			{Phone: c.Phone, Lang: "fr", Body: "Dossier " + c.Ref + " depose.", Kind: "opened", CaseRef: c.Ref, Created: t0},
			{Phone: c.Phone, Lang: "fr", Body: "Copie", Kind: "opened", CaseRef: c.Ref, Created: t0.Add(time.Second), Status: outbox.MessageLogged, Transliterate: true},
		}
	}))
	if notified.Ref == "" || !equalCase(notified, c) {
		t.Errorf("notify got %+v, want the case with its ref %+v", notified, c)
	}
	msgs := must[[]outbox.Message](t)(s.Messages(ctx, phone, 0))
	want := []outbox.Message{
		{Phone: phone, Lang: "fr", Body: "Copie", Kind: "opened", CaseRef: c.Ref, Created: t0.Add(time.Second), Status: outbox.MessageLogged, Transliterate: true},
		{Phone: phone, Lang: "fr", Body: "Dossier " + c.Ref + " depose.", Kind: "opened", CaseRef: c.Ref, Created: t0, Status: outbox.MessagePending},
	}
	if len(msgs) != 2 || msgs[0].ID <= 0 || msgs[1].ID <= 0 || msgs[0].ID == msgs[1].ID {
		t.Fatalf("messages %+v: want two, with distinct IDs", msgs)
	}
	for i := range msgs {
		want[i].ID = msgs[i].ID
		if !equalMessage(msgs[i], want[i]) {
			t.Errorf("message %d = %+v, want %+v", i, msgs[i], want[i])
		}
	}
	// Without notify, no message.
	must[cases.Case](t)(s.OpenCase(ctx, newCase("birth-certificate", "+237677222222"), nil))
	noMessages(t, s, "+237677222222")
	// A message without a body is refused, and the case with it.
	before := must[[]cases.Case](t)(s.Cases(ctx, cases.CaseFilter{Phone: "+237677333333"}))
	_, err := s.OpenCase(ctx, newCase("birth-certificate", "+237677333333"), func(c cases.Case) []outbox.Message {
		return []outbox.Message{{Phone: c.Phone, Kind: "opened"}}
	})
	wantCode(t, err, guichet.EINVALID, "")
	if after := must[[]cases.Case](t)(s.Cases(ctx, cases.CaseFilter{Phone: "+237677333333"})); len(after) != len(before) {
		t.Errorf("a case was opened with a refused message: %+v", after)
	}
}

func testOpenCaseNotifyPanics(t *testing.T, s Stores) {
	ctx := t.Context()
	const phone = "+237677111111"
	var ref string
	panics(t, func() {
		s.OpenCase(ctx, newCase("birth-certificate", phone), func(c cases.Case) []outbox.Message {
			ref = c.Ref
			panic("boom")
		})
	})
	if ref == "" {
		t.Fatal("notify was not called")
	}
	_, err := s.Case(ctx, ref)
	wantCode(t, err, guichet.ENOTFOUND, "")
	noMessages(t, s, phone)
	if cases := must[[]cases.Case](t)(s.Cases(ctx, cases.CaseFilter{Phone: phone})); len(cases) > 0 {
		t.Errorf("cases of %s: %+v, want none", phone, cases)
	}
	// The store goes on working.
	c := must[cases.Case](t)(s.OpenCase(ctx, newCase("birth-certificate", phone), sms[cases.Case]("opened")))
	if msgs := must[[]outbox.Message](t)(s.Messages(ctx, phone, 0)); len(msgs) != 1 || msgs[0].CaseRef != c.Ref {
		t.Errorf("messages %+v, want one about %s", msgs, c.Ref)
	}
}

func testBookNotify(t *testing.T, s Stores) {
	ctx := t.Context()
	const a, b = "+237677000001", "+237677000002"
	var notified cases.Booking
	got := must[cases.Booking](t)(s.Book(ctx, booking("wouri", a, "visit", slot), 2, t0, func(b cases.Booking) []outbox.Message {
		notified = b
		return sms[cases.Booking]("booked")(b)
	}))
	if notified.Ref == "" || notified.Ref != got.Ref {
		t.Errorf("notify got %+v, want the booking with its ref %s", notified, got.Ref)
	}
	if msgs := must[[]outbox.Message](t)(s.Messages(ctx, a, 0)); len(msgs) != 1 || msgs[0].CaseRef != got.Ref || msgs[0].Kind != "booked" {
		t.Errorf("messages %+v, want one about %s", msgs, got.Ref)
	}

	// A booking whose notify panics takes no place and holds nothing.
	panics(t, func() {
		s.Book(ctx, booking("wouri", b, "visit", slot), 2, t0, func(cases.Booking) []outbox.Message { panic("boom") })
	})
	noMessages(t, s, b)
	if taken := must[map[int64]int](t)(s.Taken(ctx, "wouri", slot, slot.Add(time.Hour))); taken[slot.Unix()] != 1 {
		t.Errorf("Taken = %v, want 1 place taken", taken)
	}
	must[cases.Booking](t)(s.Book(ctx, booking("wouri", b, "visit", slot), 2, t0, nil))
}

func testMoveCase(t *testing.T, s Stores) {
	ctx := t.Context()
	ref := cases.DemoCourrierReceived
	before := must[cases.Case](t)(s.Case(ctx, ref))
	m := cases.Move{Status: "forwarded", Note: "Transmis au MINFI", Who: "minfi-registry", Channel: "api", At: t0}
	var checked, notified cases.Case
	got := must[cases.Case](t)(s.MoveCase(ctx, ref, m,
		func(c cases.Case) error { checked = c; return nil },
		func(c cases.Case) []outbox.Message { notified = c; return sms[cases.Case]("moved")(c) }))
	want := before
	want.Status, want.Updated = "forwarded", t0
	want.History = append(slices.Clone(before.History),
		cases.Event{Status: "forwarded", At: t0, Channel: "api", Who: "minfi-registry", Note: "Transmis au MINFI"})
	if !equalCase(checked, before) {
		t.Errorf("check got %+v, want the case as it stood %+v", checked, before)
	}
	if !equalCase(got, want) || !equalCase(notified, want) {
		t.Errorf("MoveCase = %+v, notify got %+v; want %+v", got, notified, want)
	}
	if stored := must[cases.Case](t)(s.Case(ctx, ref)); !equalCase(stored, want) {
		t.Errorf("Case after the move = %+v, want %+v", stored, want)
	}
	if msgs := must[[]outbox.Message](t)(s.Messages(ctx, before.Phone, 0)); len(msgs) != 1 || msgs[0].CaseRef != ref || msgs[0].Kind != "moved" {
		t.Errorf("messages %+v, want one about %s", msgs, ref)
	}
	// An event that keeps the status (a note) joins the history and
	// leaves Updated: citizens read "forwarded since t0".
	note := cases.Move{Status: "forwarded", Note: "Rappelé", Who: "awa", Channel: "hotline", At: t0.Add(time.Minute)}
	noted := must[cases.Case](t)(s.MoveCase(ctx, ref, note, nil, nil))
	want.History = append(want.History, cases.Event{Status: "forwarded", At: t0.Add(time.Minute), Channel: "hotline", Who: "awa", Note: "Rappelé"})
	if stored := must[cases.Case](t)(s.Case(ctx, ref)); !equalCase(noted, want) || !equalCase(stored, want) {
		t.Errorf("after a note: %+v, stored %+v; want %+v", noted, stored, want)
	}
	// check and notify may be nil.
	must[cases.Case](t)(s.MoveCase(ctx, ref, cases.Move{Status: "delivered", Who: "x", Channel: "api", At: t0.Add(time.Hour)}, nil, nil))

	_, err := s.MoveCase(ctx, reference.FromNumber(9999999, 7), m, func(cases.Case) error {
		t.Error("check called for a case that does not exist")
		return nil
	}, nil)
	wantCode(t, err, guichet.ENOTFOUND, "")
}

// testMoveCaseAborted moves a case with a check that refuses, a notify
// that panics and one that returns a bad message: nothing is written.
func testMoveCaseAborted(t *testing.T, s Stores) {
	ctx := t.Context()
	ref := cases.DemoLicenceProcessing
	before := must[cases.Case](t)(s.Case(ctx, ref))
	m := cases.Move{Status: "ready", Who: "wouri-desk", Channel: "api", At: t0}
	unchanged := func() {
		t.Helper()
		if c := must[cases.Case](t)(s.Case(ctx, ref)); !equalCase(c, before) {
			t.Errorf("case changed to %+v, want %+v", c, before)
		}
		noMessages(t, s, before.Phone)
	}

	refused := guichet.Errorf(guichet.ECONFLICT, "cannot move from processing to ready")
	_, err := s.MoveCase(ctx, ref, m, func(cases.Case) error { return refused }, func(cases.Case) []outbox.Message {
		t.Error("notify called after check refused")
		return nil
	})
	if err != refused {
		t.Errorf("MoveCase = %v, want check's error as it is", err)
	}
	unchanged()

	panics(t, func() {
		s.MoveCase(ctx, ref, m, nil, func(cases.Case) []outbox.Message { panic("boom") })
	})
	unchanged()

	_, err = s.MoveCase(ctx, ref, m, nil, func(c cases.Case) []outbox.Message {
		return []outbox.Message{{Phone: c.Phone, Body: "x", Status: outbox.MessageSent}}
	})
	wantCode(t, err, guichet.EINVALID, "")
	unchanged()
}

// testMoveCaseConcurrent moves one case from ten goroutines at once, each
// checking that it still stands where it was: one move passes.
func testMoveCaseConcurrent(t *testing.T, s Stores) {
	ref := cases.DemoCourrierReceived
	const tries = 10
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		moved int
	)
	for i := range tries {
		wg.Go(func() {
			m := cases.Move{Status: "forwarded", Who: fmt.Sprint("desk-", i), Channel: "api", At: t0}
			_, err := s.MoveCase(t.Context(), ref, m, func(c cases.Case) error {
				time.Sleep(10 * time.Millisecond) // so that unlocked moves would overlap
				if c.Status != cases.StatusReceived {
					return guichet.Errorf(guichet.ECONFLICT, "cannot move from %s to forwarded", c.Status)
				}
				return nil
			}, sms[cases.Case]("moved"))
			switch guichet.ErrorCode(err) {
			case "":
				mu.Lock()
				moved++
				mu.Unlock()
			case guichet.ECONFLICT:
			default:
				t.Errorf("move %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	c := must[cases.Case](t)(s.Case(t.Context(), ref))
	if moved != 1 || len(c.History) != 2 {
		t.Errorf("%d moves passed, history %+v; want one move", moved, c.History)
	}
	if msgs := must[[]outbox.Message](t)(s.Messages(t.Context(), c.Phone, 0)); len(msgs) != 1 {
		t.Errorf("%d messages, want 1", len(msgs))
	}
}

// testCases filters cases, comparing with what Case returns of each.
func testCases(t *testing.T, s Stores) {
	ctx := t.Context()
	services := []string{"birth-certificate", "business-licence", "courrier"}
	phones := []string{"+237677000001", "+237677000002"}
	var refs []string
	for _, c := range cases.DemoCases() {
		refs = append(refs, c.Ref)
	}
	for i := range 9 {
		c := must[cases.Case](t)(s.OpenCase(ctx, newCase(services[i%3], phones[i%2]), nil))
		if i%4 == 0 {
			must[cases.Case](t)(s.MoveCase(ctx, c.Ref, cases.Move{Status: "processing", Who: "desk", Channel: "api", At: t0}, nil, nil))
		}
		refs = append(refs, c.Ref)
	}
	var all []cases.Case
	for _, ref := range refs {
		all = append(all, must[cases.Case](t)(s.Case(ctx, ref)))
	}
	slices.SortFunc(all, func(a, b cases.Case) int { return cmp.Compare(a.Ref, b.Ref) })

	for _, f := range []cases.CaseFilter{
		{},
		{Services: []string{"business-licence"}},
		{Services: []string{"business-licence", "courrier"}, Status: "processing"},
		{Status: "received"},
		{Phone: phones[1]},
		{Phone: phones[0], Services: []string{"birth-certificate"}},
		{Services: []string{"no-such-service"}},
		{After: refs[len(cases.DemoCases())]},
		{Services: []string{"courrier"}, Limit: 2},
	} {
		var want []cases.Case
		for _, c := range all {
			if (len(f.Services) == 0 || slices.Contains(f.Services, c.Service)) &&
				(f.Status == "" || f.Status == c.Status) && (f.Phone == "" || f.Phone == c.Phone) &&
				cmp.Compare(c.Ref, f.After) > 0 && len(want) < guichet.PageSize(f.Limit) {
				want = append(want, c)
			}
		}
		got := must[[]cases.Case](t)(s.Cases(ctx, f))
		if len(got) != len(want) {
			t.Errorf("Cases(%+v): %v, want %v", f, caseRefs(got), caseRefs(want))
			continue
		}
		for i := range got {
			if !equalCase(got[i], want[i]) {
				t.Errorf("Cases(%+v)[%d] = %+v, want %+v", f, i, got[i], want[i])
			}
		}
	}
}

// testCasesPaging walks every case a page at a time.
func testCasesPaging(t *testing.T, s Stores) {
	ctx := t.Context()
	const opened = 55
	total := opened + len(cases.DemoCases())
	for i := range opened {
		must[cases.Case](t)(s.OpenCase(ctx, newCase("courrier", fmt.Sprintf("+2376770%05d", i)), nil))
	}
	if got := must[[]cases.Case](t)(s.Cases(ctx, cases.CaseFilter{})); len(got) != guichet.DefaultPage {
		t.Errorf("a page without a limit has %d cases, want %d", len(got), guichet.DefaultPage)
	}
	if got := must[[]cases.Case](t)(s.Cases(ctx, cases.CaseFilter{Limit: 10 * guichet.MaxPage})); len(got) != total {
		t.Errorf("a page of %d has %d cases, want all %d", 10*guichet.MaxPage, len(got), total)
	}
	var seen []string
	f := cases.CaseFilter{Limit: 7}
	for pages := 0; ; pages++ {
		if pages > total {
			t.Fatal("paging does not end")
		}
		page := must[[]cases.Case](t)(s.Cases(ctx, f))
		if len(page) == 0 {
			break
		}
		if len(page) > f.Limit {
			t.Fatalf("page of %d cases, limit %d", len(page), f.Limit)
		}
		for _, c := range page {
			seen = append(seen, c.Ref)
		}
		f.After = page[len(page)-1].Ref
	}
	if len(seen) != total || !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != total {
		t.Errorf("paging saw %d refs, want %d distinct in order: %v", len(seen), total, seen)
	}
}

func caseRefs(cases []cases.Case) []string {
	refs := make([]string, 0, len(cases))
	for _, c := range cases {
		refs = append(refs, c.Ref)
	}
	return refs
}

package stafftest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/guichet/guichet/staff"
)

// audit appends es in order and returns them with the IDs the store gave,
// read back from the log.
func audit(t *testing.T, s Store, es ...staff.AuditEntry) []staff.AuditEntry {
	t.Helper()
	ctx := t.Context()
	for _, e := range es {
		noErr(t, s.Audit(ctx, e))
	}
	got := must[[]staff.AuditEntry](t)(s.AuditLog(ctx, staff.AuditFilter{Limit: len(es)}))
	if len(got) != len(es) {
		t.Fatalf("AuditLog after %d entries: %d", len(es), len(got))
	}
	slices.Reverse(got)
	return got
}

func ids(es []staff.AuditEntry) []int64 {
	var ids []int64
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}

// testAudit gives entries increasing IDs, whatever their dates and the ID
// they came with, and lists them newest (highest ID) first.
func testAudit(t *testing.T, s Store) {
	ctx := t.Context()
	if es := must[[]staff.AuditEntry](t)(s.AuditLog(ctx, staff.AuditFilter{})); len(es) != 0 {
		t.Fatalf("AuditLog of an empty store = %+v", es)
	}
	const forged = 1 << 40
	in := []staff.AuditEntry{
		{At: t0, User: "awa", Action: "view", Subject: "+237677000001", Detail: "caller page"},
		{At: t0.Add(time.Minute).In(wat), User: "awa", Action: "case.move", Subject: "20000011", Detail: "received → ready"},
		// Dated before the others (a slow writer), and with an ID of its
		// own: it is still the newest, with an ID from the store.
		{ID: forged, At: t0.Add(-time.Hour), User: "moussa", Action: "sms.send", Subject: "+237677000002", Detail: ""},
		{At: t0.Add(-time.Hour), User: "moussa", Action: "view", Subject: "+237677000002", Detail: "same time"},
	}
	got := audit(t, s, in...)
	for i, e := range got {
		want := in[i]
		want.ID = e.ID
		if !sameEntry(e, want) {
			t.Errorf("entry %d = %+v, want %+v", i, e, want)
		}
		if e.ID <= 0 || e.ID == forged || i > 0 && e.ID <= got[i-1].ID {
			t.Errorf("entry %d has ID %d after %v: want a store's ID, increasing", i, e.ID, ids(got[:i]))
		}
	}
	more := audit(t, s, staff.AuditEntry{At: t0, User: "awa", Action: "view", Subject: "x"})
	if last := more[len(more)-1]; last.ID <= got[len(got)-1].ID {
		t.Errorf("a later entry got ID %d, after %d", last.ID, got[len(got)-1].ID)
	}
}

// testAuditFilter selects entries by user, subject and ID, newest first.
func testAuditFilter(t *testing.T, s Store) {
	const p1, p2, ref = "+237677000001", "+237677000002", "20000011"
	es := audit(t, s,
		staff.AuditEntry{At: t0, User: "awa", Action: "view", Subject: p1},                                // 0
		staff.AuditEntry{At: t0, User: "moussa", Action: "view", Subject: p1},                             // 1
		staff.AuditEntry{At: t0, User: "awa", Action: "case.move", Subject: ref},                          // 2
		staff.AuditEntry{At: t0, User: "awa", Action: "view", Subject: p2},                                // 3
		staff.AuditEntry{At: t0, User: "moussa", Action: "sms.send", Subject: p1},                         // 4
		staff.AuditEntry{At: t0, User: "awa", Action: "sms.send", Subject: p1},                            // 5
		staff.AuditEntry{At: t0, User: "awa-b", Action: "view", Subject: p1 + "0"},                        // 6: near misses
		staff.AuditEntry{At: t0, User: "Awa", Action: "view", Subject: p1[1:]},                            // 7
		staff.AuditEntry{At: t0, User: "supervisor", Action: "booking.cancel", Subject: ref, Detail: "x"}, // 8
	)
	pick := func(is ...int) []int64 {
		var want []int64
		for _, i := range is {
			want = append(want, es[i].ID)
		}
		return want
	}
	tests := []struct {
		name string
		f    staff.AuditFilter
		want []int64
	}{
		{"all", staff.AuditFilter{}, pick(8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"user", staff.AuditFilter{User: "awa"}, pick(5, 3, 2, 0)},
		{"subject", staff.AuditFilter{Subject: p1}, pick(5, 4, 1, 0)},
		{"user and subject", staff.AuditFilter{User: "moussa", Subject: p1}, pick(4, 1)},
		{"reference", staff.AuditFilter{Subject: ref}, pick(8, 2)},
		{"limit", staff.AuditFilter{Limit: 3}, pick(8, 7, 6)},
		{"before", staff.AuditFilter{Before: es[4].ID}, pick(3, 2, 1, 0)},
		{"before and limit", staff.AuditFilter{Before: es[4].ID, Limit: 2}, pick(3, 2)},
		{"user before", staff.AuditFilter{User: "awa", Before: es[3].ID}, pick(2, 0)},
		{"subject before, limit", staff.AuditFilter{Subject: p1, Before: es[5].ID, Limit: 1}, pick(4)},
		{"before the first", staff.AuditFilter{Before: es[0].ID}, nil},
		{"before after the last", staff.AuditFilter{Before: es[8].ID + 1000}, pick(8, 7, 6, 5, 4, 3, 2, 1, 0)},
		{"unknown user", staff.AuditFilter{User: "nobody"}, nil},
		{"unknown subject", staff.AuditFilter{Subject: "+237600000000"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := must[[]staff.AuditEntry](t)(s.AuditLog(t.Context(), tt.f))
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("AuditLog(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
			for _, e := range got {
				if i := slices.IndexFunc(es, func(w staff.AuditEntry) bool { return w.ID == e.ID }); i < 0 || !sameEntry(e, es[i]) {
					t.Errorf("listed %+v, not as written", e)
				}
			}
		})
	}
}

// testAuditShown: an entry is found by any subject it showed as well as
// by its Subject (a case viewed by its reference, under its phone too; a
// list of numbers, under each), and keeps them as written.
func testAuditShown(t *testing.T, s Store) {
	const p1, p2, p3, ref = "+237677000001", "+237677000002", "+237677000003", "20000011"
	es := audit(t, s,
		staff.AuditEntry{At: t0, User: "awa", Action: "view.case", Subject: ref, Shown: []string{p1}},              // 0
		staff.AuditEntry{At: t0, User: "awa", Action: "view.callbacks", Detail: "2 open", Shown: []string{p2, p1}}, // 1
		staff.AuditEntry{At: t0, User: "moussa", Action: "view.caller", Subject: p2},                               // 2
		staff.AuditEntry{At: t0, User: "awa", Action: "view.callbacks", Shown: []string{p1 + "0", p1[1:]}},         // 3: near misses
	)
	pick := func(is ...int) []int64 {
		var want []int64
		for _, i := range is {
			want = append(want, es[i].ID)
		}
		return want
	}
	for _, tt := range []struct {
		name string
		f    staff.AuditFilter
		want []int64
	}{
		{"a phone shown", staff.AuditFilter{Subject: p1}, pick(1, 0)},
		{"a phone shown or the subject", staff.AuditFilter{Subject: p2}, pick(2, 1)},
		{"the reference", staff.AuditFilter{Subject: ref}, pick(0)},
		{"user and a phone shown", staff.AuditFilter{User: "moussa", Subject: p1}, nil},
		{"before", staff.AuditFilter{Subject: p1, Before: es[1].ID}, pick(0)},
		{"shown nowhere", staff.AuditFilter{Subject: p3}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := must[[]staff.AuditEntry](t)(s.AuditLog(t.Context(), tt.f))
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("AuditLog(%+v) = %v, want %v", tt.f, ids(got), tt.want)
			}
			for _, e := range got {
				if i := slices.IndexFunc(es, func(w staff.AuditEntry) bool { return w.ID == e.ID }); i < 0 || !sameEntry(e, es[i]) {
					t.Errorf("listed %+v, not as written", e)
				}
			}
		})
	}
}

// testAuditLimit: Limit 0 (or less) lists 50 entries, a Limit over 500
// lists 500.
func testAuditLimit(t *testing.T, s Store) {
	ctx := t.Context()
	const n = 520
	for i := range n {
		noErr(t, s.Audit(ctx, staff.AuditEntry{At: t0, User: "awa", Action: "view", Subject: fmt.Sprint(i)}))
	}
	tests := []struct{ limit, want int }{{0, 50}, {-1, 50}, {1, 1}, {500, 500}, {501, 500}, {10000, 500}}
	for _, tt := range tests {
		got := must[[]staff.AuditEntry](t)(s.AuditLog(ctx, staff.AuditFilter{Limit: tt.limit}))
		if len(got) != tt.want {
			t.Errorf("AuditLog(Limit %d): %d entries, want %d", tt.limit, len(got), tt.want)
			continue
		}
		if got[0].Subject != fmt.Sprint(n-1) || got[len(got)-1].Subject != fmt.Sprint(n-tt.want) {
			t.Errorf("AuditLog(Limit %d) runs from %s to %s, want the newest, %d to %d", tt.limit, got[0].Subject, got[len(got)-1].Subject, n-1, n-tt.want)
		}
	}
}

// testRecentSessions lists a phone's latest sessions by the time they
// ended, newest first, whatever the order they were recorded in.
func testRecentSessions(t *testing.T, s Store) {
	ctx := t.Context()
	const phone, other = "+237677000001", "+237677000002"
	rec := func(at time.Time, phone, node string) staff.SessionRecord {
		return staff.SessionRecord{At: at, Phone: phone, Operator: "mtn", Service: "visit", Node: node,
			Result: "Completed", Hops: 4, Duration: 42*time.Second + 250*time.Millisecond}
	}
	noErr(t, s.RecordSessions(ctx, nil))
	if rs := must[[]staff.SessionRecord](t)(s.RecentSessions(ctx, phone, 0)); len(rs) != 0 {
		t.Fatalf("RecentSessions of an empty store = %+v", rs)
	}
	first := []staff.SessionRecord{
		rec(t0.Add(2*time.Minute), phone, "b"),
		rec(t0, phone, "a"),
		rec(t0.Add(3*time.Minute), other, "x"),
		{At: t0.Add(5 * time.Minute).In(wat), Phone: phone, Operator: "hotline", Service: "home", Node: "menu",
			Result: "Abandoned", Hops: 1, Duration: 1500 * time.Millisecond},
	}
	noErr(t, s.RecordSessions(ctx, first))
	// A later batch with sessions that ended earlier, and two that ended
	// at once: the one recorded last comes first.
	noErr(t, s.RecordSessions(ctx, []staff.SessionRecord{rec(t0.Add(time.Minute), phone, "c")}))
	noErr(t, s.RecordSessions(ctx, []staff.SessionRecord{rec(t0.Add(2*time.Minute), phone, "d")}))

	want := []staff.SessionRecord{first[3], rec(t0.Add(2*time.Minute), phone, "d"), first[0], rec(t0.Add(time.Minute), phone, "c"), first[1]}
	tests := []struct {
		phone string
		limit int
		want  []staff.SessionRecord
	}{
		{phone, 0, want},
		{phone, 100, want},
		{phone, 2, want[:2]},
		{phone, 1, want[:1]},
		{other, 0, first[2:3]},
		{"+237677000009", 0, nil},
	}
	for _, tt := range tests {
		got := must[[]staff.SessionRecord](t)(s.RecentSessions(ctx, tt.phone, tt.limit))
		if !slices.EqualFunc(got, tt.want, sameRecord) {
			t.Errorf("RecentSessions(%s, %d) =\n%+v\nwant\n%+v", tt.phone, tt.limit, got, tt.want)
		}
	}

	// Limit 0 is 20.
	var many []staff.SessionRecord
	for i := range 25 {
		many = append(many, rec(t0.Add(time.Duration(i)*time.Hour), other, fmt.Sprint(i)))
	}
	noErr(t, s.RecordSessions(ctx, many))
	got := must[[]staff.SessionRecord](t)(s.RecentSessions(ctx, other, 0))
	if len(got) != 20 || got[0].Node != "24" || got[19].Node != "5" {
		t.Errorf("RecentSessions(limit 0): %d records from %v, want 20 from 24 to 5", len(got), got[0].Node)
	}
}

// testSessionCounts counts the sessions that ended in [from, to) per UTC
// hour and service, ordered so, and per service, node and result, ordered
// so.
func testSessionCounts(t *testing.T, s Store) {
	ctx := t.Context()
	rec := func(at time.Time, service, node, result string) staff.SessionRecord {
		return staff.SessionRecord{At: at, Phone: "+237677000001", Operator: "orange", Service: service, Node: node, Result: result, Hops: 3, Duration: time.Minute}
	}
	h8, h9, h10 := t0, t0.Add(time.Hour), t0.Add(2*time.Hour)
	noErr(t, s.RecordSessions(ctx, []staff.SessionRecord{
		rec(t0.Add(-time.Second), "before", "menu", "Completed"),
		rec(t0, "visit", "confirm", "Completed"),
		rec(t0.Add(30*time.Minute).In(wat), "visit", "confirm", "Completed"), // 09:30 in Douala is 08:30 UTC
		rec(t0.Add(59*time.Minute+59*time.Second), "courrier", "menu", "Abandoned"),
		rec(t0.Add(time.Hour), "visit", "slots", "TimedOut"),
		rec(t0.Add(time.Hour+time.Minute), "Visit", "slots", "TimedOut"), // another service
		rec(t0.Add(3*time.Hour-time.Second), "visit", "confirm", "Completed"),
		rec(t0.Add(3*time.Hour), "after", "menu", "Completed"),
		rec(t0.Add(5*time.Hour), "after", "menu", "Errored"),
	}))
	noErr(t, s.RecordSessions(ctx, []staff.SessionRecord{rec(t0.Add(90*time.Minute), "home", "menu", "Errored")}))
	tests := []struct {
		name     string
		from, to time.Time
		hours    []staff.HourCount
		ends     []staff.EndCount
	}{
		{"three hours", t0, t0.Add(3 * time.Hour),
			[]staff.HourCount{
				{Hour: h8, Service: "courrier", N: 1}, {Hour: h8, Service: "visit", N: 2},
				{Hour: h9, Service: "Visit", N: 1}, {Hour: h9, Service: "home", N: 1}, {Hour: h9, Service: "visit", N: 1},
				{Hour: h10, Service: "visit", N: 1},
			},
			[]staff.EndCount{
				{Service: "Visit", Node: "slots", Result: "TimedOut", N: 1},
				{Service: "courrier", Node: "menu", Result: "Abandoned", N: 1},
				{Service: "home", Node: "menu", Result: "Errored", N: 1},
				{Service: "visit", Node: "confirm", Result: "Completed", N: 3},
				{Service: "visit", Node: "slots", Result: "TimedOut", N: 1},
			}},
		{"within hours", t0.Add(30 * time.Minute).In(wat), t0.Add(90 * time.Minute),
			[]staff.HourCount{
				{Hour: h8, Service: "courrier", N: 1}, {Hour: h8, Service: "visit", N: 1},
				{Hour: h9, Service: "Visit", N: 1}, {Hour: h9, Service: "visit", N: 1},
			},
			[]staff.EndCount{
				{Service: "Visit", Node: "slots", Result: "TimedOut", N: 1},
				{Service: "courrier", Node: "menu", Result: "Abandoned", N: 1},
				{Service: "visit", Node: "confirm", Result: "Completed", N: 1},
				{Service: "visit", Node: "slots", Result: "TimedOut", N: 1},
			}},
		{"empty window", t0.Add(time.Hour), t0.Add(time.Hour), nil, nil},
		{"nothing ended", t0.Add(6 * time.Hour), t0.Add(7 * time.Hour), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hours, ends, err := s.SessionCounts(ctx, tt.from, tt.to)
			noErr(t, err)
			if !slices.EqualFunc(hours, tt.hours, func(a, b staff.HourCount) bool {
				return a.Hour.Equal(b.Hour) && a.Hour.Location() == time.UTC && a.Service == b.Service && a.N == b.N
			}) {
				t.Errorf("hours =\n%v\nwant (in UTC)\n%v", hours, tt.hours)
			}
			if !slices.Equal(ends, tt.ends) {
				t.Errorf("ends =\n%v\nwant\n%v", ends, tt.ends)
			}
		})
	}
}

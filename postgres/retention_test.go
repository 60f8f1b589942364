package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/retention"
	"github.com/guichet/guichet/staff"
)

// TestPurge: on a fake clock, the purge deletes the journal, the audit
// log and closed callbacks past their time, redacts the bodies of old SMS
// that reached their final status (a queued one on a later pass, once
// final) while their number and status stay, pseudonymises closed cases
// past their service's period (not open ones, not recent ones), keeps
// everything recent, and counts what it did.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, time.June, 1, 9, 0, 0, 0, time.UTC)
	pool := migratedPool(t)
	db := postgres.New(pool)
	db.Now = func() time.Time { return now }
	cs, console := db.Cases(), db.Console()
	old, recent := now.AddDate(-3, 0, 0), now.AddDate(0, 0, -1)
	const alice, bob = "+237677000201", "+237677000202"

	// The journal and the audit log.
	if err := console.RecordSessions(ctx, []staff.SessionRecord{
		{At: old, Phone: alice, Service: "home", Result: "completed"},
		{At: recent, Phone: alice, Service: "home", Result: "completed"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{old, old.Add(time.Minute), recent} {
		if err := console.Audit(ctx, staff.AuditEntry{At: at, User: "op1", Action: "view.caller", Subject: alice}); err != nil {
			t.Fatal(err)
		}
	}
	// SMS: old and delivered, old and still queued, recent and delivered.
	for _, m := range []struct {
		at     time.Time
		status string
	}{{old, "sent"}, {old, "pending"}, {recent, "sent"}} {
		if _, err := pool.Exec(ctx, `INSERT INTO outbox (phone, lang, body, kind, created, status, reason)
			VALUES ($1, 'fr', 'Dossier 2000001: pret.', 'moved', $2, $3, 'delivered')`, alice, m.at, m.status); err != nil {
			t.Fatal(err)
		}
	}
	// Callbacks: one closed long ago, one closed yesterday, one open.
	for i, p := range []string{alice, bob, "+237677000203"} {
		cb, err := cs.RequestCallback(ctx, cases.Callback{Phone: p, Reason: "help", Requested: old})
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			if _, err := cs.CloseCallback(ctx, cb.Ticket, "op1", []time.Time{old, recent}[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Cases: closed long ago, closed yesterday, open since long ago.
	open := func(p string, status string, at time.Time) string {
		c, err := cs.OpenCase(ctx, cases.Case{Service: "birth-certificate", Status: "received", Phone: p, Lang: "fr",
			Data: map[string]string{"name": "Alice Ngo", "born": "01011990"}, Opened: old, Updated: old,
			History: []cases.Event{{Status: "received", At: old, Who: p, Channel: "ussd"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != "received" {
			if _, err := cs.MoveCase(ctx, c.Ref, cases.Move{Status: status, Who: "civil-status", Channel: "api", At: at}, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		return c.Ref
	}
	closedOld, closedRecent, openOld := open(alice, "rejected", old), open(alice, "rejected", recent), open(bob, "received", old)

	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p := &retention.Purger{Store: db.Retention(), Policy: retention.Defaults(), Catalogue: cat,
		Services: map[string]time.Duration{"birth-certificate": 365 * 24 * time.Hour}, Batch: 1, Now: db.Now}
	n, err := p.Once(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := retention.Counts{Journal: 1, SMSBodies: 1, Audit: 2, Callbacks: 1, Cases: 1}
	if n != want {
		t.Errorf("purged %+v, want %+v", n, want)
	}

	count := func(sql string, args ...any) int {
		t.Helper()
		var k int
		if err := pool.QueryRow(ctx, sql, args...).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := count(`SELECT count(*) FROM ussd_sessions WHERE at = $1`, recent); k != 1 || count(`SELECT count(*) FROM ussd_sessions`) != 1 {
		t.Errorf("journal: %d recent rows kept, want the recent one alone", k)
	}
	if k := count(`SELECT count(*) FROM audit_log`); k != 1 {
		t.Errorf("audit log: %d rows, want the recent one", k)
	}
	if k := count(`SELECT count(*) FROM callbacks`); k != 2 {
		t.Errorf("callbacks: %d, want the recent and the open one", k)
	}
	if k := count(`SELECT count(*) FROM outbox WHERE body = '' AND status = 'sent' AND reason = 'delivered' AND phone = $1`, alice); k != 1 {
		t.Errorf("old delivered SMS redacted with their state and number: %d, want 1", k)
	}
	if k := count(`SELECT count(*) FROM outbox WHERE body <> ''`); k != 2 {
		t.Errorf("SMS with a body: %d, want the queued one and the recent one", k)
	}

	c, err := cs.Case(ctx, closedOld)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone == alice || c.Data["name"] != postgres.Erased || c.Data["born"] != postgres.Erased ||
		c.Status != "rejected" || len(c.History) != 2 || c.History[0].Who == alice || c.History[1].Who != "civil-status" {
		t.Errorf("a case closed past its period: %+v, want its phone, answers and the citizen's name in its history pseudonymised, its status and history kept", c)
	}
	for _, ref := range []string{closedRecent, openOld} {
		c, err := cs.Case(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if c.Data["name"] != "Alice Ngo" || c.Phone == "" || c.Phone[0] != '+' {
			t.Errorf("case %s (%s, updated %s) was pseudonymised: %+v", ref, c.Status, c.Updated, c)
		}
	}

	// The queued SMS reaches its final state: the next pass redacts it,
	// and a pass with nothing due changes nothing.
	if _, err := pool.Exec(ctx, `UPDATE outbox SET status = 'failed' WHERE status = 'pending'`); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Once(ctx); err != nil || n != (retention.Counts{SMSBodies: 1}) {
		t.Errorf("second pass: %+v %v, want the SMS that was queued", n, err)
	}
	if n, err := p.Once(ctx); err != nil || n != (retention.Counts{}) {
		t.Errorf("third pass: %+v %v, want nothing", n, err)
	}
	if tot := p.Totals(); tot != (retention.Counts{Journal: 1, SMSBodies: 2, Audit: 2, Callbacks: 1, Cases: 1}) {
		t.Errorf("totals %+v", tot)
	}
}

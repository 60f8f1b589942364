package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/apikey/apikeytest"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/cases/casestest"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migratedPool returns a pool on a database of the test's own, migrated.
func migratedPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	url := pgtest.DB(tb)
	if err := postgres.Migrate(ctx, url); err != nil {
		tb.Fatal(err)
	}
	pool, err := postgres.Open(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

// newStore returns the stores on a database of their own, migrated and
// seeded.
func newStore(tb testing.TB) *postgres.DB {
	tb.Helper()
	db := postgres.New(migratedPool(tb))
	if err := db.Cases().Seed(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// stores are the stores under the contract of casestest.
func stores(db *postgres.DB) casestest.Stores {
	c := db.Cases()
	return casestest.Stores{DB: c, CaseStore: c, VisitStore: c, CallbackStore: c, Queue: c, Outbox: db.Outbox()}
}

func TestStore(t *testing.T) {
	casestest.Run(t, func(t *testing.T) casestest.Stores { return stores(newStore(t)) })
}

func TestKeys(t *testing.T) {
	apikeytest.Run(t, newStore(t).Keys())
}

// Seeding twice changes nothing: the demo runs on a database that
// survives restarts.
func TestSeedTwice(t *testing.T) {
	s := newStore(t).Cases()
	if err := s.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	seeded, err := s.Cases(t.Context(), cases.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(seeded) != len(cases.DemoCases()) {
		t.Errorf("%d cases after seeding twice, want %d", len(seeded), len(cases.DemoCases()))
	}
	for _, c := range seeded {
		if want := len(findCase(cases.DemoCases(), c.Ref).History); len(c.History) != want {
			t.Errorf("case %s has %d events, want %d", c.Ref, len(c.History), want)
		}
	}
}

func findCase(all []cases.Case, ref string) cases.Case {
	for _, c := range all {
		if c.Ref == ref {
			return c
		}
	}
	return cases.Case{}
}

// What an operation run by Once writes commits with its result: an
// operation that fails after writing leaves nothing, and a remembered one
// left its case.
func TestOnceAtomic(t *testing.T) {
	db := newStore(t)
	s, out := db.Cases(), db.Outbox()
	ctx := t.Context()
	const phone = "+237677000001"
	open := func(ctx context.Context, tx cases.Store) (cases.Case, error) {
		return tx.Cases.OpenCase(ctx, cases.Case{Service: "courrier", Status: "received", Phone: phone, Opened: time.Now(), Updated: time.Now()},
			func(c cases.Case) []outbox.Message {
				return []outbox.Message{{Phone: c.Phone, Body: "opened " + c.Ref}}
			})
	}
	boom := guichet.Errorf(guichet.EUNAVAILABLE, "ministry down")
	var ref string
	_, err := s.Once(ctx, "cases.open", "k", func(ctx context.Context, tx cases.Store) (menus.Result, error) {
		c, err := open(ctx, tx)
		if err != nil {
			return menus.Result{}, err
		}
		ref = c.Ref
		return menus.Result{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Once = %v, want %v", err, boom)
	}
	if _, err := s.Case(ctx, ref); guichet.ErrorCode(err) != guichet.ENOTFOUND {
		t.Errorf("case %s of a failed operation: %v, want not found", ref, err)
	}
	if msgs, _ := out.Messages(ctx, phone, 0); len(msgs) != 0 {
		t.Errorf("messages of a failed operation: %+v", msgs)
	}

	// A refused booking inside the operation (a savepoint rolled back)
	// does not spoil what the operation wrote before it.
	r, err := s.Once(ctx, "cases.open", "k", func(ctx context.Context, tx cases.Store) (menus.Result, error) {
		c, err := open(ctx, tx)
		if err != nil {
			return menus.Result{}, err
		}
		start := time.Date(2026, time.November, 30, 9, 0, 0, 0, cases.Cameroon)
		b := cases.Booking{Office: "atlantis", Start: start, Service: "visit", Phone: phone}
		if _, err := tx.Visits.Book(ctx, b, 50, start.Add(-time.Hour), nil); guichet.ErrorCode(err) != guichet.ENOTFOUND {
			t.Errorf("booking at an unknown office: %v, want not found", err)
		}
		return menus.Result{Vars: map[string]string{"ref": c.Ref}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Case(ctx, r.Vars["ref"]); err != nil {
		t.Errorf("case of a remembered operation: %v", err)
	}
	if msgs, _ := out.Messages(ctx, phone, 0); len(msgs) != 1 {
		t.Errorf("%d messages, want the one of the remembered operation", len(msgs))
	}
}

// Remembered results are forgotten after Keep.
func TestOnceKeep(t *testing.T) {
	db := newStore(t)
	now := time.Date(2026, time.November, 30, 8, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	db.Keep = time.Hour
	s := db.Cases()
	runs := 0
	once := func() {
		t.Helper()
		_, err := s.Once(t.Context(), "cases.open", "k", func(context.Context, cases.Store) (menus.Result, error) {
			runs++
			return menus.Result{}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	once()
	now = now.Add(59 * time.Minute)
	once()
	if runs != 1 {
		t.Fatalf("within Keep: ran %d times, want 1", runs)
	}
	now = now.Add(time.Minute)
	once()
	if runs != 2 {
		t.Fatalf("after Keep: ran %d times, want 2", runs)
	}
}

// The demo runs on PostgreSQL as it does in memory: Native's operations,
// each with its SMS.
func TestNative(t *testing.T) {
	s := newStore(t).Cases()
	monday := time.Date(2026, time.November, 30, 7, 30, 0, 0, cases.Cameroon)
	n := &cases.Service{DB: s, Now: func() time.Time { return monday }}
	r, err := n.Do(t.Context(), menus.Call{Op: "slots.book", Service: "visit", Phone: "+237677000001", Lang: "fr", Channel: "ussd",
		Key: "session-1/book", Args: map[string]string{"office": "douala-3", "slot": "202611300900"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "20000011"; r.Vars["ref"] != want || r.Vars["slot"] != "Lun 30/11 09h00" {
		t.Errorf("booked %v, want ref %s on Lun 30/11 09h00", r.Vars, want)
	}
	r, err = n.Do(t.Context(), menus.Call{Op: "cases.track", Lang: "en", Args: map[string]string{"ref": cases.DemoLicenceReady}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Vars["status"] != "ready" || r.Vars["updated"] != "20/11/2026" {
		t.Errorf("tracked %v", r.Vars)
	}
}

package cases_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/cases/casestest"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
)

func TestMemory(t *testing.T) {
	casestest.Run(t, func(t *testing.T) casestest.Stores {
		out := outbox.NewMemory()
		m := cases.NewMemory(out)
		if err := m.Seed(t.Context()); err != nil {
			t.Fatal(err)
		}
		return casestest.Stores{DB: m, CaseStore: m, VisitStore: m, CallbackStore: m, Queue: m, Outbox: out}
	})
}

func TestMemorySeedTwice(t *testing.T) {
	m := cases.NewMemory(outbox.NewMemory())
	if err := m.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Seed(t.Context()); err == nil {
		t.Error("seeding twice: want an error, the demo references are taken")
	}
}

// Remembered results are forgotten after Keep.
func TestMemoryKeep(t *testing.T) {
	now := time.Date(2026, time.November, 30, 8, 0, 0, 0, time.UTC)
	m := cases.NewMemory(outbox.NewMemory())
	m.Now = func() time.Time { return now }
	m.Keep = time.Hour
	runs := 0
	once := func() {
		t.Helper()
		_, err := m.Once(t.Context(), "cases.open", "k", func(context.Context, cases.Store) (menus.Result, error) {
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

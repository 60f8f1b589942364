package adapters_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/adapters/adapterstest"
)

func TestMemory(t *testing.T) {
	adapterstest.Run(t, func(t *testing.T) adapters.Store {
		m := adapters.NewMemory()
		if err := m.Seed(t.Context()); err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestMemorySeedTwice(t *testing.T) {
	m := adapters.NewMemory()
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
	m := adapters.NewMemory()
	m.Now = func() time.Time { return now }
	m.Keep = time.Hour
	runs := 0
	once := func() {
		t.Helper()
		_, err := m.Once(t.Context(), "cases.open", "k", func(context.Context) (adapters.Result, error) {
			runs++
			return adapters.Result{}, nil
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

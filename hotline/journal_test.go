package hotline_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
)

// The journal writes what it was told, all of it by Close; a session that
// ends after Close is counted as dropped, never a panic.
func TestJournal(t *testing.T) {
	store := staff.NewMemory()
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	j := hotline.NewJournal(store, nil, func() time.Time { return now }, nil)
	for i := range 300 {
		j.Ended(context.Background(), ussd.Outcome{Phone: "+237677000001", Service: "visit", Node: "slot", Result: ussd.Abandoned, Hops: i})
	}
	j.Close()
	rs, err := store.RecentSessions(t.Context(), "+237677000001", 500)
	if err != nil || len(rs) != 300 || rs[0].Node != "slot" || !rs[0].At.Equal(now) {
		t.Fatalf("after Close: %d records (%v), want the 300 told", len(rs), err)
	}
	j.Ended(context.Background(), ussd.Outcome{Phone: "+237677000001"})
	j.Close() // twice: no panic
	if j.Dropped() != 1 {
		t.Errorf("dropped %d, want the one told after Close", j.Dropped())
	}
}

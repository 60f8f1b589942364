package staff_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/staff/stafftest"
)

func TestMemory(t *testing.T) {
	stafftest.Run(t, func(t *testing.T) stafftest.Store {
		m := staff.NewMemory()
		return stafftest.Store{Accounts: m, Trail: m}
	})
}

// Memory keeps the latest KeepRecords session records: the oldest
// recorded go first, whenever they ended.
func TestMemoryKeepsLatestRecords(t *testing.T) {
	ctx := t.Context()
	m := staff.NewMemory()
	t0 := time.Date(2026, time.November, 30, 8, 0, 0, 0, time.UTC)
	const extra = 5
	// The first records, of their own phones, ended last.
	var rs []staff.SessionRecord
	for i := range extra {
		rs = append(rs, staff.SessionRecord{At: t0.Add(time.Hour), Phone: fmt.Sprintf("+2376770000%02d", i), Service: "old"})
	}
	if err := m.RecordSessions(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Then more than fill the ring, in batches.
	rs = rs[:0]
	for i := range staff.KeepRecords {
		rs = append(rs, staff.SessionRecord{At: t0.Add(time.Duration(i) * time.Millisecond), Phone: "+237677999999", Service: "new", Hops: i})
		if len(rs) == 1000 || i == staff.KeepRecords-1 {
			if err := m.RecordSessions(ctx, rs); err != nil {
				t.Fatal(err)
			}
			rs = rs[:0]
		}
	}
	for i := range extra {
		got, err := m.RecentSessions(ctx, fmt.Sprintf("+2376770000%02d", i), 0)
		if err != nil || len(got) != 0 {
			t.Errorf("record %d, among the oldest, is still kept: %+v, %v", i, got, err)
		}
	}
	got, err := m.RecentSessions(ctx, "+237677999999", 3)
	if err != nil || len(got) != 3 || got[0].Hops != staff.KeepRecords-1 || got[2].Hops != staff.KeepRecords-3 {
		t.Errorf("newest records: %+v, %v", got, err)
	}
	hours, ends, err := m.SessionCounts(ctx, t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hours {
		n += h.N
	}
	if n != staff.KeepRecords || len(ends) != 1 || ends[0].Service != "new" || ends[0].N != staff.KeepRecords {
		t.Errorf("counted %d records (%+v), want the %d latest", n, ends, staff.KeepRecords)
	}
}

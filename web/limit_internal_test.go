package web

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/sessions"
)

// The codes asked from one IPv6 /64 are counted together, an IPv4 address
// alone; and the gateway's hourly budget bounds them all.
func TestCodeBudgets(t *testing.T) {
	now := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	site := func(perAddr, perHour int) *Site {
		store := sessions.NewMemory(clock)
		return &Site{Counter: &flood.Counter{Store: store, Now: clock}, PerAddr: perAddr, PerHour: perHour, Now: clock}
	}
	ctx := context.Background()
	s := site(2, 0)
	for i, a := range []string{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"} {
		if err := s.limit(ctx, fmt.Sprintf("+23767700010%d", i), netip.MustParseAddr(a)); err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
	}
	if err := s.limit(ctx, "+237677000109", netip.MustParseAddr("2001:db8:1:2:abcd::1")); !errors.Is(err, errLimited) {
		t.Errorf("a third code from the same /64: %v, want refused", err)
	}
	if err := s.limit(ctx, "+237677000108", netip.MustParseAddr("2001:db8:1:3::1")); err != nil {
		t.Errorf("another /64: %v", err)
	}
	if err := s.limit(ctx, "+237677000107", netip.MustParseAddr("192.0.2.7")); err != nil {
		t.Errorf("an IPv4 address: %v", err)
	}

	s = site(-1, 3)
	for i := range 3 {
		if err := s.limit(ctx, fmt.Sprintf("+23767700020%d", i), netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", i+1))); err != nil {
			t.Fatalf("code %d of the budget: %v", i+1, err)
		}
	}
	if err := s.limit(ctx, "+237677000209", netip.MustParseAddr("198.51.100.1")); !errors.Is(err, errLimited) {
		t.Errorf("over the gateway's hourly budget: %v, want refused", err)
	}
}

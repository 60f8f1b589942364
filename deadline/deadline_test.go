package deadline

import (
	"context"
	"testing"
	"time"
)

// One context for all who ask within a tenth of the timeout, ending
// between the timeout and 1.1 times it after each asked, with its parent;
// another parent gets its own.
func TestShared(t *testing.T) {
	const timeout = 200 * time.Millisecond
	parent, cancel := context.WithCancel(context.Background())
	var s Shared
	asked := time.Now()
	first := s.Context(parent, timeout)
	if again := s.Context(parent, timeout); again != first {
		t.Error("two calls at once got two contexts")
	}
	end, ok := first.Deadline()
	if !ok || end.Before(asked.Add(timeout)) || end.After(time.Now().Add(timeout+timeout/10)) {
		t.Errorf("deadline %v after the ask, want between %v and %v", end.Sub(asked), timeout, timeout+timeout/10)
	}
	other, cancelOther := context.WithCancel(context.Background())
	defer cancelOther()
	if s.Context(other, timeout) == first {
		t.Error("a call of another parent got the first's context")
	}
	first = s.Context(parent, timeout) // the parent's again
	time.Sleep(timeout/10 + 5*time.Millisecond)
	later := time.Now()
	next := s.Context(parent, timeout)
	if next == first {
		t.Fatal("a call after a tenth of the timeout got a context ending before its own timeout")
	}
	if end, _ := next.Deadline(); end.Before(later.Add(timeout)) {
		t.Errorf("next deadline %v after its ask, want at least %v", end.Sub(later), timeout)
	}
	cancel()
	for _, ctx := range []context.Context{first, next} {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			t.Fatal("a context outlived its parent")
		}
	}
}

func BenchmarkShared(b *testing.B) {
	var s Shared
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s.Context(ctx, 10*time.Second)
	}
}

func BenchmarkWithTimeout(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, cancel := context.WithTimeout(ctx, 10*time.Second)
		cancel()
	}
}

// uncomparable is a context that == cannot compare.
type uncomparable struct {
	context.Context
	m map[string]string
}

// A parent that cannot be compared gets a context of its own each time,
// not a panic.
func TestSharedUncomparableParent(t *testing.T) {
	var s Shared
	parent := uncomparable{Context: context.Background(), m: map[string]string{}}
	first := s.Context(parent, time.Second)
	if again := s.Context(parent, time.Second); again == first {
		t.Error("an uncomparable parent's context was shared")
	}
	if _, ok := first.Deadline(); !ok {
		t.Error("no deadline")
	}
}

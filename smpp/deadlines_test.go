package smpp

import (
	"context"
	"testing"
	"time"
)

// The handlers' contexts: one for all who ask within a tenth of the
// timeout, ending between the timeout and 1.1 times it after each asked,
// and with the bind's context.
func TestDeadlines(t *testing.T) {
	const timeout = 200 * time.Millisecond
	parent, cancel := context.WithCancel(context.Background())
	var d deadlines
	asked := time.Now()
	first := d.get(parent, timeout)
	if again := d.get(parent, timeout); again != first {
		t.Error("two handlers at once got two contexts")
	}
	end, ok := first.Deadline()
	if !ok || end.Before(asked.Add(timeout)) || end.After(time.Now().Add(timeout+timeout/10)) {
		t.Errorf("deadline %v after the ask, want between %v and %v", end.Sub(asked), timeout, timeout+timeout/10)
	}
	time.Sleep(timeout/10 + 5*time.Millisecond)
	later := time.Now()
	next := d.get(parent, timeout)
	if next == first {
		t.Fatal("a handler after a tenth of the timeout got a context ending before its own timeout")
	}
	if end, _ := next.Deadline(); end.Before(later.Add(timeout)) {
		t.Errorf("next deadline %v after its ask, want at least %v", end.Sub(later), timeout)
	}
	cancel()
	for _, ctx := range []context.Context{first, next} {
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			t.Fatal("a handler's context outlived the bind's")
		}
	}
}

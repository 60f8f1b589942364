package backend

import (
	"errors"
	"testing"
	"time"
)

// clock is a settable clock for the breaker.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// attempt asks b for an attempt and reports outcome o, failing t unless the
// breaker's answer is want (true: allowed).
func attempt(t *testing.T, b *Breaker, o Outcome, want bool) {
	t.Helper()
	done, err := b.Allow()
	if allowed := err == nil; allowed != want {
		t.Fatalf("Allow in state %v: allowed %v, want %v (err %v)", b.State(), allowed, want, err)
	}
	if err != nil {
		if !errors.Is(err, ErrOpen) {
			t.Fatalf("Allow: %v, want ErrOpen", err)
		}
		return
	}
	done(o)
}

func TestBreaker(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
	b := NewBreaker(BreakerConfig{Failures: 3, Open: 30 * time.Second}, c.now)

	// Failures must be consecutive: a success starts the count again.
	attempt(t, b, Failed, true)
	attempt(t, b, Failed, true)
	attempt(t, b, Succeeded, true)
	attempt(t, b, Failed, true)
	attempt(t, b, Failed, true)
	if b.State() != Closed {
		t.Fatalf("after 2 consecutive failures: %v, want closed", b.State())
	}
	attempt(t, b, Abandoned, true) // says nothing: the count holds
	attempt(t, b, Failed, true)
	if b.State() != Open {
		t.Fatalf("after 3 consecutive failures: %v, want open", b.State())
	}

	// Open: refused until the open duration has passed.
	attempt(t, b, Succeeded, false)
	c.advance(30*time.Second - time.Nanosecond)
	attempt(t, b, Succeeded, false)
	c.advance(time.Nanosecond)
	if b.State() != HalfOpen {
		t.Fatalf("after the open duration: %v, want half-open", b.State())
	}

	// Half-open: one probe at a time; a failed probe opens it again.
	probe, err := b.Allow()
	if err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	attempt(t, b, Succeeded, false) // a second caller while the probe runs
	probe(Failed)
	if b.State() != Open {
		t.Fatalf("after a failed probe: %v, want open", b.State())
	}
	attempt(t, b, Succeeded, false)

	// An abandoned probe lets the next caller probe; a successful one closes.
	c.advance(30 * time.Second)
	attempt(t, b, Abandoned, true)
	if b.State() != HalfOpen {
		t.Fatalf("after an abandoned probe: %v, want half-open", b.State())
	}
	attempt(t, b, Succeeded, true)
	if b.State() != Closed {
		t.Fatalf("after a successful probe: %v, want closed", b.State())
	}
	attempt(t, b, Failed, true)
	attempt(t, b, Failed, true)
	if b.State() != Closed {
		t.Fatalf("the count did not restart on closing: %v", b.State())
	}
}

// TestBreakerLateReports holds that an attempt allowed before the breaker
// moved cannot move it: a slow success from before it opened does not close
// it, and a report counts once however often it is made.
func TestBreakerLateReports(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)}
	b := NewBreaker(BreakerConfig{Failures: 2, Open: time.Minute}, c.now)
	slow, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	attempt(t, b, Failed, true)
	attempt(t, b, Failed, true)
	slow(Succeeded)
	if b.State() != Open {
		t.Fatalf("a late success moved the breaker to %v", b.State())
	}

	c.advance(time.Minute)
	b2 := NewBreaker(BreakerConfig{Failures: 2, Open: time.Minute}, c.now)
	done, _ := b2.Allow()
	done(Failed)
	done(Failed)
	if b2.State() != Closed {
		t.Fatalf("one attempt reported twice counted twice: %v", b2.State())
	}
}

func TestBreakerDefaults(t *testing.T) {
	b := NewBreaker(BreakerConfig{}, nil)
	for range DefaultFailures - 1 {
		attempt(t, b, Failed, true)
	}
	if b.State() != Closed {
		t.Fatalf("opened before %d failures", DefaultFailures)
	}
	attempt(t, b, Failed, true)
	if b.State() != Open {
		t.Fatalf("not open after %d failures", DefaultFailures)
	}
}

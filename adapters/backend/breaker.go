package backend

import (
	"errors"
	"sync"
	"time"
)

// ErrOpen is the error of an attempt that the breaker refused.
var ErrOpen = errors.New("circuit breaker open")

// State is a breaker's state.
type State int

// Breaker states.
const (
	Closed   State = iota // attempts go through; failures are counted
	Open                  // attempts are refused until the open duration has passed
	HalfOpen              // one probe goes through; its outcome closes or reopens
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// Outcome is how an attempt that the breaker let through ended.
type Outcome int

// Attempt outcomes.
const (
	Succeeded Outcome = iota // the backend answered, even with a business error
	Failed                   // the backend failed: no answer in time, unreachable, broken answer
	Abandoned                // the caller gave up: nothing learnt about the backend
)

// Breaker is a circuit breaker: Closed, it counts consecutive failed
// attempts and opens after Failures of them; Open, it refuses every attempt
// for the Open duration, then turns HalfOpen and lets one probe through at a
// time: a success closes it, a failure opens it again. It is safe for
// concurrent use.
type Breaker struct {
	failures int
	open     time.Duration
	now      func() time.Time

	mu       sync.Mutex
	state    State
	count    int       // consecutive failures while closed
	openedAt time.Time // when it last opened
	probing  bool      // a half-open probe is under way
	gen      uint64    // bumped at each change of state: late reports are ignored
}

// NewBreaker returns a closed breaker set by cfg (zero fields meaning their
// defaults), reading the time from now (time.Now if nil).
func NewBreaker(cfg BreakerConfig, now func() time.Time) *Breaker {
	if now == nil {
		now = time.Now
	}
	b := &Breaker{failures: cfg.Failures, open: cfg.Open, now: now}
	if b.failures <= 0 {
		b.failures = DefaultFailures
	}
	if b.open <= 0 {
		b.open = DefaultOpen
	}
	return b
}

// State returns the breaker's state now.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && !b.now().Before(b.openedAt.Add(b.open)) {
		return HalfOpen
	}
	return b.state
}

// Allow asks to make one attempt. It returns ErrOpen if the breaker is open,
// or is half-open with a probe under way; otherwise the caller makes the
// attempt and must call done once with its outcome.
func (b *Breaker) Allow() (done func(Outcome), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && !b.now().Before(b.openedAt.Add(b.open)) {
		b.set(HalfOpen)
	}
	switch b.state {
	case Open:
		return nil, ErrOpen
	case HalfOpen:
		if b.probing {
			return nil, ErrOpen
		}
		b.probing = true
	}
	gen := b.gen
	var once sync.Once
	return func(o Outcome) { once.Do(func() { b.report(gen, o) }) }, nil
}

// report records the outcome of an attempt allowed in generation gen.
func (b *Breaker) report(gen uint64, o Outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if gen != b.gen {
		return // allowed in an earlier state: the state has moved on since
	}
	switch b.state {
	case Closed:
		switch o {
		case Succeeded:
			b.count = 0
		case Failed:
			b.count++
			if b.count >= b.failures {
				b.set(Open)
			}
		}
	case HalfOpen:
		switch o {
		case Succeeded:
			b.set(Closed)
		case Failed:
			b.set(Open)
		case Abandoned:
			b.probing = false // let the next caller probe
		}
	}
}

// set moves the breaker to state s.
func (b *Breaker) set(s State) {
	b.state = s
	b.gen++
	b.count = 0
	b.probing = false
	if s == Open {
		b.openedAt = b.now()
	}
}

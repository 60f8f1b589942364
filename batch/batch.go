// Package batch runs what many goroutines ask at once as one call: the
// group commit of the outbox's outcomes and receipts, and of the
// ministries' sends.
package batch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Group runs what many goroutines ask at once in one call, as
// PostgreSQL's own group commit does: the first request of a batch leads
// it, waits up to Every for others to join (or until Max have), runs the
// batch with Run, and hands each its result. Nobody waits longer than
// Every plus one run; no goroutine lives between batches.
//
// With InFlight set, no request waits on a clock: a batch starts at once
// while fewer than InFlight batches run, and otherwise gathers what comes
// until one of them ends, when it starts with up to Max (or everything)
// gathered meanwhile. Idle, each request runs alone at once; busy, batches
// grow with the time a run takes, and so do the savings of running them
// together (a commit's disk flush shared by all that came during the last).
type Group[T, R any] struct {
	Every    time.Duration
	Max      int
	InFlight int
	Run      func(ctx context.Context, batch []T) ([]R, error)
	// RunEarly, instead of Run, may hand some results before the batch
	// ends (done(i, r, err) for batch[i]): their callers go on at once.
	// Those it did not hand get its error when it returns.
	RunEarly func(ctx context.Context, batch []T, done func(i int, r R, err error)) error

	mu      sync.Mutex
	pending []*call[T, R]
	full    chan struct{} // closed when the batch being gathered has max
	running int           // batches running, with InFlight
}

type call[T, R any] struct {
	in   T
	out  R
	err  error
	done chan struct{}
}

// Do adds in to the batch being gathered and returns its result once the
// batch has run. ctx bounds only the wait of a request that does not lead;
// a leader runs its batch to the end on a context of its own, so that what
// others wait for is not cut short by one caller leaving.
func (g *Group[T, R]) Do(ctx context.Context, in T) (R, error) {
	c := &call[T, R]{in: in, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	if g.InFlight > 0 {
		if g.running < g.InFlight {
			g.startLocked(ctx)
		}
		g.mu.Unlock()
		return g.wait(ctx, c)
	}
	lead := len(g.pending) == 1
	if lead {
		g.full = make(chan struct{})
	}
	full := g.full
	if len(g.pending) == g.Max {
		close(full)
	}
	g.mu.Unlock()
	if lead {
		t := time.NewTimer(g.Every)
		select {
		case <-t.C:
		case <-full:
			t.Stop()
		}
		g.mu.Lock()
		batch := g.pending
		g.pending = nil
		g.mu.Unlock()
		ins := make([]T, len(batch))
		for i, b := range batch {
			ins[i] = b.in
		}
		// The batch runs on a goroutine of its own, so that the leader,
		// like the others, goes on as soon as its own result is handed.
		go g.run(context.WithoutCancel(ctx), batch, ins)
	}
	return g.wait(ctx, c)
}

// startLocked starts a batch of what is pending, up to Max, with g.mu
// held; when it ends, the next starts with what came meanwhile.
func (g *Group[T, R]) startLocked(ctx context.Context) {
	n := len(g.pending)
	if g.Max > 0 {
		n = min(n, g.Max)
	}
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	if len(g.pending) == 0 {
		g.pending = nil
	}
	g.running++
	ins := make([]T, len(batch))
	for i, b := range batch {
		ins[i] = b.in
	}
	go func() {
		g.run(context.WithoutCancel(ctx), batch, ins)
		g.mu.Lock()
		g.running--
		if len(g.pending) > 0 {
			g.startLocked(ctx)
		}
		g.mu.Unlock()
	}()
}

// Pending is how many requests wait for a batch to start.
func (g *Group[T, R]) Pending() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.pending)
}

// wait returns c's result, or ctx's error if ctx ends first.
func (g *Group[T, R]) wait(ctx context.Context, c *call[T, R]) (R, error) {
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// run runs a batch and hands each of its calls its result.
func (g *Group[T, R]) run(ctx context.Context, batch []*call[T, R], ins []T) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	handed := make([]bool, len(batch))
	defer func() {
		// A panic in a batch fails its calls, not the process.
		if p := recover(); p != nil {
			for i, b := range batch {
				if !handed[i] {
					handed[i] = true
					b.err = fmt.Errorf("batch: a batch panicked: %v", p)
					close(b.done)
				}
			}
		}
	}()
	if g.RunEarly != nil {
		err := g.RunEarly(rctx, ins, func(i int, r R, err error) {
			if i >= 0 && i < len(batch) && !handed[i] {
				handed[i] = true
				batch[i].out, batch[i].err = r, err
				close(batch[i].done)
			}
		})
		for i, b := range batch {
			if !handed[i] {
				handed[i] = true
				b.err = err
				close(b.done)
			}
		}
	} else {
		outs, err := g.Run(rctx, ins)
		for i, b := range batch {
			if err == nil && i < len(outs) {
				b.out = outs[i]
			}
			handed[i] = true
			b.err = err
			close(b.done)
		}
	}
	cancel()
}

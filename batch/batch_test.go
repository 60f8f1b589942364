package batch_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/batch"
)

// Requests that come together run as one call, each getting its own
// result; Max flushes a batch before Every.
func TestGroup(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	g := &batch.Group[int, int]{Every: time.Hour, Max: 5, Run: func(_ context.Context, in []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(in))
		mu.Unlock()
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v * 10
		}
		return out, nil
	}}
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if got, err := g.Do(t.Context(), i); err != nil || got != i*10 {
				t.Errorf("Do(%d) = %d, %v", i, got, err)
			}
		})
	}
	wg.Wait() // an hour's Every: only Max could have flushed it
	if len(sizes) != 1 || sizes[0] != 5 {
		t.Errorf("batches %v, want one of 5", sizes)
	}
}

// RunEarly lets some callers go on before the batch ends; the others get
// its error.
func TestGroupEarly(t *testing.T) {
	release := make(chan struct{})
	boom := errors.New("boom")
	g := &batch.Group[int, string]{Every: 5 * time.Millisecond, Max: 2, RunEarly: func(_ context.Context, in []int, done func(int, string, error)) error {
		for i, v := range in {
			if v == 0 {
				done(i, "early", nil)
			}
		}
		<-release
		return boom
	}}
	early := make(chan string, 1)
	late := make(chan error, 1)
	go func() { r, _ := g.Do(context.Background(), 0); early <- r }()
	go func() { _, err := g.Do(context.Background(), 1); late <- err }()
	select {
	case r := <-early:
		if r != "early" {
			t.Errorf("early result %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the early caller waited for the whole batch")
	}
	select {
	case <-late:
		t.Fatal("the late caller went on before the batch ended")
	default:
	}
	close(release)
	if err := <-late; !errors.Is(err, boom) {
		t.Errorf("the late caller got %v, want the batch's error", err)
	}
}

// With InFlight, a request on an idle group runs at once, whatever Every;
// while a batch runs, what comes gathers and runs as one batch (up to
// Max) when it ends; never more than InFlight batches run at once.
func TestGroupInFlight(t *testing.T) {
	var (
		mu       sync.Mutex
		sizes    []int
		running  int
		most     int
		release  = make(chan struct{})
		started  = make(chan struct{}, 16)
		blocking = true
	)
	g := &batch.Group[int, int]{Every: time.Hour, Max: 4, InFlight: 1, Run: func(_ context.Context, in []int) ([]int, error) {
		mu.Lock()
		sizes = append(sizes, len(in))
		running++
		most = max(most, running)
		block := blocking
		mu.Unlock()
		started <- struct{}{}
		if block {
			<-release
		}
		mu.Lock()
		running--
		mu.Unlock()
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v + 1
		}
		return out, nil
	}}
	// Idle: the first runs at once, alone (an hour's Every would block it).
	var wg sync.WaitGroup
	wg.Go(func() {
		if got, err := g.Do(t.Context(), 0); err != nil || got != 1 {
			t.Errorf("Do(0) = %d, %v", got, err)
		}
	})
	<-started
	// Busy: six more gather behind it.
	for i := 1; i <= 6; i++ {
		wg.Go(func() {
			if got, err := g.Do(t.Context(), i); err != nil || got != i+1 {
				t.Errorf("Do(%d) = %d, %v", i, got, err)
			}
		})
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if g.Pending() == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending, want 6", g.Pending())
		}
	}
	mu.Lock()
	blocking = false
	mu.Unlock()
	close(release)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sizes, []int{1, 4, 2}) {
		t.Errorf("batches %v, want [1 4 2]: one alone, then what gathered, Max at a time", sizes)
	}
	if most != 1 {
		t.Errorf("%d batches ran at once, want at most 1", most)
	}
}

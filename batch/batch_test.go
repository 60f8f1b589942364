package batch_test

import (
	"context"
	"errors"
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

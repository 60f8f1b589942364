package stafftest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/staff"
)

// backoff lets 3 failures through, then waits 1 s, 2 s, 4 s, 4 s…;
// failures are forgotten an hour after the latest.
var backoff = staff.Backoff{Free: 3, First: time.Second, Max: 4 * time.Second, Forget: time.Hour}

// testAttempt counts failures in a row on a key and makes the next
// attempt wait as the backoff says; an attempt that must wait counts
// nothing; failures an hour old are forgotten.
func testAttempt(t *testing.T, s Store) {
	ctx := t.Context()
	name := []staff.Strike{{Key: "name:awa", Backoff: backoff}}
	steps := []struct {
		at           time.Duration // after t0
		wantOK       bool
		wantFailures int
		wantUntil    time.Duration // when not OK
	}{
		{0, true, 1, 0},
		{0, true, 2, 0},
		{0, true, 3, 0}, // the third sets a wait of 1 s
		{0, false, 3, time.Second},
		{time.Second - time.Millisecond, false, 3, time.Second},
		{time.Second, true, 4, 0}, // now 2 s
		{2 * time.Second, false, 4, 3 * time.Second},
		{3 * time.Second, true, 5, 0}, // now 4 s
		{7 * time.Second, true, 6, 0}, // 4 s again: the longest
		{10 * time.Second, false, 6, 11 * time.Second},
		{11 * time.Second, true, 7, 0}, // the latest failure at 11 s
		{11*time.Second + time.Hour, true, 1, 0},
	}
	for i, st := range steps {
		v, err := s.Attempt(ctx, t0.Add(st.at).In(wat), name)
		noErr(t, err)
		if v.OK != st.wantOK || v.Failures["name:awa"] != st.wantFailures {
			t.Fatalf("attempt %d at +%v: %+v; want OK %v with %d failures", i+1, st.at, v, st.wantOK, st.wantFailures)
		}
		if !st.wantOK && (!v.Until.Equal(t0.Add(st.wantUntil)) || !slices.Equal(v.Waiting, []string{"name:awa"})) {
			t.Errorf("attempt %d at +%v: waiting %v until %v; want [name:awa] until +%v", i+1, st.at, v.Waiting, v.Until, st.wantUntil)
		}
	}
	// Another key counts on its own; Free 0 waits from the first.
	v, err := s.Attempt(ctx, t0, []staff.Strike{{Key: "name:moussa", Backoff: staff.Backoff{First: time.Minute, Max: time.Hour, Forget: 2 * time.Hour}}})
	if err != nil || !v.OK || v.Failures["name:moussa"] != 1 {
		t.Errorf("moussa's first attempt: %+v %v", v, err)
	}
	if v, _ := s.Attempt(ctx, t0.Add(time.Second), []staff.Strike{{Key: "name:moussa", Backoff: backoff}}); v.OK || !v.Until.Equal(t0.Add(time.Minute)) {
		t.Errorf("moussa's second attempt: %+v, want to wait until +1 min", v)
	}
}

// testAttemptWaits: with several keys, the attempt waits while any of
// them does, until the latest, and then counts against none.
func testAttemptWaits(t *testing.T, s Store) {
	ctx := t.Context()
	quick := staff.Backoff{Free: 1, First: time.Minute, Max: time.Hour, Forget: 2 * time.Hour}
	addr := staff.Strike{Key: "addr:203.0.113.9", Backoff: quick, Shared: true}
	for _, name := range []string{"awa", "moussa"} {
		v, err := s.Attempt(ctx, t0, []staff.Strike{{Key: "name:" + name, Backoff: backoff}, addr})
		noErr(t, err)
		if name == "awa" && !v.OK || name == "moussa" && (v.OK || !slices.Equal(v.Waiting, []string{"addr:203.0.113.9"}) || !v.Until.Equal(t0.Add(time.Minute))) {
			t.Errorf("%s from the address: %+v", name, v)
		}
	}
	// moussa's refused attempt counted nothing against his name.
	if v := must[staff.Verdict](t)(s.Attempt(ctx, t0.Add(time.Minute), []staff.Strike{{Key: "name:moussa", Backoff: backoff}})); !v.OK || v.Failures["name:moussa"] != 1 {
		t.Errorf("moussa's name after a refused attempt: %+v, want its first failure", v)
	}
	// Both keys waiting: until the later.
	other := staff.Strike{Key: "name:awa", Backoff: staff.Backoff{Free: 1, First: time.Hour, Max: time.Hour, Forget: 2 * time.Hour}}
	noErr(t, s.Succeeded(ctx, t0, []staff.Strike{other}))
	must[staff.Verdict](t)(s.Attempt(ctx, t0.Add(30*time.Second), []staff.Strike{other}))
	v := must[staff.Verdict](t)(s.Attempt(ctx, t0.Add(30*time.Second), []staff.Strike{other, addr}))
	slices.Sort(v.Waiting)
	if v.OK || !v.Until.Equal(t0.Add(time.Hour+30*time.Second)) || !slices.Equal(v.Waiting, []string{"addr:203.0.113.9", "name:awa"}) {
		t.Errorf("both keys waiting: %+v, want both, until the later (+1 h 30 s)", v)
	}
}

// testAttemptConcurrent makes 20 attempts at once on two keys that let 5
// through: exactly 5 get through, each with its own count.
func testAttemptConcurrent(t *testing.T, s Store) {
	ctx := t.Context()
	five := staff.Backoff{Free: 5, First: time.Hour, Max: time.Hour, Forget: 2 * time.Hour}
	strikes := []staff.Strike{{Key: "name:awa", Backoff: five}, {Key: "addr:203.0.113.9", Backoff: five, Shared: true}}
	const n = 20
	var (
		wg   sync.WaitGroup
		seen = make(chan int, n)
	)
	for range n {
		wg.Go(func() {
			v, err := s.Attempt(ctx, t0, strikes)
			if err != nil {
				t.Error(err)
				return
			}
			if v.OK {
				seen <- v.Failures["name:awa"]
			}
		})
	}
	wg.Wait()
	close(seen)
	var counts []int
	for f := range seen {
		counts = append(counts, f)
	}
	slices.Sort(counts)
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(counts, want) {
		t.Errorf("attempts let through = %v, want %v: parallel guesses must not slip past the wait", counts, want)
	}
}

// testSucceeded forgets a name's failures, and takes only its own
// attempt back from a shared address.
func testSucceeded(t *testing.T, s Store) {
	ctx := t.Context()
	name := staff.Strike{Key: "name:awa", Backoff: backoff}
	addr := staff.Strike{Key: "addr:203.0.113.9", Backoff: backoff, Shared: true}
	both := []staff.Strike{name, addr}
	for range 3 {
		if v := must[staff.Verdict](t)(s.Attempt(ctx, t0, both)); !v.OK {
			t.Fatalf("attempt refused: %+v", v)
		}
	}
	noErr(t, s.Succeeded(ctx, t0, both)) // the third was right
	v := must[staff.Verdict](t)(s.Attempt(ctx, t0, both))
	if !v.OK || v.Failures["name:awa"] != 1 || v.Failures["addr:203.0.113.9"] != 3 {
		t.Errorf("after a success: %+v, want the name's first failure and the address's third", v)
	}
	// The address now waits 1 s, as after 3 failures; a success takes
	// its attempt back, and the address waits no more.
	noErr(t, s.Succeeded(ctx, t0, both))
	if v := must[staff.Verdict](t)(s.Attempt(ctx, t0, both)); !v.OK || v.Failures["addr:203.0.113.9"] != 3 {
		t.Errorf("after a second success: %+v, want the address's third failure again", v)
	}
	noErr(t, s.Succeeded(ctx, t0, []staff.Strike{{Key: "name:nobody", Backoff: backoff}})) // nothing to take back: no error
}

// testNoticed lets a key's failures be written once per period.
func testNoticed(t *testing.T, s Store) {
	ctx := t.Context()
	const every = 15 * time.Minute
	if ok := must[bool](t)(s.Noticed(ctx, "name:awa", t0, every)); ok {
		t.Error("a key without failures was noticed")
	}
	must[staff.Verdict](t)(s.Attempt(ctx, t0, []staff.Strike{{Key: "name:awa", Backoff: backoff}}))
	steps := []struct {
		at   time.Duration
		want bool
	}{{0, true}, {time.Minute, false}, {every - time.Second, false}, {every, true}, {every + time.Second, false}, {3 * every, true}}
	for _, st := range steps {
		if got := must[bool](t)(s.Noticed(ctx, "name:awa", t0.Add(st.at).In(wat), every)); got != st.want {
			t.Errorf("Noticed at +%v = %v, want %v", st.at, got, st.want)
		}
	}
	if ok := must[bool](t)(s.Noticed(ctx, "name:moussa", t0, every)); ok {
		t.Error("another key was noticed")
	}
}

// Package sessionstest holds what tests of session stores share: the contract
// every sessions.Store must meet (Run) and a connection to the test Redis
// (Redis).
package sessionstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/sessions"
)

// long is a TTL no test outlives.
const long = time.Minute

// Run runs the contract every sessions.Store must meet against stores made by
// newStore. Each subtest gets a fresh store; newStore registers its own
// cleanup with t. The whole suite takes well under a second per store.
func Run(t *testing.T, newStore func(t *testing.T) sessions.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s sessions.Store)
	}{
		{"Ping", testPing},
		{"GetAbsent", testGetAbsent},
		{"SetGet", testSetGet},
		{"InvalidTTL", testInvalidTTL},
		{"Expiry", testExpiry},
		{"Delete", testDelete},
		{"UpdateAbsent", testUpdateAbsent},
		{"UpdatePresent", testUpdatePresent},
		{"UpdateError", testUpdateError},
		{"UpdateNilDeletes", testUpdateNilDeletes},
		{"UpdateCanceled", testUpdateCanceled},
		{"UpdateRace", testUpdateRace},
		{"UpdateRetries", testUpdateRetries},
		{"UpdateConflict", testUpdateConflict},
		{"Copies", testCopies},
		{"Isolation", testIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// Session returns a realistic serialised session of about 300 bytes; n varies
// its content.
func Session(n int) []byte {
	return fmt.Appendf(nil, `{"id":"%016x","msisdn":"+23767%07d","operator":"mtn","lang":"fr",`+
		`"menu":"etat-civil","node":"acte.naissance.numero","stack":["accueil","etat-civil","acte"],`+
		`"vars":{"region":"Centre","commune":"Yaoundé II","acte":"naissance","numero":"%d"},`+
		`"page":0,"started":"2025-11-28T14:10:00Z","updated":"2025-11-28T14:10:12Z","hops":%d}`,
		uint64(n)*0x9e3779b97f4a7c15, n%10_000_000, n, n%9)
}

func testPing(t *testing.T, s sessions.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testGetAbsent(t *testing.T, s sessions.Store) {
	got, err := s.Get(t.Context(), "absent")
	if !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Get(absent) = %q, %v; want ErrNotFound", got, err)
	}
}

func testSetGet(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		val  []byte
	}{
		{"session", Session(1)},
		{"empty", []byte{}},
		{"binary", []byte{0, 1, 2, 0xff, '\n', 0}},
		{"unicode", []byte("Bienvenue à la mairie de Yaoundé — état civil")},
		{"large", bytes.Repeat([]byte("x"), 64<<10)},
	}
	for _, tt := range tests {
		key := "setget:" + tt.name
		if err := s.Set(ctx, key, tt.val, long); err != nil {
			t.Fatalf("%s: Set: %v", tt.name, err)
		}
		mustGet(t, s, key, tt.val)
	}

	// Set overwrites.
	if err := s.Set(ctx, "setget:session", Session(2), long); err != nil {
		t.Fatalf("Set (overwrite): %v", err)
	}
	mustGet(t, s, "setget:session", Session(2))
}

func testInvalidTTL(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Set(ctx, "ttl", []byte("v"), ttl); err == nil {
			t.Errorf("Set with ttl %v: no error", ttl)
		}
		called := false
		_, err := s.Update(ctx, "ttl", ttl, func(old []byte) ([]byte, error) {
			called = true
			return []byte("v"), nil
		})
		if err == nil || called {
			t.Errorf("Update with ttl %v: err %v, fn called %v; want an error before fn", ttl, err, called)
		}
		mustBeAbsent(t, s, "ttl")
	}
}

func testExpiry(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	const short = 100 * time.Millisecond
	start := time.Now()
	if err := s.Set(ctx, "short", []byte("short"), short); err != nil {
		t.Fatalf("Set short: %v", err)
	}
	if err := s.Set(ctx, "long", []byte("long"), long); err != nil {
		t.Fatalf("Set long: %v", err)
	}
	if _, err := s.Update(ctx, "updated", short, constant([]byte("updated"))); err != nil {
		t.Fatalf("Update with short ttl: %v", err)
	}
	// Update gives an entry its new ttl.
	if err := s.Set(ctx, "extended", []byte("extended"), short); err != nil {
		t.Fatalf("Set extended: %v", err)
	}
	if _, err := s.Update(ctx, "extended", long, constant([]byte("extended 2"))); err != nil {
		t.Fatalf("Update extended: %v", err)
	}
	mustGet(t, s, "short", []byte("short"))
	mustGet(t, s, "updated", []byte("updated"))

	for _, key := range []string{"short", "updated"} {
		gone := waitGone(t, s, key, 2*time.Second)
		if lived := gone.Sub(start); lived < short-5*time.Millisecond {
			t.Errorf("%s: gone after %v, before its ttl of %v", key, lived, short)
		}
	}
	mustGet(t, s, "long", []byte("long"))
	mustGet(t, s, "extended", []byte("extended 2"))

	// An expired key reads as absent in Update too.
	var got []byte
	if _, err := s.Update(ctx, "short", long, func(old []byte) ([]byte, error) {
		got = old
		return []byte("again"), nil
	}); err != nil {
		t.Fatalf("Update after expiry: %v", err)
	}
	if got != nil {
		t.Errorf("Update after expiry: fn got %q, want nil", got)
	}
	mustGet(t, s, "short", []byte("again"))
}

func testDelete(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	if err := s.Set(ctx, "k", []byte("v"), long); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustBeAbsent(t, s, "k")
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := s.Delete(ctx, "never"); err != nil {
		t.Fatalf("Delete of a never-set key: %v", err)
	}
}

func testUpdateAbsent(t *testing.T, s sessions.Store) {
	var calls int
	got, err := s.Update(t.Context(), "new", long, func(old []byte) ([]byte, error) {
		calls++
		if old != nil {
			t.Errorf("fn got %q for an absent key, want nil", old)
		}
		return Session(1), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
	if !bytes.Equal(got, Session(1)) {
		t.Errorf("Update returned %q, want %q", got, Session(1))
	}
	mustGet(t, s, "new", Session(1))
}

func testUpdatePresent(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	if err := s.Set(ctx, "k", []byte("1"), long); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := s.Update(ctx, "k", long, increment)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if string(got) != "2" {
		t.Errorf("Update returned %q, want 2", got)
	}
	mustGet(t, s, "k", []byte("2"))

	// An empty value is present, not absent.
	if err := s.Set(ctx, "empty", []byte{}, long); err != nil {
		t.Fatalf("Set empty: %v", err)
	}
	if _, err := s.Update(ctx, "empty", long, func(old []byte) ([]byte, error) {
		if old == nil || len(old) != 0 {
			t.Errorf("fn got %#v for an empty value, want a non-nil empty slice", old)
		}
		return old, nil
	}); err != nil {
		t.Fatalf("Update empty: %v", err)
	}
	mustGet(t, s, "empty", []byte{})
}

func testUpdateError(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		start []byte // nil: absent
	}{
		{"absent", nil},
		{"present", Session(1)},
	}
	for _, tt := range tests {
		key := "err:" + tt.name
		if tt.start != nil {
			if err := s.Set(ctx, key, tt.start, long); err != nil {
				t.Fatalf("%s: Set: %v", tt.name, err)
			}
		}
		got, err := s.Update(ctx, key, long, func(old []byte) ([]byte, error) {
			return []byte("written anyway?"), fmt.Errorf("calling the registry: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("%s: Update error = %v, want one wrapping errBoom", tt.name, err)
		}
		if got != nil {
			t.Errorf("%s: Update returned %q with its error, want nil", tt.name, got)
		}
		if tt.start == nil {
			mustBeAbsent(t, s, key)
		} else {
			mustGet(t, s, key, tt.start)
		}
	}
}

func testUpdateNilDeletes(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	for _, present := range []bool{true, false} {
		key := "nil:" + strconv.FormatBool(present)
		if present {
			if err := s.Set(ctx, key, []byte("v"), long); err != nil {
				t.Fatalf("Set: %v", err)
			}
		}
		got, err := s.Update(ctx, key, long, constant(nil))
		if err != nil {
			t.Fatalf("present=%v: Update returning nil: %v", present, err)
		}
		if got != nil {
			t.Errorf("present=%v: Update returned %q, want nil", present, got)
		}
		mustBeAbsent(t, s, key)
	}
}

func testUpdateCanceled(t *testing.T, s sessions.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Update(ctx, "k", long, func(old []byte) ([]byte, error) {
		t.Error("fn called with a canceled context")
		return []byte("v"), nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context: %v, want context.Canceled", err)
	}
	mustBeAbsent(t, s, "k")
}

// testUpdateRace checks that no update is lost when many writers increment
// one counter at once.
func testUpdateRace(t *testing.T, s sessions.Store) {
	const writers, increments = 20, 25
	ctx := t.Context()
	var calls, most atomic.Int64 // calls of fn in all, and the most for one Update
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range increments {
				var n int64
				_, err := s.Update(ctx, "counter", long, func(old []byte) ([]byte, error) {
					n++
					return increment(old)
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				calls.Add(n)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
			}
		})
	}
	wg.Wait()
	mustGet(t, s, "counter", []byte(strconv.Itoa(writers*increments)))
	t.Logf("%d updates, %d calls of fn, at most %d for one update", writers*increments, calls.Load(), most.Load())
}

// testUpdateRetries checks that when another writer commits while fn is
// running (slowly), fn's result is dropped and fn is called again with what
// the other writer wrote.
func testUpdateRetries(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	tests := []struct {
		name  string
		other func(ctx context.Context, key string) error // the concurrent writer
		want  []byte                                      // what fn gets on its second call
	}{
		{"set", func(ctx context.Context, key string) error { return s.Set(ctx, key, []byte("10"), long) }, []byte("10")},
		{"update", func(ctx context.Context, key string) error {
			_, err := s.Update(ctx, key, long, constant([]byte("20")))
			return err
		}, []byte("20")},
		{"delete", func(ctx context.Context, key string) error { return s.Delete(ctx, key) }, nil},
	}
	for _, tt := range tests {
		key := "retry:" + tt.name
		if err := s.Set(ctx, key, []byte("1"), long); err != nil {
			t.Fatalf("%s: Set: %v", tt.name, err)
		}
		var olds [][]byte
		got, err := s.Update(ctx, key, long, func(old []byte) ([]byte, error) {
			olds = append(olds, bytes.Clone(old))
			if len(olds) == 1 {
				// Another writer commits from another goroutine while this
				// fn is still at work.
				done := make(chan error)
				go func() { done <- tt.other(ctx, key) }()
				if err := <-done; err != nil {
					t.Errorf("%s: concurrent writer: %v", tt.name, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			return increment(old)
		})
		if err != nil {
			t.Fatalf("%s: Update: %v", tt.name, err)
		}
		if len(olds) != 2 || string(olds[0]) != "1" || !bytes.Equal(olds[1], tt.want) || (tt.want == nil) != (olds[1] == nil) {
			t.Errorf("%s: fn got %q, want [1 %q]", tt.name, olds, tt.want)
		}
		want, _ := increment(tt.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Update returned %q, want %q", tt.name, got, want)
		}
		mustGet(t, s, key, want)
	}
}

// testUpdateConflict checks that Update gives up with ErrConflict, writing
// nothing, when another writer commits during every call of fn.
func testUpdateConflict(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	calls := 0
	_, err := s.Update(ctx, "busy", long, func(old []byte) ([]byte, error) {
		calls++
		if err := s.Set(ctx, "busy", []byte(strconv.Itoa(-calls)), long); err != nil {
			t.Fatalf("concurrent Set: %v", err)
		}
		return []byte("mine"), nil
	})
	if !errors.Is(err, sessions.ErrConflict) {
		t.Fatalf("Update under endless contention: %v, want ErrConflict", err)
	}
	if calls < 2 {
		t.Errorf("fn called %d times before ErrConflict, want retries", calls)
	}
	mustGet(t, s, "busy", []byte(strconv.Itoa(-calls)))
}

func testCopies(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	buf := []byte("original")
	if err := s.Set(ctx, "k", buf, long); err != nil {
		t.Fatalf("Set: %v", err)
	}
	copy(buf, "XXXXXXXX") // the caller reuses its buffer
	mustGet(t, s, "k", []byte("original"))

	got, err := s.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	copy(got, "YYYYYYYY")
	mustGet(t, s, "k", []byte("original"))

	// fn scribbles on old and fails: nothing changes.
	_, err = s.Update(ctx, "k", long, func(old []byte) ([]byte, error) {
		copy(old, "ZZZZZZZZ")
		return nil, errors.New("no")
	})
	if err == nil {
		t.Fatal("Update: fn's error was lost")
	}
	mustGet(t, s, "k", []byte("original"))

	// fn's result and Update's return value belong to the caller.
	out := []byte("updated!")
	ret, err := s.Update(ctx, "k", long, constant(out))
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	copy(out, "11111111")
	copy(ret, "22222222")
	mustGet(t, s, "k", []byte("updated!"))
}

func testIsolation(t *testing.T, s sessions.Store) {
	ctx := t.Context()
	keys := []string{"a", "ab", "A", "a:b", "b", "+237677123456", "sess:é"}
	for i, k := range keys {
		if err := s.Set(ctx, k, []byte(k+"="+strconv.Itoa(i)), long); err != nil {
			t.Fatalf("Set %q: %v", k, err)
		}
	}
	if _, err := s.Update(ctx, "a", long, constant([]byte("changed"))); err != nil {
		t.Fatalf("Update a: %v", err)
	}
	if err := s.Delete(ctx, "ab"); err != nil {
		t.Fatalf("Delete ab: %v", err)
	}
	mustGet(t, s, "a", []byte("changed"))
	mustBeAbsent(t, s, "ab")
	for i, k := range keys[2:] {
		mustGet(t, s, k, []byte(k+"="+strconv.Itoa(i+2)))
	}
}

// increment is an Update fn adding one to a decimal counter (absent is 0).
func increment(old []byte) ([]byte, error) {
	n := 0
	if old != nil {
		var err error
		if n, err = strconv.Atoi(string(old)); err != nil {
			return nil, fmt.Errorf("counter %q: %w", old, err)
		}
	}
	return strconv.AppendInt(nil, int64(n+1), 10), nil
}

// constant returns an Update fn that always returns val.
func constant(val []byte) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) { return val, nil }
}

func mustGet(t *testing.T, s sessions.Store, key string, want []byte) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %.80q, want %.80q", key, got, want)
	}
}

func mustBeAbsent(t *testing.T, s sessions.Store, key string) {
	t.Helper()
	if got, err := s.Get(t.Context(), key); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Get(%q) = %.80q, %v; want ErrNotFound", key, got, err)
	}
}

// waitGone polls key until it reads as absent and returns when that was seen,
// failing the test if it is still there after within.
func waitGone(t *testing.T, s sessions.Store, key string, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, err := s.Get(t.Context(), key)
		now := time.Now()
		if errors.Is(err, sessions.ErrNotFound) {
			return now
		}
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if now.After(deadline) {
			t.Fatalf("%q still present after %v", key, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

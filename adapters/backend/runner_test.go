package backend

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
)

// script returns an attempt function that answers with errs in turn (nil:
// success), and a pointer to the number of attempts made.
func script(errs ...error) (func(context.Context) (menus.Result, error), *int) {
	n := 0
	return func(ctx context.Context) (menus.Result, error) {
		n++
		if err := errs[min(n, len(errs))-1]; err != nil {
			return menus.Result{}, err
		}
		return menus.Result{Vars: map[string]string{"ref": "R1"}}, nil
	}, &n
}

func runner(retries int) *Runner {
	return NewRunner(Config{
		Type: REST, Name: "civil-status", Endpoint: "https://x", Retries: new(retries),
		Backoff: time.Millisecond, Breaker: BreakerConfig{Failures: 10},
	}, nil)
}

func TestRun(t *testing.T) {
	busy := Transient(nil, "HTTP 503 Service Unavailable")
	unsent := &Failure{Reason: "cannot connect", Retry: true, Unsent: true}
	broken := Broken(nil, "answer is not JSON")
	notFound := Refuse("civil-status", guichet.ENOTFOUND, "APPLICATION_UNKNOWN", nil)
	tests := []struct {
		name       string
		retries    int
		repeatable bool
		errs       []error
		wantCalls  int
		wantCode   string // "" for success
		wantMsg    string
	}{
		{"success", 1, false, []error{nil}, 1, "", ""},
		{"transient then success", 1, true, []error{busy, nil}, 2, "", ""},
		{"transient, not repeatable", 1, false, []error{busy, nil}, 1, guichet.EUNAVAILABLE,
			"civil-status is unavailable: HTTP 503 Service Unavailable"},
		{"unsent, not repeatable", 1, false, []error{unsent, nil}, 2, "", ""},
		{"retries exhausted", 2, true, []error{busy}, 3, guichet.EUNAVAILABLE,
			"civil-status is unavailable: HTTP 503 Service Unavailable (3 attempts)"},
		{"no retries", 0, true, []error{busy, nil}, 1, guichet.EUNAVAILABLE, ""},
		{"broken answer", 1, true, []error{broken, nil}, 1, guichet.EUNAVAILABLE, "civil-status is unavailable: answer is not JSON"},
		{"business error", 1, true, []error{notFound, nil}, 1, guichet.ENOTFOUND, "not found by civil-status (APPLICATION_UNKNOWN)"},
		{"our own mistake", 1, true, []error{errors.New("bug"), nil}, 1, guichet.EINTERNAL, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			do, calls := script(tt.errs...)
			res, err := runner(tt.retries).Run(t.Context(), "cases.open", tt.repeatable, do)
			if *calls != tt.wantCalls {
				t.Errorf("%d attempts, want %d", *calls, tt.wantCalls)
			}
			if got := guichet.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if tt.wantCode == "" && !reflect.DeepEqual(res.Vars, map[string]string{"ref": "R1"}) {
				t.Errorf("result %+v", res)
			}
			if tt.wantMsg != "" && guichet.ErrorMessage(err) != tt.wantMsg {
				t.Errorf("message %q, want %q", guichet.ErrorMessage(err), tt.wantMsg)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "cases.open on civil-status: ") {
				t.Errorf("error %q does not say what was being done", err)
			}
		})
	}
}

// TestRunCountsFailuresOnly holds that business errors and abandoned calls
// do not open the breaker, and that failures do.
func TestRunCountsFailuresOnly(t *testing.T) {
	r := NewRunner(Config{Type: REST, Name: "b", Endpoint: "https://x", Retries: new(0), Breaker: BreakerConfig{Failures: 2}}, nil)
	refused, _ := script(Refuse("b", guichet.ECONFLICT, "DUP", nil))
	for range 5 {
		r.Run(t.Context(), "cases.open", false, refused)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	hung := func(ctx context.Context) (menus.Result, error) {
		<-ctx.Done()
		return menus.Result{}, Transport(ctx.Err())
	}
	for range 5 {
		r.Run(ctx, "cases.open", false, hung)
	}
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	failing, calls := script(Transient(nil, "HTTP 502"))
	for range 5 {
		_, err := r.Run(expired, "cases.open", false, failing)
		if guichet.ErrorMessage(err) != "b is unavailable: no time left to call it" {
			t.Fatalf("with no time left: %v", err)
		}
	}
	if r.Breaker().State() != Closed || *calls != 0 {
		t.Fatalf("breaker %v after refusals, cancelled and expired calls (%d attempts), want closed and none", r.Breaker().State(), *calls)
	}
	r.Run(t.Context(), "cases.open", false, failing)
	r.Run(t.Context(), "cases.open", false, failing)
	_, err := r.Run(t.Context(), "cases.open", false, failing)
	if *calls != 2 {
		t.Errorf("%d attempts reached the backend, want 2: the breaker should have stopped the third", *calls)
	}
	if guichet.ErrorCode(err) != guichet.EUNAVAILABLE || !errors.Is(err, ErrOpen) {
		t.Errorf("with the breaker open: %v, want EUNAVAILABLE and ErrOpen", err)
	}
	if want := "b is unavailable: not called after repeated failures"; guichet.ErrorMessage(err) != want {
		t.Errorf("message %q, want %q", guichet.ErrorMessage(err), want)
	}
}

// TestRunDeadline holds that each attempt has the configured deadline, and
// that no retry is started that the caller's deadline would cut short.
func TestRunDeadline(t *testing.T) {
	r := NewRunner(Config{Type: REST, Name: "b", Endpoint: "https://x", Timeout: 80 * time.Millisecond,
		Retries: new(5), Backoff: 40 * time.Millisecond}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 250*time.Millisecond)
	defer cancel()
	var attempts []time.Duration
	start := time.Now()
	_, err := r.Run(ctx, "cases.track", true, func(ctx context.Context) (menus.Result, error) {
		begun := time.Now()
		<-ctx.Done()
		attempts = append(attempts, time.Since(begun))
		return menus.Result{}, Transport(ctx.Err())
	})
	elapsed := time.Since(start)
	if guichet.ErrorCode(err) != guichet.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want EUNAVAILABLE after a deadline", err)
	}
	if elapsed > 250*time.Millisecond+50*time.Millisecond {
		t.Errorf("took %v, beyond the caller's deadline of 250ms", elapsed)
	}
	if len(attempts) < 2 || len(attempts) > 3 {
		t.Errorf("%d attempts (%v), want 2 or 3 within 250ms of 80ms attempts and 20-80ms waits", len(attempts), attempts)
	}
	for i, d := range attempts[:len(attempts)-1] {
		if d < 70*time.Millisecond || d > 150*time.Millisecond {
			t.Errorf("attempt %d lasted %v, want about the 80ms timeout", i+1, d)
		}
	}
}

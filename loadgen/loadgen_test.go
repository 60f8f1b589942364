package loadgen_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/loadgen"
)

// fake is a tiny gateway in Africa's Talking's dialect: a language screen,
// a home screen, and "1" from home ends. Each hop it answers advances the
// clock by the next of delays, so that latencies are known exactly.
type fake struct {
	mu     sync.Mutex
	now    time.Time
	delays []time.Duration
	hops   int
	phones map[string]int // hops per phone
	lang   map[string]bool
	answer func(text string) (int, string) // nil: the tiny menu
}

func newFake(delays ...time.Duration) *fake {
	return &fake{now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), delays: delays,
		phones: map[string]int{}, lang: map[string]bool{}}
}

func (f *fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ph, text := r.PostForm.Get("phoneNumber"), r.PostForm.Get("text")
	f.mu.Lock()
	if len(f.delays) > 0 {
		f.now = f.now.Add(f.delays[f.hops%len(f.delays)])
	}
	f.hops++
	f.phones[ph]++
	status, body := 0, ""
	if f.answer != nil {
		status, body = f.answer(text)
	} else {
		status = http.StatusOK
		if !f.lang[ph] {
			// A new phone: the language screen, then home once chosen.
			switch text {
			case "":
				body = "CON Choose language"
			case "2":
				f.lang[ph] = true
				body = "CON Home"
			default:
				body = "END bad language"
			}
		} else {
			switch strings.TrimPrefix(text, "2*") {
			case "":
				body = "CON Home"
			case "1":
				body = "END Bye"
			default:
				body = "END lost"
			}
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// tiny is a script for the fake: home, then "1" to the end.
var tiny = []loadgen.Script{{
	Name:    "tiny",
	Prelude: []loadgen.Hop{{Want: []string{"Choose language"}}, {Input: "2", Want: []string{"Home"}}},
	Paths: []loadgen.Path{{Name: "bye", Dials: []loadgen.Dial{{Code: "*1#", Hops: []loadgen.Hop{
		{Want: []string{"Home"}},
		{Input: "1", Want: []string{"Bye"}},
	}}}}},
}}

func start(t *testing.T, f *fake) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

// With one caller and a clock moved only by the server, every hop's latency
// is the fake's delay: 1 ms … 100 ms, each once.
func TestPercentilesOfKnownLatencies(t *testing.T) {
	var delays []time.Duration
	for i := 1; i <= 100; i++ {
		// Out of order, so that sorting matters: 37, 74, 11, …
		delays = append(delays, time.Duration((i*37)%101)*time.Millisecond)
	}
	f := newFake(delays...)
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f) + "/ussd", Callers: 1,
		Scripts: tiny, MaxHops: 100, Clock: f.Now})
	if err != nil {
		t.Fatal(err)
	}
	want := loadgen.Report{Callers: 1, Hops: 100, Duration: 5050 * time.Millisecond, HopsPerSec: rep.HopsPerSec,
		P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond,
		Failures: map[string]int{}, Phones: 1}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report\n got  %#v\n want %#v", rep, want)
	}
	if math.Abs(rep.HopsPerSec-100/5.05) > 1e-9 {
		t.Errorf("%v hops/s, want %v", rep.HopsPerSec, 100/5.05)
	}
	if got, want := rep.String(), "1 callers, 100 hops in 5.05s: 20 hops/s; latency p50 50ms, p90 90ms, p99 99ms, max 100ms; 0 errors"; got != want {
		t.Errorf("String() =\n %s\nwant\n %s", got, want)
	}
	if f.hops != 100 {
		t.Errorf("the fake answered %d hops, want 100", f.hops)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 1, 7 * time.Millisecond},
		{ms(7), 100, 7 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := loadgen.Percentile(tt.samples, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.samples, tt.p, got, tt.want)
		}
	}
}

// Many callers stop at exactly MaxHops; each has its own number, and each
// number picks its language once, on its first dial.
func TestCountsHopsAndPhones(t *testing.T) {
	f := newFake()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f), Callers: 8, Scripts: tiny,
		MaxHops: 1000, FirstPhone: 100})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Hops != 1000 || f.hops != 1000 || rep.Errors != 0 {
		t.Errorf("%d hops reported, %d answered, %d errors (%s); want 1000, 1000, 0", rep.Hops, f.hops, rep.Errors, rep.Examples)
	}
	if rep.HopsPerSec <= 0 || rep.P50 <= 0 || rep.P50 > rep.P99 || rep.P99 > rep.Max {
		t.Errorf("implausible figures: %s", rep)
	}
	if len(f.phones) != 8 || rep.Phones != 8 {
		t.Errorf("%d phones called, %d reported, want 8: %v", len(f.phones), rep.Phones, f.phones)
	}
	for i := 100; i < 108; i++ {
		if f.phones[loadgen.Phone(i)] == 0 {
			t.Errorf("phone %s did not call", loadgen.Phone(i))
		}
	}
}

// Rounds bounds the paths each caller walks: 5 callers × 2 rounds, the
// first with the prelude (3 hops), the second without (2 hops).
func TestRounds(t *testing.T) {
	f := newFake()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f), Callers: 5, Scripts: tiny, Rounds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Hops != 25 || f.hops != 25 || rep.Errors != 0 {
		t.Errorf("%d hops reported, %d answered, %d errors (%s); want 25, 25, 0", rep.Hops, f.hops, rep.Errors, rep.Examples)
	}
}

func TestStopsAfterDuration(t *testing.T) {
	f := newFake()
	began := time.Now()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f), Callers: 4, Scripts: tiny,
		Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("a run of 250 ms took %s", took)
	}
	if rep.Hops == 0 || rep.Hops >= f.hops {
		t.Errorf("%d hops measured of %d answered: want some, fewer than all (the warm-up is not measured)", rep.Hops, f.hops)
	}
	// The window ends with the last answer: about the duration, give or
	// take a hop.
	if rep.Duration < 150*time.Millisecond || rep.Duration > 3*time.Second {
		t.Errorf("measured %s, want about 200ms", rep.Duration)
	}
}

// A gateway answering garbage counts errors, and no hops: it cannot look fast.
func TestCountsErrors(t *testing.T) {
	tests := []struct {
		name   string
		answer func(text string) (int, string)
		kind   string
	}{
		{"garbage", func(string) (int, string) { return 200, "<html>hello</html>" }, loadgen.FailPrefix},
		{"server error", func(string) (int, string) { return 500, "END oops" }, loadgen.FailStatus},
		{"wrong screen", func(string) (int, string) { return 200, "CON Something else" }, loadgen.FailScreen},
		{"end too early", func(string) (int, string) { return 200, "END Choose language" }, loadgen.FailPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.answer = tt.answer
			rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f), Callers: 3, Scripts: tiny,
				Rounds: 4, Phones: 100})
			if err != nil {
				t.Fatal(err)
			}
			// Every hop is a dial that fails; each failure moves its caller
			// to a new number.
			if rep.Hops != 0 || rep.Errors != 12 || rep.Failures[tt.kind] != 12 || len(rep.Examples) == 0 {
				t.Errorf("got %d hops, %d errors %v (%q); want 0, 12 of kind %s", rep.Hops, rep.Errors, rep.Failures, rep.Examples, tt.kind)
			}
			if len(f.phones) != 12 || rep.Phones != 12 {
				t.Errorf("%d numbers dialled, %d reported, want 12 (a new one after each failure)", len(f.phones), rep.Phones)
			}
			if !strings.Contains(rep.String(), tt.kind+" 12") {
				t.Errorf("String() = %q, want the errors by kind", rep)
			}
		})
	}
}

func TestDeadGatewayCountsTransportErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: url, Callers: 2, Scripts: tiny, Rounds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 2 || rep.Failures[loadgen.FailTransport] != 2 || rep.Hops != 0 {
		t.Errorf("got %s, want 2 transport errors", rep)
	}
}

func TestRefusesOutsideLoopbackAndUnboundedRuns(t *testing.T) {
	tests := []loadgen.Config{
		{URL: "http://192.0.2.1:8080/ussd", Callers: 1, Scripts: tiny, Rounds: 1},
		{URL: "http://example.com/ussd", Callers: 1, Scripts: tiny, Rounds: 1},
		{URL: "ftp://127.0.0.1/ussd", Callers: 1, Scripts: tiny, Rounds: 1},
		{URL: "http:///ussd", Callers: 1, Scripts: tiny, Rounds: 1, Remote: true},
		{URL: "http://localhost:8080/ussd", Callers: 1, Scripts: tiny, Rounds: 1}, // a name, not a loopback address
		{URL: "http://127.0.0.1:8080/ussd", Callers: 1, Scripts: tiny},
		{URL: "http://127.0.0.1:8080/ussd", Callers: 0, Scripts: tiny, Rounds: 1},
		{URL: "http://127.0.0.1:8080/ussd", Callers: 1, Scripts: tiny, Rounds: 1, FirstPhone: 99999, Phones: 2},
	}
	for _, cfg := range tests {
		if _, err := loadgen.Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) did not refuse", cfg)
		}
	}
}

// Cancelling the context stops the run; hops cut short are not errors.
func TestCancel(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{URL: start(t, f), Callers: 4, Scripts: tiny, Duration: time.Hour})
	if err == nil || rep.Errors != 0 {
		t.Errorf("got %v, %s; want the context's error and no errors", err, rep)
	}
}

func TestPhone(t *testing.T) {
	if got := loadgen.Phone(42); got != "+237677000042" {
		t.Errorf("Phone(42) = %s", got)
	}
}

// Progress hears how the run goes while it runs: answered hops that only
// grow, up to what the run answered.
func TestProgress(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var seen []int
	rep, err := loadgen.Run(context.Background(), loadgen.Config{URL: start(t, f), Callers: 4, Scripts: tiny,
		Duration: 300 * time.Millisecond, Think: 5 * time.Millisecond, ProgressEvery: 50 * time.Millisecond,
		Progress: func(hops, errors int, elapsed time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			if errors != 0 || elapsed <= 0 {
				t.Errorf("progress: %d errors after %v", errors, elapsed)
			}
			seen = append(seen, hops)
		}})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 3 || !slices.IsSorted(seen) || seen[len(seen)-1] == 0 || seen[len(seen)-1] > f.hops {
		t.Errorf("progress reports %v over a run that answered %d (measured %d): want several, growing, up to it", seen, f.hops, rep.Hops)
	}
}

// A gateway elsewhere (here "localhost", a name) is loaded only when told
// so, and every hop carries the operator's credential.
func TestRemoteWithCredential(t *testing.T) {
	f := newFake()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "op-key" {
			http.Error(w, "missing or invalid credential", http.StatusUnauthorized)
			return
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	cfg := loadgen.Config{URL: url, Callers: 2, Scripts: tiny, Rounds: 2, Remote: true,
		Header: http.Header{"X-Api-Key": {"op-key"}}}
	rep, err := loadgen.Run(context.Background(), cfg)
	if err != nil || rep.Errors != 0 || rep.Hops != 2*(3+2) {
		t.Fatalf("with the credential: %s, %v; want 10 hops (the prelude, then two walks) and no error", rep, err)
	}
	cfg.Header = nil
	rep, err = loadgen.Run(context.Background(), cfg)
	if err != nil || rep.Failures[loadgen.FailStatus] != 2*2 || rep.Hops != 0 {
		t.Errorf("without the credential: %s, %v; want the first hop of each walk refused", rep, err)
	}
}

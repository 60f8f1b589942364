// Package loadgen is a closed-loop load generator for the gateway: simulated
// callers, one goroutine each, walk scripted paths through a catalogue over
// HTTP in an operator's dialect (Africa's Talking's unless told otherwise),
// each with its own phone number and a fresh session id per dial. Every reply is checked against the screen the
// script expects, so that a broken gateway cannot look fast, and every hop's
// latency is kept: the percentiles are exact, computed from all samples.
//
// A caller sends its next hop as soon as the last reply arrived (after an
// optional think time): with N callers there are at most N hops in flight,
// and the latency under saturation is, by Little's law, N ÷ throughput.
package loadgen

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Hop is one request of a dial and what its reply must show.
type Hop struct {
	// Input is what the caller types; ignored on a dial's first hop, whose
	// text is empty. "$name" sends the value saved under name.
	Input string
	// Want lists substrings of which the reply must contain one; empty, any
	// screen will do.
	Want []string
	// Save, if set, keeps the reply's first submatch under the name As, for
	// a later Input or Dial.If; a reply it does not match saves nothing.
	Save *regexp.Regexp
	As   string
}

// Dial is one USSD session: a dial of Code, then the caller's inputs.
type Dial struct {
	Code string // the service code dialled, *123# or a shortcut (*123*4*10000048#)
	// If, when set, plays this dial only if a value was saved under it.
	If string
	// Hangup leaves the session open: the last screen still waits for
	// input (CON). Otherwise the last hop must end the session (END) and
	// the others must not.
	Hangup bool
	Hops   []Hop // Hops[0] is the dial itself
}

// Path is a walk through the catalogue: one or more dials.
type Path struct {
	Name  string
	Dials []Dial
}

// Script is what one kind of caller does: the first dial of each phone
// starts with Prelude instead of its own first hop (picking the language),
// then the caller plays Paths in turn, forever or for Config.Rounds.
type Script struct {
	Name    string
	Prelude []Hop
	Paths   []Path
}

// Config is one run of the generator.
type Config struct {
	URL     string // the operator's endpoint; its host must be a loopback address unless Remote
	Callers int    // simulated callers, each in its own goroutine
	Scripts []Script

	// Dialect writes the hops and reads the screens; nil: Africa's
	// Talking.
	Dialect Dialect
	// Header is sent with every hop: the operator's credential
	// (X-Api-Key), for a gateway that asks for one.
	Header http.Header
	// Remote lets URL be off loopback: a gateway elsewhere, whose callers
	// then open real cases for the generator's numbers and send their SMS.
	Remote bool

	// Bounds: the run stops at the first one reached; at least one is set.
	Duration time.Duration // measured time, after Warmup
	MaxHops  int           // measured hops sent
	Rounds   int           // paths walked by each caller

	// Warmup is played but not measured (connections, caches).
	Warmup time.Duration
	// Think is the mean pause between a reply and the next hop (uniform
	// between half and one and a half of it); zero is a closed loop at
	// saturation.
	Think time.Duration
	// Timeout is one hop's limit (10 s).
	Timeout time.Duration
	// Lax checks only the status and the CON/END prefix of the replies: for
	// a baseline that answers a constant screen.
	Lax bool

	// FirstPhone is the index of the first caller's number (see Phone);
	// caller i starts with FirstPhone+i. A caller whose dialogue went wrong
	// takes the next unused number, while fewer than Phones (10×Callers)
	// were used, so that a half-finished session cannot trip its next dial.
	FirstPhone int
	Phones     int

	// Client sends the hops; nil: a client on a transport sized for
	// Callers (an idle connection kept per caller).
	Client *http.Client
	// Clock measures the hops; nil: time.Now (tests inject their own).
	Clock func() time.Time

	// Progress, if set, is told every ProgressEvery (5 s) of the wall
	// clock how far the run is: the hops answered right and the errors so
	// far, warm-up included, and the time since it began.
	Progress      func(hops, errors int, elapsed time.Duration)
	ProgressEvery time.Duration
}

// Phone returns the number of index i: +2376770 then i on five digits, a
// valid MTN Cameroon number for 0 ≤ i < 100000.
func Phone(i int) string { return fmt.Sprintf("+2376770%05d", i) }

// Error kinds counted in Report.Failures.
const (
	FailTransport = "transport" // no answer: connection refused, timeout…
	FailStatus    = "status"    // a status other than 200
	FailPrefix    = "prefix"    // a reply the dialect cannot read, or one ending the session when it should not (or not ending it)
	FailScreen    = "screen"    // not one of the expected screens
)

// Report is what a run measured.
type Report struct {
	Callers    int
	Hops       int           // hops answered correctly in the measured window
	Duration   time.Duration // the measured window, to the last answer
	HopsPerSec float64
	P50, P90   time.Duration
	P99, Max   time.Duration
	Errors     int            // wrong or missing answers, warm-up included
	Failures   map[string]int // Errors by kind (FailStatus…)
	Examples   []string       // the first few, for a clue
	Phones     int            // numbers used, from FirstPhone
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d callers, %d hops in %s: %.0f hops/s; latency p50 %s, p90 %s, p99 %s, max %s; %d errors",
		r.Callers, r.Hops, r.Duration.Round(time.Millisecond), r.HopsPerSec,
		round(r.P50), round(r.P90), round(r.P99), round(r.Max), r.Errors)
	if r.Errors > 0 {
		kinds := make([]string, 0, len(r.Failures))
		for k, n := range r.Failures {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		slices.Sort(kinds)
		fmt.Fprintf(&b, " (%s; first: %s)", strings.Join(kinds, ", "), r.Examples[0])
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted samples by
// the nearest-rank method: the smallest sample with at least p% of the
// samples at or below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Run plays cfg until one of its bounds is reached or ctx ends, and reports.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.check(); err != nil {
		return Report{}, err
	}
	if cfg.Phones <= 0 {
		cfg.Phones = 10 * cfg.Callers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Dialect == nil {
		cfg.Dialect = AfricasTalking{}
	}
	client := cfg.Client
	if client == nil {
		tr := &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        cfg.Callers + 16,
			MaxIdleConnsPerHost: cfg.Callers + 16,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Transport: tr}
	}
	var tag [4]byte
	rand.Read(tag[:])
	start := cfg.Clock()
	r := &run{cfg: cfg, client: client, tag: hex.EncodeToString(tag[:]), failures: map[string]int{},
		warm: start.Add(cfg.Warmup)}
	if cfg.Duration > 0 {
		r.end = r.warm.Add(cfg.Duration)
	}
	r.phones.Store(int64(cfg.Callers))

	samples := make([][]time.Duration, cfg.Callers)
	lasts := make([]time.Time, cfg.Callers)
	if cfg.Progress != nil {
		stop := r.report(cfg.Progress, cmp.Or(cfg.ProgressEvery, 5*time.Second))
		defer stop()
	}
	var wg sync.WaitGroup
	for i := range cfg.Callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &caller{r: r, id: i, phone: cfg.FirstPhone + i, fresh: true,
				rnd: mrand.New(mrand.NewPCG(uint64(i), 0x9e3779b97f4a7c15))}
			c.play(ctx)
			samples[i], lasts[i] = c.samples, c.last
		}()
	}
	wg.Wait()
	// The measured window ends with the last measured answer, not when the
	// last caller noticed the end (it may have been thinking).
	stop := r.warm
	for _, t := range lasts {
		if t.After(stop) {
			stop = t
		}
	}

	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	slices.Sort(all)
	rep := Report{Callers: cfg.Callers, Hops: len(all), Errors: r.errors, Failures: r.failures,
		Examples: r.examples, Phones: int(min(r.phones.Load(), int64(cfg.Phones)))}
	rep.Duration = stop.Sub(r.warm)
	if rep.Duration > 0 {
		rep.HopsPerSec = float64(rep.Hops) / rep.Duration.Seconds()
	}
	if len(all) > 0 {
		rep.P50, rep.P90, rep.P99 = Percentile(all, 50), Percentile(all, 90), Percentile(all, 99)
		rep.Max = all[len(all)-1]
	}
	return rep, ctx.Err()
}

func (cfg *Config) check() error {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return fmt.Errorf("loadgen: bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("loadgen: %q is not an http or https URL", cfg.URL)
	}
	if ip := net.ParseIP(u.Hostname()); !cfg.Remote && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("loadgen: %q is not on a loopback address (127.0.0.1): loading a gateway elsewhere opens real cases and sends SMS to the generator's numbers; say so (Remote) to go on", cfg.URL)
	}
	switch {
	case cfg.Callers <= 0:
		return errors.New("loadgen: no callers")
	case len(cfg.Scripts) == 0:
		return errors.New("loadgen: no scripts")
	case cfg.Duration <= 0 && cfg.MaxHops <= 0 && cfg.Rounds <= 0:
		return errors.New("loadgen: unbounded run: set a duration, a number of hops or of rounds")
	case cfg.Phones != 0 && cfg.Phones < cfg.Callers:
		return errors.New("loadgen: fewer phone numbers than callers")
	case cfg.FirstPhone < 0 || cfg.FirstPhone+max(cfg.Phones, cfg.Callers) > 100000:
		return errors.New("loadgen: the phone numbers would go beyond +237677099999")
	}
	for _, s := range cfg.Scripts {
		if len(s.Paths) == 0 {
			return fmt.Errorf("loadgen: script %q has no path", s.Name)
		}
		for _, p := range s.Paths {
			if len(p.Dials) == 0 || len(p.Dials[0].Hops) == 0 || p.Dials[0].If != "" {
				return fmt.Errorf("loadgen: path %q must start with an unconditional dial", p.Name)
			}
			for _, d := range p.Dials {
				if len(d.Hops) == 0 {
					return fmt.Errorf("loadgen: path %q has an empty dial", p.Name)
				}
			}
		}
	}
	return nil
}

// report calls progress every every until the returned stop is called.
func (r *run) report(progress func(hops, errors int, elapsed time.Duration), every time.Duration) (stop func()) {
	begun := time.Now()
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				r.mu.Lock()
				errs := r.errors
				r.mu.Unlock()
				progress(int(r.answered.Load()), errs, time.Since(begun))
			}
		}
	}()
	return func() { close(quit); <-done }
}

// run is the state the callers share.
type run struct {
	cfg      Config
	client   *http.Client
	tag      string    // in session ids, unique to the run
	warm     time.Time // measuring starts
	end      time.Time // measuring stops; zero: no time bound
	claimed  atomic.Int64
	phones   atomic.Int64 // numbers handed out, from FirstPhone
	answered atomic.Int64 // hops answered right, warm-up included (Progress)

	mu       sync.Mutex
	errors   int
	failures map[string]int
	examples []string
}

func (r *run) fail(kind, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors++
	r.failures[kind]++
	if len(r.examples) < maxExamples {
		r.examples = append(r.examples, msg)
	}
}

// caller is one simulated phone user.
type caller struct {
	r       *run
	id      int
	phone   int  // index of the number in use
	fresh   bool // the number has not dialled yet: its first dial plays the prelude
	dials   int
	rnd     *mrand.Rand
	samples []time.Duration // latencies of the measured hops answered right
	last    time.Time       // when the last of them was answered
}

var errStop = errors.New("stop")

// maxExamples is how many errors a Report quotes.
const maxExamples = 5

func (c *caller) play(ctx context.Context) {
	cfg := c.r.cfg
	sc := cfg.Scripts[c.id%len(cfg.Scripts)]
	offset := c.id / len(cfg.Scripts)
	broken := false
	for round := 0; cfg.Rounds <= 0 || round < cfg.Rounds; round++ {
		if broken {
			// A broken dialogue may have left a session to resume: go on
			// with a number that never dialled.
			next := int(c.r.phones.Add(1)) - 1
			if next >= cfg.Phones {
				return
			}
			c.phone, c.fresh = cfg.FirstPhone+next, true
		}
		err := c.walk(ctx, sc, sc.Paths[(offset+round)%len(sc.Paths)])
		if errors.Is(err, errStop) {
			return
		}
		broken = err != nil
	}
}

// walk plays one path; it returns errStop when the run is over, and the
// error of a hop that went wrong (already counted).
func (c *caller) walk(ctx context.Context, sc Script, p Path) error {
	saved := map[string]string{}
	for _, d := range p.Dials {
		if d.If != "" && saved[d.If] == "" {
			continue
		}
		hops := d.Hops
		prelude := 0
		if c.fresh {
			prelude = len(sc.Prelude)
			hops = append(slices.Clip(sc.Prelude), d.Hops[1:]...)
			c.fresh = false
		}
		c.dials++
		session := fmt.Sprintf("ATUid_lg%s_%d_%d", c.r.tag, c.id, c.dials)
		var inputs []string
		for i, h := range hops {
			if i > 0 {
				in := h.Input
				if name, ok := strings.CutPrefix(in, "$"); ok {
					in = saved[name]
				}
				inputs = append(inputs, in)
			}
			last := i == len(hops)-1
			sent := Sent{Session: session, Phone: Phone(c.phone), Code: d.Code, Seq: i, Text: strings.Join(inputs, "*")}
			if i > 0 {
				sent.Input = inputs[i-1]
			}
			screen, err := c.hop(ctx, sent, h, last && !d.Hangup, i < prelude)
			if err != nil {
				return err
			}
			if h.Save != nil {
				if m := h.Save.FindStringSubmatch(screen); len(m) > 1 {
					saved[h.As] = m[1]
				}
			}
		}
	}
	return nil
}

// hop sends one request and checks its reply; it returns the screen.
func (c *caller) hop(ctx context.Context, sent Sent, h Hop, end, prelude bool) (string, error) {
	r := c.r
	cfg := r.cfg
	if err := c.think(ctx); err != nil {
		return "", err
	}
	start := cfg.Clock()
	if ctx.Err() != nil || (!r.end.IsZero() && !start.Before(r.end)) {
		return "", errStop
	}
	measured := !start.Before(r.warm)
	if measured && cfg.MaxHops > 0 && r.claimed.Add(1) > int64(cfg.MaxHops) {
		return "", errStop
	}
	payload, media := cfg.Dialect.Write(sent)
	hctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(hctx, http.MethodPost, cfg.URL, bytes.NewReader(payload))
	if err != nil {
		return "", err
	}
	for k, v := range cfg.Header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", media)
	resp, err := r.client.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	done := cfg.Clock()
	lat := done.Sub(start)
	if ctx.Err() != nil {
		return "", errStop // cut short by the caller of Run: not the gateway's fault
	}
	where := func() string {
		return fmt.Sprintf("%s %s %s hop %d %q", Phone(c.phone), sent.Session, sent.Code, sent.Seq, sent.Input)
	}
	if err != nil {
		r.fail(FailTransport, fmt.Sprintf("%s: %v", where(), err))
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		r.fail(FailStatus, fmt.Sprintf("%s: HTTP %d %.80q", where(), resp.StatusCode, b))
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	wantEnd := end && !prelude
	screen, ended, err := cfg.Dialect.Read(b)
	if err != nil || !cfg.Lax && ended != wantEnd {
		want := "a screen waiting for input"
		if wantEnd {
			want = "a last screen"
		}
		if err != nil {
			want += ": " + err.Error()
		}
		r.fail(FailPrefix, fmt.Sprintf("%s: %.80q (want %s)", where(), b, want))
		return "", errors.New("wrong kind of reply")
	}
	if !cfg.Lax && len(h.Want) > 0 && !slices.ContainsFunc(h.Want, func(w string) bool { return strings.Contains(screen, w) }) {
		r.fail(FailScreen, fmt.Sprintf("%s: %.80q (want %q)", where(), screen, h.Want))
		return "", errors.New("unexpected screen")
	}
	r.answered.Add(1)
	if measured {
		c.samples = append(c.samples, lat)
		c.last = done
	}
	return screen, nil
}

func (c *caller) think(ctx context.Context) error {
	t := c.r.cfg.Think
	if t <= 0 {
		return nil
	}
	d := t/2 + time.Duration(c.rnd.Int64N(int64(t)+1))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return errStop
	case <-timer.C:
		return nil
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/redis/go-redis/v9"

	"github.com/guichet/guichet/loadgen"
	"github.com/guichet/guichet/ussd"
)

// loadFirstPhone is the first number the load generator dials by default
// (see loadgen.Phone), +237677010000: the loaded callers take 10 numbers each
// from there (one more after each broken dialogue), the sessions whose
// memory is measured the next ones. The keys of these numbers, and only
// these, are deleted from Redis before and after; two runs at once must use
// distinct ranges (--first-phone).
const loadFirstPhone = 10000

// bareScreen is the constant answer of the baseline: the size of the home
// screen, which is about the size of the catalogue's screens.
const bareScreen = "CON Guichet: public services\n1 COVID-19\n2 Birth certificate\n3 Book an office visit\n" +
	"4 Track a case\n5 Official mail\n6 Businesses\n7 Francais"

// bareHandler is the baseline: a chi router whose one route answers a
// constant screen, without reading the request.
func bareHandler() http.Handler {
	r := chi.NewRouter()
	r.Post(demoOperator.Path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, bareScreen)
	})
	return r
}

const loadgenUsage = `usage: guichet loadgen [--callers N] [--duration D] [--warmup D] [--think D] [--baseline] [--redis URL] [--sessions N] [--cpuprofile FILE] [--first-phone N]
       guichet loadgen --url URL [--dialect NAME] [--credential-env VAR] [--remote] [--callers N] [--duration D] [--warmup D] [--think D] [--first-phone N]

Load the gateway with simulated callers walking the built-in catalogue
(make bench): a gateway in this process, or with --url a running one, at
one operator's endpoint (http://127.0.0.1:8080/ussd/mtn), in that
operator's dialect. A running gateway should have the built-in catalogue
and no hourly limits (limits: {cases_per_hour: -1, bookings_per_hour: -1,
callbacks_per_hour: -1}): the callers walk it again and again from a few
numbers, +2376770 and five digits from --first-phone, which open real cases
and whose SMS leave if the gateway has an SMSC. In the dialects without a
hop id (all but hubtel and generic), the gateway takes the same input twice
within engine.retry_window (3 s) for a retried request: shorten it on the
gateway under load, or give the callers --think time.`

// loadgenCmd loads a gateway with simulated callers walking the built-in
// catalogue: one it starts in this process (Africa's Talking's dialect),
// or a running one at --url, in its operator's dialect. With --baseline it
// loads a bare chi handler the same way first, and compares. With Redis it
// then measures the memory of live sessions of the gateway it started.
func loadgenCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := newFlags("loadgen", loadgenUsage, stdout)
	callers := fs.Int("callers", 1000, "simulated callers, each walking the catalogue in a loop")
	duration := fs.Duration("duration", 20*time.Second, "measured `time` of each run")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured `time` before each run")
	think := fs.Duration("think", 0, "mean pause between a screen and the next input (0: closed loop at saturation)")
	redisURL := fs.String("redis", "", "Redis `URL` for sessions (default: $REDIS_URL; set to empty for sessions in memory)")
	baseline := fs.Bool("baseline", false, "also load a bare chi handler that answers a constant screen, and compare")
	live := fs.Int("sessions", 1000, "live `sessions` whose Redis memory is measured (0: skip)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the gateway's run (loader included) to `file`")
	firstPhone := fs.Int("first-phone", loadFirstPhone, "index of the first number dialled, +2376770 then `N` on five digits")
	target := fs.String("url", "", "load the running gateway at this operator's endpoint `URL` instead of one in this process")
	dialect := fs.String("dialect", "africastalking", "the operator's dialect with --url: "+strings.Join(loadgen.DialectNames(), ", "))
	credentialEnv := fs.String("credential-env", "", "the environment `variable` holding the operator's credential, sent as X-Api-Key with --url")
	remote := fs.Bool("remote", false, "let --url be off loopback (a gateway elsewhere: its cases are real)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s", loadgenUsage)
	}
	wire, header, err := loadgenWire(fs.FlagSet, *target, *dialect, *credentialEnv, getenv)
	if err != nil {
		return err
	}
	redisSet := false
	fs.Visit(func(f *flag.Flag) { redisSet = redisSet || f.Name == "redis" })
	switch {
	case *target != "":
		*redisURL = "" // the running gateway has its own
	case !redisSet:
		*redisURL = getenv("REDIS_URL")
	}
	phones := 10 * *callers
	switch {
	case *callers <= 0 || *live < 0 || *firstPhone < 0:
		return errors.New("--callers must be at least 1, --sessions and --first-phone at least 0")
	case *firstPhone+phones+*live > 100000:
		return fmt.Errorf("%d callers (10 numbers each) and %d sessions from number %d go beyond +237677099999",
			*callers, *live, *firstPhone)
	case *duration <= 0:
		return errors.New("--duration must be positive")
	}
	memoryFirstPhone := *firstPhone + phones

	gw, err := startLoaded(ctx, *target, *redisURL)
	if err != nil {
		return err
	}
	defer gw.stop()
	run := loadgen.Config{Callers: *callers, Scripts: loadgen.Catalogue(), Duration: *duration, Warmup: *warmup,
		Think: *think, FirstPhone: *firstPhone, Phones: phones, Dialect: wire, Header: header, Remote: *remote}

	fmt.Fprintf(stdout, "# guichet loadgen %s\n\n", strings.Join(args, " "))
	where := "in the same process as the servers and shares these cores with them (and with Redis): the figures are a floor,\n" +
		"not the gateway alone."
	if *target != "" {
		where = "in this process; the gateway is the one at " + *target + "."
	}
	fmt.Fprintf(stdout, "Machine: %s, %d CPUs, GOMAXPROCS %d, %s, %s/%s, load average %s before the runs. The loader runs\n%s\n",
		cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadAverage(), where)
	fmt.Fprintf(stdout, "Load: %d callers walking the built-in catalogue (birth certificate, visit booked and cancelled,\n"+
		"tracking 10000048, COVID-19 self-check; French and English) in %s's dialect over HTTP,\n"+
		"think time %s, %s of warm-up then %s measured per run. Gateway sessions: %s. Numbers from %s.\n\n",
		*callers, wire.Name(), *think, *warmup, *duration, gw.store, loadgen.Phone(*firstPhone))

	var base loadgen.Report
	if *baseline {
		bURL, stopBase, err := listen(bareHandler())
		if err != nil {
			return err
		}
		bcfg := run
		bcfg.URL, bcfg.Lax = bURL+demoOperator.Path, true
		base, err = loadgen.Run(ctx, bcfg)
		stopBase()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "baseline (bare chi handler): %s\n", base)
		examples(stdout, base)
		runtime.GC()
	}

	if gw.rdb != nil {
		if err := deleteKeys(ctx, gw.rdb, *firstPhone, phones); err != nil {
			return err
		}
	}
	run.URL = gw.url
	stopProfile, err := startProfile(*cpuprofile)
	if err != nil {
		return err
	}
	// A run takes a while: say how it goes every few seconds.
	run.Progress = func(hops, errors int, elapsed time.Duration) {
		fmt.Fprintf(stdout, "  … %s: %d hops answered, %d errors\n", elapsed.Round(time.Second), hops, errors)
	}
	got, err := loadgen.Run(ctx, run)
	stopProfile()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gateway (%s): %s\n", gw.store, got)
	examples(stdout, got)
	fmt.Fprintf(stdout, "load average %s after the runs\n", loadAverage())
	if n, first := gw.tally.result(); n > 0 {
		fmt.Fprintf(stdout, "the gateway logged %d warnings or errors; the first: %s\n", n, first)
	}
	if gw.rdb != nil {
		if err := deleteKeys(ctx, gw.rdb, *firstPhone, got.Phones); err != nil {
			return err
		}
	}

	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "| run | hops | hops/s | p50 | p90 | p99 | max | errors |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---:|---:|---:|")
	if *baseline {
		fmt.Fprintln(stdout, row("bare chi handler, constant screen", base))
	}
	fmt.Fprintln(stdout, row("gateway, sessions in "+strings.Fields(gw.store)[0], got))
	if *baseline && base.HopsPerSec > 0 && base.P99 > 0 {
		fmt.Fprintf(stdout, "| gateway ÷ bare | | %.2f | %.1f× | %.1f× | %.1f× | | |\n",
			got.HopsPerSec/base.HopsPerSec, ratio(got.P50, base.P50), ratio(got.P90, base.P90), ratio(got.P99, base.P99))
	}
	fmt.Fprintln(stdout)

	var perSession float64
	if gw.rdb != nil && *live > 0 {
		runtime.GC()
		m, err := measureSessions(ctx, gw.rdb, gw.url, memoryFirstPhone, *live)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, m)
		perSession = m.perSession()
	} else if *live > 0 && *target != "" {
		fmt.Fprintln(stdout, "Redis memory per session: not measured (the gateway runs elsewhere).")
	} else if *live > 0 {
		fmt.Fprintln(stdout, "Redis memory per session: not measured (sessions in memory).")
	}

	fmt.Fprintln(stdout, "\nTargets:")
	fmt.Fprintf(stdout, "- p99 under 10 ms: %s (%s", yes(got.P99 > 0 && got.P99 < 10*time.Millisecond), got.P99.Round(10*time.Microsecond))
	if *baseline {
		fmt.Fprintf(stdout, "; the bare handler's: %s", base.P99.Round(10*time.Microsecond))
	}
	fmt.Fprintln(stdout, ")")
	switch {
	case *baseline && *think > 0:
		fmt.Fprintln(stdout, "- throughput: not measured by a paced run (both serve what the callers offer); see a run without --think")
	case *baseline && base.HopsPerSec > 0:
		r := got.HopsPerSec / base.HopsPerSec
		fmt.Fprintf(stdout, "- at least 40%% of the bare handler's hops/s: %s (%.0f%%)\n", yes(r >= 0.4), 100*r)
	}
	if perSession > 0 {
		fmt.Fprintf(stdout, "- under 1 KB of Redis per active session: %s (%.0f B, session and language keys)\n", yes(perSession < 1024), perSession)
	}
	if got.Errors > 0 || base.Errors > 0 {
		return fmt.Errorf("%d hops of the gateway and %d of the baseline were answered wrongly: the figures do not count", got.Errors, base.Errors)
	}
	return nil
}

// loaded is the gateway a load generator run loads.
type loaded struct {
	url   string                // its operator's endpoint
	store string                // where its sessions are, for the report
	rdb   redis.UniversalClient // its Redis, when it is in this process and has one
	tally *logTally             // its warnings, when it is in this process
	stop  func()
}

// startLoaded starts the gateway to load in this process, on loopback, with
// the demo operator; or, given target, takes the one running there.
func startLoaded(ctx context.Context, target, redisURL string) (*loaded, error) {
	if target != "" {
		return &loaded{url: target, store: "running at " + target, tally: &logTally{}, stop: func() {}}, nil
	}
	cfg := defaultConfig()
	cfg.RedisURL = redisURL
	cfg.Operators = []OperatorConfig{demoOperator}
	// Callers walk the catalogue again and again from a few numbers: the
	// hourly limits per number would answer most of them "later".
	cfg.Limits = LimitsConfig{CasesPerHour: -1, BookingsPerHour: -1, CallbacksPerHour: -1}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	tally := &logTally{}
	g, err := build(ctx, cfg, slog.New(tally), false)
	if err != nil {
		return nil, err
	}
	tally.reset() // build's notices about the embedded defaults
	gwURL, stopGW, err := listen(g.handler)
	if err != nil {
		g.close()
		return nil, err
	}
	l := &loaded{url: gwURL + demoOperator.Path, store: "memory", tally: tally}
	if cfg.RedisURL != "" {
		// The gateway's own opener: the same URL forms (one server,
		// Sentinel, Cluster) as serve's.
		client, where, err := openRedis(ctx, cfg.RedisURL, 0)
		if err != nil {
			stopGW()
			g.close()
			return nil, err
		}
		l.rdb, l.store = client, "Redis "+where.String()
	}
	l.stop = func() {
		if l.rdb != nil {
			l.rdb.Close()
		}
		stopGW()
		g.close()
	}
	return l, nil
}

// loadgenWire reads the flags that say how to reach a running gateway: its
// dialect and the operator's credential. It refuses flags that do not go
// with the target: those of a gateway in this process with --url, and the
// reverse.
func loadgenWire(fs *flag.FlagSet, target, dialect, credentialEnv string, getenv func(string) string) (loadgen.Dialect, http.Header, error) {
	wire, ok := loadgen.Dialects[dialect]
	if !ok {
		return nil, nil, fmt.Errorf("--dialect %q: want one of %s", dialect, strings.Join(loadgen.DialectNames(), ", "))
	}
	urlOnly := map[string]bool{"dialect": true, "credential-env": true, "remote": true}
	var wrong []string
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "url" && urlOnly[f.Name] == (target == "") {
			wrong = append(wrong, "--"+f.Name)
		}
	})
	// Of the in-process flags, those that do not go with --url.
	if target != "" {
		wrong = slices.DeleteFunc(wrong, func(f string) bool { return f != "--redis" && f != "--sessions" && f != "--baseline" })
	}
	switch {
	case len(wrong) > 0 && target == "":
		return nil, nil, fmt.Errorf("%s only with --url: the gateway in this process has the demo operator, in Africa's Talking's dialect", strings.Join(wrong, ", "))
	case len(wrong) > 0:
		return nil, nil, fmt.Errorf("%s not with --url: they compare with or measure a gateway in this process", strings.Join(wrong, ", "))
	case target == "":
		return wire, nil, nil
	}
	var header http.Header
	if credentialEnv != "" {
		c := getenv(credentialEnv)
		if c == "" {
			return nil, nil, fmt.Errorf("--credential-env: %s is not set", credentialEnv)
		}
		header = http.Header{"X-Api-Key": {c}}
	}
	return wire, header, nil // loadgen.Run checks the URL (loopback unless --remote)
}

func examples(w io.Writer, r loadgen.Report) {
	for _, e := range r.Examples {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
}

func row(name string, r loadgen.Report) string {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms" }
	return fmt.Sprintf("| %s | %d | %.0f | %s | %s | %s | %s | %d |", name, r.Hops, r.HopsPerSec,
		ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors)
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func yes(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// listen serves h on a loopback port as serve does; stop shuts it down.
func listen(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 120 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

func startProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// sessionKeys returns the keys the gateway keeps for the n numbers from
// first: build's prefix, then the engine's s: (session) and l: (language).
func sessionKeys(first, n int) (sessions, langs []string) {
	for i := first; i < first+n; i++ {
		sessions = append(sessions, sessionPrefix+ussd.SessionKey(loadgen.Phone(i)))
		langs = append(langs, sessionPrefix+ussd.LanguageKey(loadgen.Phone(i)))
	}
	return sessions, langs
}

// deleteKeys deletes the keys of the n numbers from first, and no other.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, first, n int) error {
	s, l := sessionKeys(first, n)
	keys := append(s, l...)
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		// One UNLINK a key, pipelined: on a Cluster the keys sit in
		// different slots, which one multi-key UNLINK refuses.
		if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range batch {
				p.Unlink(ctx, k)
			}
			return nil
		}); err != nil {
			return fmt.Errorf("deleting the load generator's keys: %w", err)
		}
	}
	return nil
}

// memory is what live sessions cost in Redis.
type memory struct {
	sessions, langs      int // keys found
	sessionBytes         int64
	langBytes            int64
	valueBytes           int64 // STRLEN of the sessions' values
	usedBefore, usedWith int64
	report               loadgen.Report
}

func (m memory) perSession() float64 {
	if m.sessions == 0 {
		return 0
	}
	return float64(m.sessionBytes+m.langBytes) / float64(m.sessions)
}

func (m memory) String() string {
	var b strings.Builder
	n := max(m.sessions, 1)
	fmt.Fprintf(&b, "Redis memory of %d live sessions (each dialled, language picked, waiting for a name in the birth\n"+
		"certificate application; %d hops, %d errors):\n", m.sessions, m.report.Hops, m.report.Errors)
	fmt.Fprintf(&b, "- MEMORY USAGE per session key: %.0f B (its JSON value: %.0f B)\n",
		float64(m.sessionBytes)/float64(n), float64(m.valueBytes)/float64(n))
	fmt.Fprintf(&b, "- MEMORY USAGE per language key: %.0f B (%d keys; kept a year, one per caller rather than per session)\n",
		float64(m.langBytes)/float64(max(m.langs, 1)), m.langs)
	fmt.Fprintf(&b, "- INFO used_memory grew by %d B, %.0f B per session (both keys, the expiry entries and the\n"+
		"  dictionaries' growth; other clients of this Redis add noise)\n",
		m.usedWith-m.usedBefore, float64(m.usedWith-m.usedBefore)/float64(n))
	return b.String()
}

// measureSessions leaves n sessions waiting in the middle of a dialogue,
// measures their keys, and deletes them.
func measureSessions(ctx context.Context, rdb redis.UniversalClient, url string, first, n int) (m memory, err error) {
	if err := deleteKeys(ctx, rdb, first, n); err != nil {
		return m, err
	}
	defer func() {
		if derr := deleteKeys(context.WithoutCancel(ctx), rdb, first, n); err == nil {
			err = derr
		}
	}()
	if m.usedBefore, err = usedMemory(ctx, rdb); err != nil {
		return m, err
	}
	m.report, err = loadgen.Run(ctx, loadgen.Config{URL: url, Callers: n, Scripts: loadgen.Waiting(), Rounds: 1,
		FirstPhone: first, Phones: n})
	if err != nil {
		return m, err
	}
	if m.usedWith, err = usedMemory(ctx, rdb); err != nil {
		return m, err
	}
	skeys, lkeys := sessionKeys(first, n)
	pipe := rdb.Pipeline()
	var su, lu []*redis.IntCmd
	var sl []*redis.IntCmd
	for i := range skeys {
		su = append(su, pipe.MemoryUsage(ctx, skeys[i]))
		sl = append(sl, pipe.StrLen(ctx, skeys[i]))
		lu = append(lu, pipe.MemoryUsage(ctx, lkeys[i]))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return m, fmt.Errorf("measuring the sessions' keys: %w", err)
	}
	for i := range su {
		if v, err := su[i].Result(); err == nil {
			m.sessions++
			m.sessionBytes += v
			m.valueBytes += sl[i].Val()
		}
		if v, err := lu[i].Result(); err == nil {
			m.langs++
			m.langBytes += v
		}
	}
	if m.sessions == 0 {
		return m, fmt.Errorf("no session key under guichet:s: after %s", m.report)
	}
	return m, nil
}

func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	info, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		return 0, fmt.Errorf("reading Redis's INFO memory: %w", err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in Redis's INFO memory")
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadAverage is the 1, 5 and 15 minute load averages: other work on the
// machine skews the figures.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// logTally is the gateway's logger during a run: it counts warnings and
// errors and keeps the first, rather than print thousands of lines.
type logTally struct {
	mu    sync.Mutex
	n     int
	first string
}

func (t *logTally) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (t *logTally) Handle(_ context.Context, r slog.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	if t.first == "" {
		var b strings.Builder
		b.WriteString(r.Level.String() + " " + r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		t.first = b.String()
	}
	return nil
}

func (t *logTally) WithAttrs([]slog.Attr) slog.Handler { return t }
func (t *logTally) WithGroup(string) slog.Handler      { return t }

func (t *logTally) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n, t.first = 0, ""
}

func (t *logTally) result() (int, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, t.first
}

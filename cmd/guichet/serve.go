package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/sms"
	"github.com/guichet/guichet/ussd"
)

// sessionStore is what serve needs of a session store beyond the engine.
type sessionStore interface {
	ussd.Store
	Ping(ctx context.Context) error
}

// gateway is the wired program: what serve runs and tests drive.
type gateway struct {
	handler http.Handler
	engine  *ussd.Engine
	store   sessionStore
	cases   caseStore
	native  *adapters.Native
	router  *chi.Mux
	metrics *metrics.Metrics
	console hotline.Store
	journal *hotline.Journal
	close   func()
}

// caseStore is what serve needs of the case store: adapters.Memory or
// postgres.Store.
type caseStore interface {
	adapters.Store
	outbox.DeliveryStore
	Enqueue(ctx context.Context, msgs []adapters.Message) error
	Bookings(ctx context.Context, phone string, from time.Time) ([]adapters.Booking, error)
	SetOptOut(ctx context.Context, phone string, out bool) error
	OptedOut(ctx context.Context, phone string) (bool, error)
	AddAPIKey(ctx context.Context, owner, label string, hash []byte) error
	APIKeyOwner(ctx context.Context, hash []byte) (string, error)
	Seed(ctx context.Context) error
	hotline.Records
}

// openCases opens the case store: PostgreSQL when configured (migrated
// first if asked), memory otherwise.
func openCases(ctx context.Context, cfg Config, log *slog.Logger) (caseStore, func(), error) {
	if cfg.DatabaseURL == "" {
		m := adapters.NewMemory()
		m.Now = cfg.Clock
		if err := m.Seed(ctx); err != nil {
			return nil, nil, fmt.Errorf("seeding the demo cases: %w", err)
		}
		log.Warn("EMBEDDED DEFAULT: cases, offices and slots in memory, with demo data (set DATABASE_URL for PostgreSQL)")
		return m, func() {}, nil
	}
	if cfg.Migrate {
		if err := postgres.Migrate(ctx, cfg.DatabaseURL); err != nil {
			return nil, nil, err
		}
		log.Info("database schema up to date")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	st := postgres.NewStore(pool)
	st.Now = cfg.Clock
	if cfg.Seed {
		if err := st.Seed(ctx); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("seeding the demo offices and cases: %w", err)
		}
	}
	log.Info("cases in PostgreSQL", "host", pool.Config().ConnConfig.Host, "database", pool.Config().ConnConfig.Database)
	return st, pool.Close, nil
}

func loadCatalogue(dir string) (*menus.Catalogue, error) {
	var cat *menus.Catalogue
	var err error
	if dir == "" {
		cat, err = menus.Builtin()
	} else {
		cat, err = menus.Load(os.DirFS(dir), ".")
	}
	if err != nil {
		return nil, fmt.Errorf("loading menus: %w", err)
	}
	return cat, nil
}

// build wires the gateway from its configuration.
func build(ctx context.Context, cfg Config, log *slog.Logger) (*gateway, error) {
	cat, err := loadCatalogue(cfg.Menus)
	if err != nil {
		return nil, err
	}
	if ps := menus.Check(cat, adapters.Operations, minLimit(cfg)); len(ps) > 0 {
		return nil, fmt.Errorf("menus do not pass the check:\n%w", ps)
	}
	g := &gateway{close: func() {}}
	built := false
	defer func() {
		if !built { // what was opened is closed when a later part fails
			g.close()
		}
	}()
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("parsing the Redis URL: %w", err)
		}
		if opts.PoolSize == 0 {
			// Every hop holds a connection for two short round trips; the
			// go-redis default (10 per CPU) makes hops queue for one at a
			// few thousand hops a second. ?pool_size= in the URL overrides.
			opts.PoolSize = 128
		}
		client := redis.NewClient(opts)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := client.Ping(pctx).Err(); err != nil {
			client.Close()
			return nil, fmt.Errorf("reaching Redis: %w", err)
		}
		g.store = sessions.NewRedis(client, "guichet:")
		g.close = func() { client.Close() }
		log.Info("sessions in Redis", "addr", opts.Addr)
	} else {
		g.store = sessions.NewMemory(cfg.Clock)
		log.Warn("EMBEDDED DEFAULT: sessions in memory (set REDIS_URL for Redis)")
	}
	cases, closeCases, err := openCases(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	prevClose := g.close
	g.close = func() { closeCases(); prevClose() }
	g.cases = cases
	native := &adapters.Native{Store: cases, Catalogue: cat, Now: cfg.Clock}
	g.native = native
	conns, err := connectors(cat)
	if err != nil {
		return nil, err
	}
	for id := range conns {
		log.Info("service backed by its ministry's system", "service", id)
	}

	m := metrics.New()
	limits := map[string]int{}
	for _, op := range cfg.Operators {
		if op.ScreenLimit > 0 {
			limits[op.Name] = op.ScreenLimit
		}
	}
	// The console's accounts, audit log and session journal live with the
	// cases: in PostgreSQL when it is configured, in memory otherwise.
	if hs, ok := cases.(hotline.Store); ok {
		g.console = hs
	} else {
		g.console = hotline.NewMemory()
	}
	g.journal = hotline.NewJournal(g.console, m, cfg.Clock, log.With("comp", "journal"))
	closeAll := g.close
	g.close = func() { g.journal.Close(); closeAll() }
	ec := cfg.Engine
	g.engine = ussd.NewEngine(cat, g.store, backend.Router{Native: native, Services: conns}, g.journal, ussd.Config{
		Budget: ec.Budget, ResumeWindow: ec.ResumeWindow, RetryWindow: ec.RetryWindow, IdleTimeout: ec.IdleTimeout,
		MaxInFlight: ec.MaxInFlight, Limit: ec.ScreenLimit, Limits: limits,
	}, log.With("comp", "ussd"))
	if cfg.Clock != nil {
		g.engine.Now = cfg.Clock
	}

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	r.Get("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := g.store.Ping(ctx); err != nil {
			http.Error(w, "session store unreachable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	r.Handle("/metrics", m.Handler())
	(&api.Server{Catalogue: cat, Cases: native, Keys: cases, Log: log.With("comp", "api"), Now: cfg.Clock}).Routes(r)
	console := &hotline.Console{Store: g.console, Cases: native, Records: cases, Engine: g.engine, Catalogue: cat,
		Prefix: "/hotline", Secure: secureCookies(cfg), Now: cfg.Clock, Log: log.With("comp", "hotline")}
	var consoleErr error
	r.Route("/hotline", func(r chi.Router) { consoleErr = console.Routes(r) })
	if consoleErr != nil {
		return nil, fmt.Errorf("hotline console: %w", consoleErr)
	}
	for _, op := range cfg.Operators {
		o := ussd.Operator{Name: op.Name, Dialect: dialects[op.Dialect](op), Credential: op.Credential,
			LoopbackOnly: op.LoopbackOnly, Region: op.Region}
		hlog := log.With("comp", "ussd", "operator", op.Name)
		r.Method(http.MethodPost, op.Path, &ussd.Handler{Op: o, Step: g.engine, Log: hlog, ObserveHop: m.ObserveHop})
		if _, ok := o.Dialect.(ussd.Notifier); ok {
			r.Method(http.MethodPost, op.Path+"/end", &ussd.Handler{Op: o, Step: g.engine, Log: hlog, Notice: true})
		}
	}
	g.handler, g.router, g.metrics = r, r, m
	built = true
	return g, nil
}

func minLimit(cfg Config) int {
	l := cfg.Engine.ScreenLimit
	for _, op := range cfg.Operators {
		if op.ScreenLimit > 0 && op.ScreenLimit < l {
			l = op.ScreenLimit
		}
	}
	return l
}

// serve runs the gateway until ctx ends, then drains in-flight hops. ready,
// if not nil, receives the listening address.
func serve(ctx context.Context, cfg Config, stdout io.Writer, ready chan<- string) error {
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	g, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer g.close()
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTP, err)
	}
	srv := &http.Server{Handler: g.handler, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 15 * time.Second, IdleTimeout: 120 * time.Second}
	addr := ln.Addr().String()
	for _, op := range cfg.Operators {
		log.Info("operator ready", "operator", op.Name, "dialect", op.Dialect, "url", "http://"+addr+op.Path)
	}
	if cfg.RedisURL == "" {
		fmt.Fprintf(stdout, "\nGuichet is listening on http://%s (embedded default: in-memory stores, built-in catalogue).\n"+
			"Dial it from another terminal:  go run ./cmd/guichet dial --url http://%s/ussd/demo '*123#'\n\n", addr, addr)
	}
	if err := firstAdmin(ctx, g.console, time.Now(), stdout, "http://"+addr+"/hotline/"); err != nil {
		return err
	}
	if ready != nil {
		ready <- addr
	}
	if cfg.DatabaseURL == "" {
		if err := demoKeys(ctx, g.cases, g.native, stdout); err != nil {
			return err
		}
	}
	dispatcher := &outbox.Dispatcher{Store: g.cases, Senders: map[string]outbox.Sender{}, Rate: map[string]rate.Limit{},
		TransliterateTo: map[string]bool{},
		Now:             cfg.Clock, Log: log.With("comp", "outbox")}
	wired := make(chan struct{})
	sm, err := startSMSCs(cfg, g.engine, g.metrics.Registry(), log, func(op string) smpp.Handler {
		// Receipts update the outbox; inbound SMS go to the inbox.
		return dispatcher.HandleInbound(op)
	}, wired)
	if err != nil {
		return err
	}
	answers := &inbox.Inbox{Store: g.cases, Cases: g.native, Languages: g.engine, Region: "CM", Now: cfg.Clock,
		Log: log.With("comp", "inbox")}
	dispatcher.Routes, dispatcher.Messages, dispatcher.OptOuts = sm.routes, answers.Handle, g.cases
	for name, b := range sm.binds {
		dispatcher.Senders[name] = b
	}
	for _, op := range cfg.SMPP.Operators {
		if op.Rate > 0 {
			dispatcher.Rate[op.Name] = rate.Limit(op.Rate)
		}
		dispatcher.TransliterateTo[op.Name] = op.Transliterate
		if dispatcher.Source == "" {
			dispatcher.Source = op.Source
		}
	}
	if dispatcher.Source == "" {
		dispatcher.Source = "8080"
	}
	close(wired)
	for name, get := range map[string]func(outbox.Stats) uint64{
		"sent": func(s outbox.Stats) uint64 { return s.Sent }, "deferred": func(s outbox.Stats) uint64 { return s.Deferred },
		"throttled": func(s outbox.Stats) uint64 { return s.Throttled }, "failed": func(s outbox.Stats) uint64 { return s.Failed },
		"expired": func(s outbox.Stats) uint64 { return s.Expired }, "maybe_sent": func(s outbox.Stats) uint64 { return s.MaybeSent },
		"receipts": func(s outbox.Stats) uint64 { return s.Receipts }, "unmatched_receipts": func(s outbox.Stats) uint64 { return s.Unmatched },
	} {
		g.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_sms_" + name + "_total", Help: "The outbox dispatcher's " + strings.ReplaceAll(name, "_", " ") + ".",
		}, func() float64 { return float64(get(dispatcher.Stats())) }))
	}
	g.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "guichet_journal_dropped_total", Help: "Ended USSD sessions not recorded for the hotline (the store fell behind).",
	}, func() float64 { return float64(g.journal.Dropped()) }))
	for k := sms.Unknown; k <= sms.Language; k++ {
		name := k.String()
		g.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_sms_inbound_total", Help: "Inbound SMS answered, by the keyword they carried (Unknown: none).",
			ConstLabels: prometheus.Labels{"keyword": strings.ToLower(name)},
		}, func() float64 { return float64(answers.Counts().Keywords[name]) }))
	}
	for name, get := range map[string]func(inbox.Counts) uint64{
		"duplicate": func(c inbox.Counts) uint64 { return c.Duplicates }, "flooded": func(c inbox.Counts) uint64 { return c.Flooded },
		"unreadable": func(c inbox.Counts) uint64 { return c.Unreadable },
	} {
		g.metrics.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "guichet_sms_inbound_" + name + "_total", Help: "Inbound SMS not answered: " + name + ".",
		}, func() float64 { return float64(get(answers.Counts())) }))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		sm.close(cctx) // after the HTTP server drained: unbind cleanly
	}()
	g.router.Get("/status/smpp", sm.status)
	if sm.sim != nil {
		// The embedded default's simulator can be played with: text the
		// gateway (POST /simulator/inject/sms) and see what it sent back.
		g.router.Route("/simulator", func(r chi.Router) {
			r.Use(loopbackOnly)
			simulatorRoutes(r, sm.sim)
		})
	}
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() { stopJobs(); wg.Wait() }()
	wg.Go(func() { dispatcher.Run(jobs) })
	wg.Go(func() { remind(jobs, g.native, log.With("comp", "reminders")) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight hops")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// remind sends, every hour, the reminders of the visits booked for
// tomorrow; each booking is reminded once, whatever the number of gateways.
func remind(ctx context.Context, n *adapters.Native, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if k, err := n.RemindTomorrow(ctx); err != nil && ctx.Err() == nil {
			log.Error("reminding tomorrow's visits", "err", err)
		} else if k > 0 {
			log.Info("reminders written to the outbox", "count", k)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// loopbackOnly refuses requests from other machines: the simulator's
// endpoints are for the person running the demo.
func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "loopback only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

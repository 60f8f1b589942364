package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/redis/go-redis/v9"

	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/flood"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/notify"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/retention"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/web"
	"github.com/guichet/guichet/webhook"
)

// gateway is the wired program: what serve runs and tests drive.
type gateway struct {
	handler http.Handler
	// admin serves the probes, /metrics and /status/smpp on admin_http:
	// nil when it is not set, handler serving them.
	admin    http.Handler
	sessions sessionStore
	stores   stores
	cases    *cases.Service
	engine   *ussd.Engine
	journal  *hotline.Journal
	purger   *retention.Purger // nil on the embedded default
	sms      *smsParts         // nil unless built withSMS and an SMSC (or the demo's simulator) is there
	// sessionsName names the session store in /readyz's answer.
	sessionsName string
	// warnings are what /readyz says beside "ready": what runs but not as
	// it should in production.
	warnings []string
	// draining turns /readyz to 503 once shutdown has begun, so that load
	// balancers stop sending before the port closes.
	draining atomic.Bool
	log      *slog.Logger
	// callbacks sends the delivery callbacks from their queue: nil on the
	// embedded default (no queue there).
	callbacks *webhook.Sender
	// days counts the API keys' messages of the day for the campaigns
	// they made, where the API counts their sends (the session store).
	days *api.Days
	// metrics are the gateway's, served at /metrics.
	metrics *metrics.Metrics
	close   func()
}

// smsParts are what SMS need: the binds to the SMSCs, the dispatcher that
// drains the outbox over them, and what answers what they bring in.
type smsParts struct {
	smscs      *smscs
	dispatcher *delivery.Dispatcher
	receipts   *delivery.Receipts
	inbox      *inbox.Inbox
}

func loadCatalogue(dir string) (*menus.Catalogue, error) {
	var cat *menus.Catalogue
	var err error
	if dir == "" {
		if cat, err = menus.Builtin(); err != nil {
			return nil, fmt.Errorf("loading menus: %w", err)
		}
		return cat, nil
	}
	// The folder is read through os.DirFS, whose errors say "open .":
	// a wrong path is named here.
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("menu folder: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("menu folder %s: not a folder", dir)
	}
	if cat, err = menus.Load(os.DirFS(dir), "."); err != nil {
		return nil, fmt.Errorf("loading menus from %s: %w", dir, err)
	}
	return cat, nil
}

// build wires the gateway from its configuration, each part after what it
// needs: the catalogue, the session and durable stores, the case service,
// the engine, then, withSMS, the SMS side (receipts and inbox, the binds
// that feed them, the dispatcher that sends on the binds), and last the
// HTTP routes over all of it. What was opened is closed if a later part
// fails.
func build(ctx context.Context, cfg Config, log *slog.Logger, withSMS bool) (_ *gateway, err error) {
	if err := cfg.checkDemo(); err != nil {
		return nil, err
	}
	cat, err := loadCatalogue(cfg.Menus)
	if err != nil {
		return nil, err
	}
	if ps := menus.Check(cat, cases.Operations, minLimit(cfg)); len(ps) > 0 {
		return nil, fmt.Errorf("menus do not pass the check:\n%w", ps)
	}
	for _, n := range menus.Notes(cat) {
		log.Warn("menus: "+n.Msg, "file", n.File, "line", n.Line)
	}
	// The folder by its name: a full path may hold long runs of digits,
	// which the logs' checks take for a phone number.
	from := "the built-in catalogue"
	if cfg.Menus != "" {
		from = "folder " + filepath.Base(filepath.Clean(cfg.Menus))
	}
	log.Info("menus loaded", "from", from, "services", len(cat.Services))
	m := metrics.New()
	conns, err := connectors(cat, metrics.NewBackends(m.Registry()))
	if err != nil {
		return nil, err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()

	sess, closeSessions, err := openSessions(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	closers = append(closers, closeSessions)
	st, err := openStores(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	closers = append(closers, st.close)
	for id := range conns {
		log.Info("service backed by its ministry's system", "service", id)
	}

	b := readBuild()
	metrics.RegisterBuildInfo(m.Registry(), b.Version, b.Commit, b.GoVersion)
	journal := hotline.NewJournal(st.trail, m, cfg.Clock, log.With("comp", "journal"))
	closers = append(closers, journal.Close)
	metrics.RegisterJournal(m.Registry(), journal.Dropped)
	lim := cfg.Limits
	service := &cases.Service{DB: st.cases, Catalogue: cat, Now: cfg.Clock,
		Limits:  cases.Limits{Cases: lim.CasesPerHour, Bookings: lim.BookingsPerHour, Callbacks: lim.CallbacksPerHour},
		Counter: &flood.Counter{Store: sess, Now: cfg.Clock}}
	limits := map[string]int{}
	for _, op := range cfg.Operators {
		if op.ScreenLimit > 0 {
			limits[op.Name] = op.ScreenLimit
		}
	}
	ec := cfg.Engine
	router := adapters.Router{Native: service, Services: conns}
	engine := ussd.NewEngine(cat, sess, router, journal, ussd.Config{
		Budget: ec.Budget, ResumeWindow: ec.ResumeWindow, RetryWindow: ec.RetryWindow, IdleTimeout: ec.IdleTimeout,
		MaxInFlight: ec.MaxInFlight, Limit: ec.ScreenLimit, Limits: limits, Now: cfg.Clock, Languages: st.languages, WebIdle: cfg.Web.IdleTimeout,
	}, log.With("comp", "ussd"))
	// The SMS dialogue walks the same catalogue on the same store, in a
	// slot of its own, with its own idle time: an SMS is answered in
	// minutes, a USSD screen in seconds.
	dialogues := ussd.NewEngine(cat, sess, router, journal, ussd.Config{
		Budget: ec.Budget, ResumeWindow: 2 * cfg.SMSDialogue.Idle, RetryWindow: ec.RetryWindow, IdleTimeout: cfg.SMSDialogue.Idle,
		MaxInFlight: ec.MaxInFlight, Now: cfg.Clock, Languages: st.languages,
	}, log.With("comp", "smsdialogue"))
	var operators []string
	for _, op := range cfg.Operators {
		operators = append(operators, op.Name)
	}
	metrics.RegisterHops(m.Registry(), engine, operators...)
	var smscs []string
	for _, op := range cfg.SMPP.Operators {
		smscs = append(smscs, op.Name)
	}
	metrics.RegisterDialogueHops(m.Registry(), dialogues, smscs...)

	var sp *smsParts
	var warnings []string
	if withSMS && len(cfg.SMPP.Operators) == 0 && !cfg.demo() {
		// Without an SMSC nothing is sent, and nothing is said sent:
		// citizens' SMS wait in the outbox for one to be configured.
		w := "no SMSC configured (smpp: operators): citizens' SMS stay queued in the outbox, none is sent"
		log.Error("NO SMSC: " + w)
		warnings = append(warnings, w)
	} else if withSMS {
		if sp, err = buildSMS(cfg, st, sess, service, engine, dialogues, cat.Code, m, log); err != nil {
			return nil, err
		}
		closers = append(closers, func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			sp.smscs.close(cctx) // unbind cleanly
		})
	}

	purge, err := purger(cfg, st.retention, cat, log.With("comp", "retention"))
	if err != nil {
		return nil, err
	}
	if purge != nil {
		metrics.RegisterRetention(m.Registry(), purge.Totals)
	}
	g := &gateway{sessions: sess, sessionsName: "session store", log: log.With("comp", "readyz"), stores: st, cases: service, engine: engine, journal: journal, purger: purge, sms: sp, warnings: warnings, close: closeAll, metrics: m,
		days: &api.Days{Keys: st.keys, Counts: sess, Now: cfg.Clock}}
	if cfg.RedisURL != "" {
		g.sessionsName = "Redis"
	}
	metrics.RegisterReady(m.Registry(), func() bool { return g.notReady(context.Background()) == "" })
	if st.webhooks != nil {
		if g.callbacks, err = callbackSender(cfg, st.webhooks, log.With("comp", "callbacks")); err != nil {
			return nil, err
		}
		metrics.RegisterCallbacks(m.Registry(), g.callbacks.Stats)
	}
	proxies, err := cfg.proxies()
	if err != nil {
		return nil, err
	}
	consoleProxies, err := cfg.Hotline.proxies()
	if err != nil {
		return nil, err
	}
	consoleProxies = append(consoleProxies, proxies...)
	console := &hotline.Console{Accounts: st.accounts, Trail: st.trail, Cases: service, Records: st.records, Outbox: st.outbox, Campaigns: st.campaigns,
		Citizens: st.citizens, Cache: sess, CacheKeys: channelKeys, Engine: engine, Catalogue: cat, Prefix: "/hotline", Secure: secureCookies(cfg), IdleTimeout: cfg.Hotline.IdleTimeout,
		OneTimeFor: cfg.Hotline.OneTimeFor, TrustedProxies: consoleProxies, Now: cfg.Clock, Log: log.With("comp", "hotline")}
	metrics.RegisterSignIns(m.Registry(), console.SignInStats)
	if g.handler, err = routes(cfg, g, cat, console, proxies, m, log); err != nil {
		return nil, err
	}
	return g, nil
}

// buildSMS wires the SMS side: what answers inbound messages first, then
// the binds that bring them (and carry USSD over SMPP), then the
// dispatcher that sends on those binds.
func buildSMS(cfg Config, st stores, shared inbox.Shared, service *cases.Service, engine, dialogues *ussd.Engine, code string, m *metrics.Metrics, log *slog.Logger) (*smsParts, error) {
	// Outcomes of submits and the receipts that follow them commit
	// together, many at once.
	commits := &delivery.Commits{Outcomes: st.outbox, Receipts: st.outbox}
	receipts := &delivery.Receipts{Store: st.outbox, Commits: commits, Log: log.With("comp", "outbox")}
	// Inboxes share the parts of long SMS, flood counts and what they
	// have seen through the session store (Redis in a fleet).
	answers := &inbox.Inbox{Store: st.replies, Cases: service, Languages: engine, Shared: shared, Region: "CM",
		Now: cfg.Clock, Log: log.With("comp", "inbox"),
		Dialogues: dialogues, Code: code, Idle: cfg.SMSDialogue.Idle}
	sm, err := startSMSCs(cfg, engine, m.Registry(), log, func(op string) smpp.Handler {
		return smpp.Demux(receipts.Handle(op), answers.From(op))
	}, st.bindHold)
	if err != nil {
		return nil, err
	}
	d := sm.dispatcher(st.outbox, commits, st.optOuts, cfg, log.With("comp", "outbox"))
	metrics.RegisterOutcomes(m.Registry(), d.Outcomes, receipts.Results)
	metrics.RegisterBacklog(m.Registry(), st.outbox, sm.routes, sm.names(), cfg.Clock)
	metrics.RegisterReceipts(m.Registry(), receipts.Stats)
	metrics.RegisterInbox(m.Registry(), answers.Counts)
	return &smsParts{smscs: sm, dispatcher: d, receipts: receipts, inbox: answers}, nil
}

// routes mounts every HTTP endpoint: probes, metrics, the ministries' API,
// the hotline console, each operator's USSD dialect and, with SMS, the
// binds' status and the embedded simulator's play area. With admin_http,
// metrics and the binds' status go to g.admin instead, with the probes.
func routes(cfg Config, g *gateway, cat *menus.Catalogue, console *hotline.Console, proxies []netip.Prefix, m *metrics.Metrics, log *slog.Logger) (http.Handler, error) {
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, middleware.SetHeader("X-Content-Type-Options", "nosniff")) // every answer, probes and metrics too
	// A campaign's audience may come over a slow link: longer than the
	// server's read timeout, as long as it keeps coming.
	r.Use(slowUploads(cfg.Timeouts, "/api/v1/campaigns", console.Prefix+"/campaigns"))
	// The probes answer on both listeners: a load balancer in front of
	// the operators' port checks readiness there.
	probes := func(r chi.Router) {
		r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		r.Get("/readyz", g.ready)
	}
	onCall := func(r chi.Router) {
		r.Handle("/metrics", m.Handler())
		if g.sms != nil {
			r.Get("/status/smpp", g.sms.smscs.status)
		}
	}
	probes(r)
	if cfg.AdminHTTP == "" {
		onCall(r)
	} else {
		a := chi.NewRouter()
		a.Use(middleware.Recoverer, middleware.SetHeader("X-Content-Type-Options", "nosniff"))
		probes(a)
		onCall(a)
		g.admin = a
	}
	var sends notify.Store = g.stores.sends
	if g.sms != nil {
		sends = wakingSends{sends, g.sms.dispatcher}
	}
	sender := &notify.Sender{Catalogue: cat, Store: sends, Region: "CM", Now: cfg.Clock}
	if g.stores.languages == nil {
		// Without PostgreSQL the choices are in the session store alone.
		// PostgreSQL reads them in the statement that writes the messages
		// (postgres.Outbox.SendOnce, postgres.Cases.Citizens): asked here
		// number by number, a list of 100 cost 100 round trips or more.
		sender.Languages = g.engine
	}
	allow, err := cfg.API.allow()
	if err != nil {
		return nil, err
	}
	(&api.Server{Catalogue: cat, Cases: g.cases, Keys: g.stores.keys, Notify: sender, Messages: g.stores.outbox,
		Callbacks: g.stores.callbacks, CallbackAllow: allow, Counts: g.sessions, Campaigns: g.stores.campaigns, Days: g.days, Audit: g.stores.trail,
		// PostgreSQL checks a send's key as it writes it (postgres.Outbox.SendOnce).
		CacheKeys: cfg.DatabaseURL != "", Observe: metrics.NewAPI(m.Registry()).Observe, Log: log.With("comp", "api"), Now: cfg.Clock}).Routes(r)
	var consoleErr error
	r.Route("/hotline", func(r chi.Router) { consoleErr = console.Routes(r) })
	if consoleErr != nil {
		return nil, fmt.Errorf("hotline console: %w", consoleErr)
	}
	if !cfg.Web.Disabled {
		site := &web.Site{Engine: g.engine, Store: g.sessions, Outbox: g.stores.outbox, Counter: &flood.Counter{Store: g.sessions, Now: cfg.Clock},
			Prefix: cfg.Web.Path, Secure: secureCookies(cfg), FrameAncestors: cfg.Web.FrameAncestors, Region: phone.DefaultRegion,
			TrustedProxies: proxies, IdleTimeout: cfg.Web.IdleTimeout, PerAddr: cfg.Web.CodesPerAddress, Now: cfg.Clock, Log: log.With("comp", "web")}
		base := strings.TrimSuffix(cfg.Web.Path, "/")
		r.Handle(base+"/*", site.Handler())
		r.Get(base, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, cfg.Web.Path, http.StatusMovedPermanently)
		})
	}
	for _, op := range cfg.Operators {
		o := ussd.Operator{Name: op.Name, Dialect: dialects[op.Dialect](op), Credential: op.Credential,
			Open: op.Open && cfg.demo(), Region: op.Region}
		if op.Open && !cfg.demo() {
			continue // the demo's operator, outside a demo: not mounted
		}
		if o.Certs, err = op.certs(); err != nil {
			return nil, err
		}
		if o.Allow, err = op.allow(); err != nil {
			return nil, err
		}
		o.Proxies = proxies
		hlog := log.With("comp", "ussd", "operator", op.Name)
		if coversLoopback(o.Allow) {
			hlog.Warn("the operator's allow list takes loopback: behind a proxy on this host not in trusted_proxies, every request would be let in")
		}
		r.Method(http.MethodPost, op.Path, &ussd.Handler{Op: o, Step: g.engine, Log: hlog, ObserveHop: m.ObserveHop})
		if _, ok := o.Dialect.(ussd.Notifier); ok {
			r.Method(http.MethodPost, op.Path+"/end", &ussd.Handler{Op: o, Step: g.engine, Log: hlog, Notice: true})
		}
	}
	if g.sms != nil {
		if sim := g.sms.smscs.sim; sim != nil {
			// The embedded default's simulator can be played with: text the
			// gateway (POST /simulator/inject/sms) and see what it sent back.
			r.Route("/simulator", func(r chi.Router) { simulatorRoutes(r, sim) })
		}
	}
	return r, nil
}

// readyCheckTimeout bounds each store's answer to /readyz: a probe must
// not hang on a store that no longer answers.
const readyCheckTimeout = time.Second

// ready answers /readyz: 503 once shutdown has begun, 503 naming each
// store the gateway was configured with (Redis, PostgreSQL) that does not
// answer within readyCheckTimeout, else "ready" and the warnings.
func (g *gateway) ready(w http.ResponseWriter, r *http.Request) {
	if why := g.notReady(r.Context()); why != "" {
		http.Error(w, why, http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ready\n")
	for _, warning := range g.warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

// notReady says why the gateway is not ready, "" when it is: /readyz's
// answer, and guichet_ready on /metrics.
func (g *gateway) notReady(ctx context.Context) string {
	if g.draining.Load() {
		return "shutting down"
	}
	type check struct {
		name string
		ping func(context.Context) error
	}
	checks := []check{{g.sessionsName, g.sessions.Ping}}
	if g.stores.ping != nil {
		checks = append(checks, check{"PostgreSQL", g.stores.ping})
	}
	down := make([]string, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, readyCheckTimeout)
			defer cancel()
			if err := c.ping(ctx); err != nil {
				g.log.Warn("not ready: a store does not answer", "store", c.name, "err", err)
				down[i] = c.name
			}
		})
	}
	wg.Wait()
	if down = slices.DeleteFunc(down, func(s string) bool { return s == "" }); len(down) > 0 {
		return "not ready: " + strings.Join(down, ", ") + " unreachable"
	}
	return ""
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

// serve runs the gateway until ctx ends, then answers not ready for
// cfg.ShutdownGrace while it still serves, drains in-flight hops and
// stops what runs in the background. It listens on cfg.HTTP once the
// gateway is built (connections are refused, not held, while it starts),
// or on ln when a test hands it one.
func serve(ctx context.Context, cfg Config, ln net.Listener, stdout io.Writer) error {
	if ln != nil {
		defer ln.Close()
	}
	log := newLogger(cfg, stdout)
	redisLogs.Store(log.With("comp", "redis")) // go-redis's own lines, as ours
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{}) })
	g, err := build(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer g.close()
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.HTTP); err != nil {
			return fmt.Errorf("listening on %s: %w", cfg.HTTP, err)
		}
		defer ln.Close()
	}
	var adminLn net.Listener
	if g.admin != nil {
		if adminLn, err = net.Listen("tcp", cfg.AdminHTTP); err != nil {
			return fmt.Errorf("listening on %s (admin_http): %w", cfg.AdminHTTP, err)
		}
		defer adminLn.Close()
		log.Info("admin endpoints ready", "url", "http://"+adminLn.Addr().String(), "paths", "/healthz /readyz /metrics /status/smpp")
	}
	tlsCfg, err := cfg.TLS.server(cfg.Operators)
	if err != nil {
		return err
	}
	addr, scheme := ln.Addr().String(), "http"
	if tlsCfg != nil {
		scheme = "https"
	}
	for _, op := range cfg.Operators {
		log.Info("operator ready", "operator", op.Name, "dialect", op.Dialect, "url", scheme+"://"+addr+op.Path,
			"credential", op.Credential != "", "client_certificate", op.ClientCAFile != "", "allow", op.Allow)
	}
	if cfg.demo() {
		stores := "in-memory stores"
		if cfg.DatabaseURL != "" {
			stores = "a database (demo_force)"
		}
		fmt.Fprintf(stdout, "\nGuichet is listening on %s://%s as a DEMO (%s, SMS to a simulator): anyone who reaches it can act as any phone number.\n"+
			"Dial it from another terminal:  go run ./cmd/guichet dial --url %s://%s/ussd/demo '*123#'\n\n", scheme, addr, stores, scheme, addr)
	}
	if cfg.DatabaseURL == "" {
		if err := firstAdmin(ctx, g.stores.accounts, now(cfg), cfg.Hotline.OneTimeFor, stdout, scheme+"://"+addr+"/hotline/"); err != nil {
			return err
		}
		if err := demoKeys(ctx, g.stores.keys, g.cases.Catalogue, stdout); err != nil {
			return err
		}
	} else if err := noAccountYet(ctx, g.stores.accounts, log); err != nil {
		return err
	}

	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() { stopJobs(); wg.Wait() }()
	if g.sms != nil {
		wg.Go(func() { g.sms.dispatcher.Run(jobs) })
	}
	wg.Go(func() { remind(jobs, g.cases, log.With("comp", "reminders")) })
	runner := &campaigns.Runner{Store: g.stores.campaigns, Audience: g.stores.optOuts, Now: cfg.Clock,
		Allowance: g.days, Log: log.With("comp", "campaigns")}
	if g.stores.languages == nil {
		runner.Languages = g.engine // as the sender's
	}
	if g.sms != nil {
		runner.Routes = g.sms.smscs.routes // the campaigns' per-operator rates
	}
	if hold := g.stores.bindHold; hold != nil {
		// One gateway of the fleet runs the campaigns (their rates are
		// the fleet's); another takes over if it dies.
		wg.Go(func() { whileHolding(jobs, hold("campaigns", "runner"), runner.Run, log) })
	} else {
		wg.Go(func() { runner.Run(jobs) })
	}
	if g.purger != nil {
		// One gateway of the fleet purges: two would do the same work.
		wg.Go(func() { whileHolding(jobs, g.stores.bindHold("retention", "purge"), g.purger.Run, log) })
	}
	if g.callbacks != nil {
		wg.Go(func() { g.callbacks.Run(jobs) })
	}

	to := cfg.Timeouts
	srv := &http.Server{Handler: g.handler, ReadHeaderTimeout: to.ReadHeader, ReadTimeout: to.Read,
		WriteTimeout: to.Write, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 2)
	if tlsCfg != nil {
		// Client certificates are asked for, never required: the console,
		// the API and the probes take none; each operator's handler says
		// whether it needs one, and whose.
		srv.TLSConfig = tlsCfg
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	var admin *http.Server
	if adminLn != nil {
		admin = &http.Server{Handler: g.admin, ReadHeaderTimeout: to.ReadHeader, ReadTimeout: to.Read,
			WriteTimeout: to.Write, IdleTimeout: 120 * time.Second}
		go func() { errc <- admin.Serve(adminLn) }()
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Not ready first, still serving: load balancers take the gateway
	// out before its port closes, and what they send meanwhile is
	// answered.
	g.draining.Store(true)
	log.Info("shutting down: not ready, serving for the grace", "grace", cfg.ShutdownGrace)
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-time.After(cfg.ShutdownGrace):
	}
	log.Info("shutting down: draining in-flight hops")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if admin != nil {
		err = errors.Join(err, admin.Shutdown(sctx))
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// now is the configuration's clock, or the time.
func now(cfg Config) time.Time {
	if cfg.Clock != nil {
		return cfg.Clock()
	}
	return time.Now()
}

// whileHolding runs run while this gateway holds a lock of the fleet
// (postgres.DB.BindHold), waiting for it first and stopping run when it is
// lost, until ctx ends.
func whileHolding(ctx context.Context, hold func(ctx context.Context, index int) (<-chan struct{}, func(), error),
	run func(ctx context.Context), log *slog.Logger) {
	for ctx.Err() == nil {
		lost, release, err := hold(ctx, 0)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("waiting for a lock of the fleet", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		rctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lost:
			case <-rctx.Done():
			}
			cancel()
		}()
		run(rctx)
		cancel()
		release()
	}
}

// callbackSender POSTs the administrations' delivery callbacks, from
// their queue in PostgreSQL, to public addresses and those allowed.
func callbackSender(cfg Config, store webhook.Store, log *slog.Logger) (*webhook.Sender, error) {
	allow, err := cfg.API.allow()
	if err != nil {
		return nil, err
	}
	roots, err := cfg.API.roots()
	if err != nil {
		return nil, err
	}
	return &webhook.Sender{Store: store, Client: webhook.Client(allow, roots), Every: time.Second, Now: cfg.Clock, Log: log}, nil
}

// remind sends, every hour, the reminders of the visits booked for
// tomorrow; each booking is reminded once, whatever the number of gateways.
func remind(ctx context.Context, s *cases.Service, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if k, err := s.RemindTomorrow(ctx); err != nil && ctx.Err() == nil {
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

// slowUploads lets the bodies POSTed to paths take longer than the
// server's ReadTimeout: each read of the body moves the connection's read
// deadline to what its bytes so far earn at UploadRate, after Read's
// grace, up to Upload after the request began; the write deadline follows
// so that the answer can still go. A client that stops sending, or sends
// slower than UploadRate, is cut as before; a body the handler does not
// read (no key, not signed in) earns nothing.
func slowUploads(t HTTPTimeouts, paths ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && slices.Contains(paths, r.URL.Path) {
				r.Body = &pacedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), t: t, start: time.Now()}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// pacedBody is an upload's body that extends its connection's deadlines
// as its bytes come (slowUploads).
type pacedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	t        HTTPTimeouts
	start    time.Time
	received int64
}

func (b *pacedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.received += int64(n)
		earned := b.t.Read + time.Duration(float64(b.received)/float64(b.t.UploadRate)*float64(time.Second))
		deadline := b.start.Add(min(earned, b.t.Upload))
		// Errors: a connection that cannot say (a test's recorder) keeps
		// the server's deadlines.
		b.rc.SetReadDeadline(deadline)
		b.rc.SetWriteDeadline(deadline.Add(b.t.Write))
	}
	return n, err
}

// newLogger writes the gateway's log to w, as text (the default) or as
// one JSON object a line (log_format: json), from cfg.LogLevel up.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// redisLog takes go-redis's log lines (its pool's and its retries') into
// the gateway's log, the last serve's (go-redis has one logger a process).
type redisLog struct{}

var (
	redisLogs    atomic.Pointer[slog.Logger]
	redisLogOnce sync.Once
)

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	if l := redisLogs.Load(); l != nil {
		l.WarnContext(ctx, fmt.Sprintf(format, v...))
	}
}

// channelKeys are a phone's keys in the session store that the SMS
// dialogue and the web channel keep, for an erasure.
func channelKeys(phone string) []string {
	return append(inbox.CachedKeys(phone), web.CachedKeys(phone)...)
}

// wakingSends wakes the dispatcher once a ministry's messages are written:
// they leave at once, not at the end of the dispatcher's wait.
type wakingSends struct {
	notify.Store
	d *delivery.Dispatcher
}

func (w wakingSends) SendOnce(ctx context.Context, owner, key string, s outbox.Send, answer func([]outbox.Placed) ([]byte, error)) ([]byte, error) {
	b, err := w.Store.SendOnce(ctx, owner, key, s, answer)
	if err == nil {
		w.d.Wake()
	}
	return b, err
}

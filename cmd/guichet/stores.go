package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/inbox"
	"github.com/guichet/guichet/metrics"
	"github.com/guichet/guichet/notify"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/retention"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/staff"
	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/webhook"
)

// sessionStore is what serve needs of a session store beyond the engine.
type sessionStore interface {
	ussd.Store
	Delete(ctx context.Context, key string) error
	Ping(ctx context.Context) error
	api.Counter
}

// openSessions opens the session store: Redis when configured, memory
// otherwise.
func openSessions(ctx context.Context, cfg Config, log *slog.Logger) (sessionStore, func(), error) {
	if cfg.RedisURL == "" {
		log.Warn("EMBEDDED DEFAULT: sessions in memory (set REDIS_URL for Redis)")
		return sessions.NewMemory(cfg.Clock), func() {}, nil
	}
	// Every hop holds a connection for two short round trips; the
	// go-redis default (10 per CPU) makes hops queue for one at a few
	// thousand hops a second. ?pool_size= in the URL overrides.
	client, target, err := openRedis(ctx, cfg.RedisURL, 128)
	if err != nil {
		return nil, nil, err
	}
	log.Info("sessions in Redis", "addr", target.String(), "kind", target.kind)
	return sessions.NewRedis(client, cmp.Or(cfg.RedisPrefix, sessionPrefix)), func() { client.Close() }, nil
}

// sessionPrefix is where the gateway's keys start in Redis, unless
// redis_prefix says otherwise.
const sessionPrefix = "guichet:"

// stores are the durable parts, each as the part that uses it sees it:
// in PostgreSQL, or in memory on the embedded default.
type stores struct {
	cases    cases.DB        // the case domain, for cases.Service
	replies  inbox.Store     // what answering an SMS reads and writes
	records  hotline.Records // bookings and callbacks, for the console
	optOuts  optOutStore
	sends    notify.Store // the ministries' sends: the citizens looked up as they are written
	outbox   outboxStore
	accounts hotline.Accounts
	trail    trail
	keys     keyStore
	// webhooks and callbacks are the queue of delivery callbacks and the
	// keys' callback URLs: nil on the embedded default (none there).
	webhooks  webhook.Store
	callbacks api.Callbacks
	campaigns campaigns.Store
	// languages keeps callers' language choices for good (PostgreSQL),
	// the session store caching them; nil on the embedded default, whose
	// session store is the only place (nothing outlives the process).
	languages ussd.Languages
	// citizens exports and erases a number's data (PostgreSQL), for the
	// console; nil on the embedded default.
	citizens hotline.Citizens
	// retention purges what is kept past its time (PostgreSQL); nil on
	// the embedded default.
	retention retention.Store
	// bindHold shares each operator's binds among the gateways of a
	// fleet (PostgreSQL); nil on the embedded default: this process alone.
	bindHold func(operator, mode string) func(ctx context.Context, index int) (<-chan struct{}, func(), error)
	// ping tells whether PostgreSQL answers, for /readyz; nil on the
	// embedded default (memory always answers).
	ping  func(ctx context.Context) error
	close func()
}

// outboxStore is what the dispatcher, the receipts, the inbox and the
// console do with the outbox.
type outboxStore interface {
	delivery.DeliveryStore
	delivery.ReceiptStore
	hotline.Outbox
	api.Messages
	metrics.Backlogs
}

// optOutStore tells the numbers that sent STOP, one or many at once.
type optOutStore interface {
	delivery.OptOuts
	OptedOutAmong(ctx context.Context, phones []string) (map[string]bool, error)
	Citizens(ctx context.Context, phones []string) (map[string]bool, map[string]string, error)
}

// trail is what the console and the journal write and read of the
// audit log and the session records.
type trail interface {
	hotline.Trail
	hotline.Recorder
}

// keyStore is what the API and the demo's keys do with API keys.
type keyStore interface {
	api.Keys
	api.KeysByID
	AddAPIKey(ctx context.Context, k apikey.Key, hash []byte) error
}

// openStores opens the durable stores: PostgreSQL when configured
// (migrated first if asked, seeded if asked), memory with the demo's data
// otherwise.
func openStores(ctx context.Context, cfg Config, log *slog.Logger) (stores, error) {
	if cfg.DatabaseURL == "" {
		out := outbox.NewMemory()
		out.Now = cfg.Clock
		cs := cases.NewMemory(out)
		cs.Now = cfg.Clock
		console := staff.NewMemory()
		if err := cs.Seed(ctx); err != nil {
			return stores{}, fmt.Errorf("seeding the demo cases: %w", err)
		}
		log.Warn("EMBEDDED DEFAULT: cases, offices and slots in memory, with demo data (set DATABASE_URL for PostgreSQL)")
		return stores{cases: cs, replies: cs, records: cs, optOuts: cs, outbox: out, accounts: console, trail: console,
			sends: notify.Stores{Citizens: cs, Outbox: out, Now: cfg.Clock},
			keys:  &apikey.Memory{}, campaigns: &campaigns.Memory{Outbox: out, Now: cfg.Clock}, close: func() {}}, nil
	}
	if cfg.Migrate {
		if err := postgres.Migrate(ctx, cfg.DatabaseURL); err != nil {
			return stores{}, err
		}
		log.Info("database schema up to date")
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return stores{}, err
	}
	db := postgres.New(pool)
	db.Now = cfg.Clock
	cs, console := db.Cases(), db.Console()
	if cfg.Seed {
		if err := cs.Seed(ctx); err != nil {
			pool.Close()
			return stores{}, fmt.Errorf("seeding the demo offices and cases: %w", err)
		}
	}
	// /readyz asks PostgreSQL on a connection of its own: a pool busy
	// with work is not a database down.
	probe := postgres.NewProbe(pool)
	log.Info("cases in PostgreSQL", "host", pool.Config().ConnConfig.Host, "database", pool.Config().ConnConfig.Database)
	return stores{cases: cs, replies: cs, records: cs, optOuts: cs, outbox: db.Outbox(), sends: db.Outbox(), accounts: console, trail: console,
		keys: db.Keys(), webhooks: db.Outbox(), callbacks: db.Keys(), campaigns: db.Campaigns(), languages: cs, citizens: db.Citizens(), retention: db.Retention(), bindHold: db.BindHold, ping: probe.Ping, close: func() { probe.Close(); pool.Close() }}, nil
}

// Package postgres keeps everything durable in PostgreSQL, one store per
// owner on a shared DB: Cases (offices and visit slots, cases and their
// history, hotline callbacks, opt-outs, the results of idempotent
// operations), Outbox (the SMS to citizens), Console (the hotline's
// accounts, audit log and session records) and Keys (API keys). Each
// passes the same contract suite as its in-memory twin.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var embedded embed.FS

// migrations are the schema's migrations, applied in order by Migrate.
var migrations, _ = fs.Sub(embedded, "migrations")

// Open connects a pool to the database at url and checks that it answers.
// Pool settings given in the URL (pool_max_conns…) win over the defaults:
// at least 10 connections, recycled hourly, and a 5 s connect timeout.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parsing the database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = int32(max(10, 2*runtime.GOMAXPROCS(0)))
	}
	if !strings.Contains(url, "pool_max_conn_lifetime") {
		cfg.MaxConnLifetime = time.Hour
	}
	if !strings.Contains(url, "pool_max_conn_idle_time") {
		cfg.MaxConnIdleTime = 10 * time.Minute
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "guichet"
	}
	if cfg.ConnConfig.RuntimeParams["jit"] == "" {
		// Every statement here is short. A table freshly filled (20,000
		// notifications, not yet analysed) makes the planner's estimates
		// high enough to compile the outbox's claim, 170 ms a claim for a
		// statement that runs in 5. ?jit=on in the URL overrides.
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: opening a pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: reaching the database: %w", err)
	}
	return pool, nil
}

// Migrate brings the schema of the database at url up to date with the
// migrations embedded in the binary. Each migration runs in its own
// transaction, so that a failing one leaves the database as it was, and a
// session lock lets several instances start at once.
func Migrate(ctx context.Context, url string) error {
	return migrate(ctx, url, migrations)
}

func migrate(ctx context.Context, url string, fsys fs.FS) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: parsing the database URL: %w", err)
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	defer db.Close()
	p, err := provider(db, fsys)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrating: %w", err)
	}
	return nil
}

// provider returns goose's migrator for fsys on db.
func provider(db *sql.DB, fsys fs.FS) (*goose.Provider, error) {
	// Another instance migrating holds the lock for a second or so: look
	// again every second, for five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("postgres: making the migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("postgres: reading migrations: %w", err)
	}
	return p, nil
}

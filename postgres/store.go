package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/batch"
	"github.com/guichet/guichet/cases"
)

// DB is the database that the stores of each owner share: Cases (the
// case domain), Outbox, Console (the hotline's accounts and records) and
// Keys. Each is safe for concurrent use by several goroutines and several
// processes sharing the database.
type DB struct {
	// Now dates remembered results and messages that come without a
	// date. nil: time.Now.
	Now func() time.Time
	// Keep is how long idempotent results are remembered; 0 means 24
	// hours.
	Keep time.Duration

	pool  *pgxpool.Pool
	swept atomic.Int64 // when Once last forgot old results, in Unix seconds

	sendsOnce sync.Once
	sends     *batch.Group[send, sent] // the ministries' sends, many a transaction
}

// New returns the stores on pool, whose database Migrate has brought up
// to date.
func New(pool *pgxpool.Pool) *DB {
	return &DB{pool: pool}
}

// Cases returns the store of the case domain.
func (db *DB) Cases() *Cases { return &Cases{conn{DB: db}} }

// Outbox returns the store of the outbox.
func (db *DB) Outbox() *Outbox { return &Outbox{conn{DB: db}} }

// Console returns the store of the hotline console.
func (db *DB) Console() *Console { return &Console{conn{DB: db}} }

// Keys returns the store of API keys.
func (db *DB) Keys() *Keys { return &Keys{conn{DB: db}} }

// Campaigns returns the store of awareness campaigns.
func (db *DB) Campaigns() *Campaigns { return &Campaigns{conn{DB: db}} }

// Cases keeps the case domain: offices and visit slots, cases and their
// history, hotline callbacks, opt-outs, and the results of idempotent
// operations. It implements cases.DB and the stores a cases.Service runs
// on, and passes the same contract suite (casestest) as cases.Memory.
type Cases struct{ conn }

// Outbox keeps the messages to citizens, as outbox.Memory does.
type Outbox struct{ conn }

// Console keeps the hotline console's accounts, browser sessions, audit
// log and session records, as staff.Memory does.
type Console struct{ conn }

// Keys keeps API keys by their hash, as apikey.Memory does.
type Keys struct{ conn }

// Campaigns keeps awareness campaigns and their audiences, as
// campaigns.Memory does.
type Campaigns struct{ conn }

// querier is what a transaction and the pool both do.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

// conn is where a store's statements run: the pool, or, for the store
// that Cases.Once hands an operation, the transaction that records its
// result.
type conn struct {
	*DB
	tx pgx.Tx // nil: the pool
}

// q is where a read, or a single statement, runs.
func (c conn) q() querier {
	if c.tx != nil {
		return c.tx
	}
	return c.pool
}

// begin opens a store method's transaction: a savepoint in the store's
// transaction if it has one, a transaction of the pool otherwise.
func (c conn) begin(ctx context.Context) (pgx.Tx, error) {
	return c.q().Begin(ctx)
}

// rollback ends tx if it is still open, even once ctx is done: a method
// defers it right after begin. After a commit it does nothing.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // pgx.ErrTxClosed after a commit; otherwise the connection is dropped
}

// commit commits tx.
func commit(ctx context.Context, tx pgx.Tx) error {
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// fail wraps err with what the store was doing. When ctx is done, the
// result says so (errors.Is(err, context.Canceled)) even if the driver
// reported the cancelled query another way.
func fail(ctx context.Context, doing string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("postgres: %s: %w (%w)", doing, err, cerr)
	}
	return fmt.Errorf("postgres: %s: %w", doing, err)
}

func (db *DB) now() time.Time {
	if db.Now != nil {
		return db.Now()
	}
	return time.Now()
}

func (db *DB) keep() time.Duration {
	if db.Keep > 0 {
		return db.Keep
	}
	return 24 * time.Hour
}

// violates reports whether err is PostgreSQL's refusal of a constraint:
// code is "23505" for a unique one, "23503" for a foreign key.
func violates(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && (constraint == "" || pgErr.ConstraintName == constraint)
}

// retried runs fn again, up to four times with a short growing pause, when
// PostgreSQL aborted it to break a deadlock or a serialization conflict:
// what one gateway's claim locks and what another's outcomes update may
// cross, and the statement that lost must not lose what it records.
func retried(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 5 {
		if err = fn(); err == nil || !violates(err, "40P01", "") && !violates(err, "40001", "") {
			return err
		}
		t := time.NewTimer(time.Duration(attempt+1) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// Seed adds the demo's offices and cases (cases.DemoOffices and
// cases.DemoCases) with their fixed references, leaving any that exist
// as they are: seeding twice changes nothing.
func (s *Cases) Seed(ctx context.Context) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fail(ctx, "seeding", err)
	}
	defer rollback(ctx, tx)
	for _, o := range cases.DemoOffices() {
		if err := insertOffice(ctx, tx, o); err != nil {
			return fail(ctx, "seeding", err)
		}
	}
	for _, c := range cases.DemoCases() {
		if err := seedCase(ctx, tx, c); err != nil {
			return fail(ctx, "seeding", err)
		}
	}
	if err := commit(ctx, tx); err != nil {
		return fail(ctx, "seeding", err)
	}
	return nil
}

// insertOffice adds o unless an office has its ID.
func insertOffice(ctx context.Context, q querier, o cases.Office) error {
	services := o.Services
	if services == nil {
		services = []string{}
	}
	_, err := q.Exec(ctx, `INSERT INTO offices (id, name, services, capacity) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`, o.ID, o.Name, services, o.Capacity)
	if err != nil {
		return fmt.Errorf("adding office %s: %w", o.ID, err)
	}
	return nil
}

// seedCase adds c and its history unless a case has its ref.
func seedCase(ctx context.Context, q querier, c cases.Case) error {
	tag, err := q.Exec(ctx, `INSERT INTO cases (ref, service, status, phone, lang, channel, data, opened, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (ref) DO NOTHING`,
		c.Ref, c.Service, c.Status, c.Phone, c.Lang, c.Channel, data(c.Data), c.Opened, c.Updated)
	if err != nil {
		return fmt.Errorf("adding case %s: %w", c.Ref, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, insertEvents, eventArgs(c.Ref, c.History)...); err != nil {
		return fmt.Errorf("adding the history of case %s: %w", c.Ref, err)
	}
	return nil
}

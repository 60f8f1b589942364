package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/adapters"
)

// Store is an adapters.Store in PostgreSQL, safe for concurrent use by
// several goroutines and several processes sharing the database.
type Store struct {
	// Now dates remembered results and messages that come without a
	// date. nil: time.Now.
	Now func() time.Time
	// Keep is how long Once remembers a result; 0 means 24 hours.
	Keep time.Duration

	pool  *pgxpool.Pool
	swept atomic.Int64 // when Once last forgot old results, in Unix seconds
}

var _ adapters.Store = (*Store)(nil)

// NewStore returns a store on pool, whose database Migrate has brought up
// to date.
func NewStore(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// querier is what a transaction and the pool both do.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// txKey carries, in the context Once gives do, the transaction that Once
// holds, so that what do writes commits with the result Once remembers:
// a retry after a crash then finds both or neither.
type txKey struct{ s *Store }

// begin opens a store method's transaction: a savepoint in Once's, if ctx
// carries it, a transaction of the pool otherwise.
func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	if tx, ok := ctx.Value(txKey{s}).(pgx.Tx); ok {
		return tx.Begin(ctx)
	}
	return s.pool.Begin(ctx)
}

// db is where a read runs: in Once's transaction if ctx carries it.
func (s *Store) db(ctx context.Context) querier {
	if tx, ok := ctx.Value(txKey{s}).(pgx.Tx); ok {
		return tx
	}
	return s.pool
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

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) keep() time.Duration {
	if s.Keep > 0 {
		return s.Keep
	}
	return 24 * time.Hour
}

// violates reports whether err is PostgreSQL's refusal of a constraint:
// code is "23505" for a unique one, "23503" for a foreign key.
func violates(err error, code, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code && (constraint == "" || pgErr.ConstraintName == constraint)
}

// Seed adds the demo's offices and cases (adapters.DemoOffices and
// adapters.DemoCases) with their fixed references, leaving any that exist
// as they are: seeding twice changes nothing.
func (s *Store) Seed(ctx context.Context) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fail(ctx, "seeding", err)
	}
	defer rollback(ctx, tx)
	for _, o := range adapters.DemoOffices() {
		if err := insertOffice(ctx, tx, o); err != nil {
			return fail(ctx, "seeding", err)
		}
	}
	for _, c := range adapters.DemoCases() {
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
func insertOffice(ctx context.Context, q querier, o adapters.Office) error {
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
func seedCase(ctx context.Context, q querier, c adapters.Case) error {
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

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
)

// Store implements cases.DB: s is all of it.
func (s *Cases) Store() cases.Store { return cases.Store{Cases: s, Visits: s, Callbacks: s} }

// Once implements cases.DB. Calls with the same op and key queue on a
// transaction-scoped advisory lock, across processes; do is given the
// store bound to the transaction that then records its result, so that
// what do writes and the result that stands for it commit together or not
// at all.
func (s *Cases) Once(ctx context.Context, op, key string, do func(context.Context, cases.Store) (menus.Result, error)) (menus.Result, error) {
	r, _, err := s.once(ctx, op, key, func(ctx context.Context, tx conn) (menus.Result, error) {
		return do(ctx, (&Cases{tx}).Store())
	})
	return r, err
}

// AnswerOnce is cases.Memory.AnswerOnce in PostgreSQL: the opt-out and the
// reply that do writes commit with the key, or neither does.
func (s *Cases) AnswerOnce(ctx context.Context, key string, do func(context.Context, cases.Replies) error) (bool, error) {
	_, ran, err := s.once(ctx, cases.AnswerOp, key, func(ctx context.Context, tx conn) (menus.Result, error) {
		return menus.Result{}, do(ctx, replies{&Cases{tx}, &Outbox{tx}})
	})
	return ran, err
}

// replies writes an SMS's answer in one transaction.
type replies struct {
	cases  *Cases
	outbox *Outbox
}

func (r replies) SetOptOut(ctx context.Context, phone string, out bool) error {
	return r.cases.SetOptOut(ctx, phone, out)
}

func (r replies) Enqueue(ctx context.Context, msgs []outbox.Message) error {
	return r.outbox.Enqueue(ctx, msgs)
}

// once runs do under op and key, given the connection bound to the
// transaction that records its result, unless a result is remembered; it
// reports whether do ran.
func (s *Cases) once(ctx context.Context, op, key string, do func(context.Context, conn) (menus.Result, error)) (menus.Result, bool, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return menus.Result{}, false, fail(ctx, "once", err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, fmt.Sprintf("%d:%s%s", len(op), op, key)); err != nil {
		return menus.Result{}, false, fail(ctx, "waiting for an earlier call with the same key", err)
	}
	var stored []byte
	err = tx.QueryRow(ctx, `SELECT result FROM once_results WHERE op = $1 AND key = $2 AND at > $3`,
		op, key, s.now().Add(-s.keep())).Scan(&stored)
	switch {
	case err == nil:
		var r menus.Result
		if err := json.Unmarshal(stored, &r); err != nil {
			return menus.Result{}, false, fail(ctx, "reading a remembered result", err)
		}
		return r, false, nil
	case !notFound(err):
		return menus.Result{}, false, fail(ctx, "reading a remembered result", err)
	}
	r, err := do(ctx, conn{DB: s.DB, tx: tx})
	if err != nil {
		return menus.Result{}, true, err
	}
	if err := remember(ctx, tx, op, key, r, s.now()); err != nil {
		return menus.Result{}, false, fail(ctx, "remembering a result", err)
	}
	if err := commit(ctx, tx); err != nil {
		return menus.Result{}, false, fail(ctx, "remembering a result", err)
	}
	if s.tx == nil { // a nested once leaves sweeping to the outermost
		s.sweep(ctx)
	}
	return r, true, nil
}

// remember records r as the result of op and key, over a forgotten one.
func remember(ctx context.Context, q querier, op, key string, r menus.Result, at time.Time) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	_, err = q.Exec(ctx, `INSERT INTO once_results (op, key, result, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (op, key) DO UPDATE SET result = excluded.result, at = excluded.at`, op, key, b, at)
	return err
}

// sweep forgets the results older than Keep, at most once a minute per
// store; a failure waits for the next sweep.
func (db *DB) sweep(ctx context.Context) {
	now := db.now()
	last := db.swept.Load()
	if now.Unix()-last < 60 || !db.swept.CompareAndSwap(last, now.Unix()) {
		return
	}
	_, _ = db.pool.Exec(ctx, `DELETE FROM once_results WHERE at <= $1`, now.Add(-db.keep()))
}

package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/guichet/guichet/adapters"
)

// Once implements adapters.Store. Calls with the same op and key queue on
// a transaction-scoped advisory lock, across processes; do runs inside the
// transaction that then records its result, so that what do writes and
// the result that stands for it commit together or not at all.
func (s *Store) Once(ctx context.Context, op, key string, do func(context.Context) (adapters.Result, error)) (adapters.Result, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return adapters.Result{}, fail(ctx, "once", err)
	}
	defer rollback(ctx, tx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, fmt.Sprintf("%d:%s%s", len(op), op, key)); err != nil {
		return adapters.Result{}, fail(ctx, "waiting for an earlier call with the same key", err)
	}
	var stored []byte
	err = tx.QueryRow(ctx, `SELECT result FROM once_results WHERE op = $1 AND key = $2 AND at > $3`,
		op, key, s.now().Add(-s.keep())).Scan(&stored)
	switch {
	case err == nil:
		var r adapters.Result
		if err := json.Unmarshal(stored, &r); err != nil {
			return adapters.Result{}, fail(ctx, "reading a remembered result", err)
		}
		return r, nil
	case !notFound(err):
		return adapters.Result{}, fail(ctx, "reading a remembered result", err)
	}
	r, err := do(context.WithValue(ctx, txKey{s}, tx))
	if err != nil {
		return adapters.Result{}, err
	}
	if err := remember(ctx, tx, op, key, r, s.now()); err != nil {
		return adapters.Result{}, fail(ctx, "remembering a result", err)
	}
	if err := commit(ctx, tx); err != nil {
		return adapters.Result{}, fail(ctx, "remembering a result", err)
	}
	s.sweep(ctx)
	return r, nil
}

// remember records r as the result of op and key, over a forgotten one.
func remember(ctx context.Context, q querier, op, key string, r adapters.Result, at time.Time) error {
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
func (s *Store) sweep(ctx context.Context) {
	now := s.now()
	last := s.swept.Load()
	if now.Unix()-last < 60 || !s.swept.CompareAndSwap(last, now.Unix()) {
		return
	}
	_, _ = s.pool.Exec(ctx, `DELETE FROM once_results WHERE at <= $1`, now.Add(-s.keep()))
}

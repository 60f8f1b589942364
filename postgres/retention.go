package postgres

import (
	"context"
	"time"

	"github.com/guichet/guichet/retention"
)

// Retention purges what is kept past its time, as retention.Purger asks.
type Retention struct{ conn }

// Retention returns the store the purge runs on.
func (db *DB) Retention() *Retention { return &Retention{conn{DB: db}} }

// Pseudonym is how an erased phone starts: never a number an SMS could go
// to, never the number it replaces.
const Pseudonym = "erased:"

// Purge deletes and rewrites what is older than c, batch rows a statement.
// Each statement is its own transaction, picking its rows by an index, so
// that it holds its locks for milliseconds: the outbox, the journal and
// the audit log are written all the time.
func (s *Retention) Purge(ctx context.Context, c retention.Cutoffs, batch int) (retention.Counts, error) {
	var n retention.Counts
	var err error
	if !c.Journal.IsZero() {
		if n.Journal, err = s.batches(ctx, batch, false, `DELETE FROM ussd_sessions WHERE id IN (
			SELECT id FROM ussd_sessions WHERE at < $1 ORDER BY at LIMIT $2)`, c.Journal); err != nil {
			return n, fail(ctx, "purging the session journal", err)
		}
	}
	if !c.Audit.IsZero() {
		// The log is written in time order: the oldest ids are the oldest.
		if n.Audit, err = s.batches(ctx, batch, false, `DELETE FROM audit_log WHERE id IN (
			SELECT id FROM audit_log WHERE at < $1 ORDER BY id LIMIT $2)`, c.Audit); err != nil {
			return n, fail(ctx, "purging the audit log", err)
		}
	}
	if !c.Callbacks.IsZero() {
		if n.Callbacks, err = s.batches(ctx, batch, false, `DELETE FROM callbacks WHERE id IN (
			SELECT id FROM callbacks WHERE closed < $1 ORDER BY closed DESC, id DESC LIMIT $2)`, c.Callbacks); err != nil {
			return n, fail(ctx, "purging closed callbacks", err)
		}
	}
	if !c.SMSBodies.IsZero() {
		if n.SMSBodies, err = s.redactBodies(ctx, c.SMSBodies, batch); err != nil {
			return n, fail(ctx, "redacting SMS bodies", err)
		}
	}
	for _, cl := range c.Cases {
		k, err := s.batches(ctx, batch, true, pseudonymiseClosed, cl.Before, cl.Service, cl.Statuses, s.now())
		n.Cases += k
		if err != nil {
			return n, fail(ctx, "pseudonymising closed cases of "+cl.Service, err)
		}
	}
	return n, nil
}

// pseudonymiseClosed replaces the phone and the answers of up to $2 cases
// of service $3 closed ($4) before $1, and the phone where it names who
// moved them: the case, its status and its history stay.
const pseudonymiseClosed = `WITH picked AS (
		SELECT ref, phone FROM cases
		WHERE service = $3 AND erased IS NULL AND updated < $1 AND status = ANY($4)
		ORDER BY updated LIMIT $2 FOR UPDATE SKIP LOCKED),
	done AS (
		UPDATE cases c SET phone = '` + Pseudonym + `' || substr(md5(random()::text || c.ref), 1, 16),
			data = (SELECT jsonb_object_agg(k, to_jsonb('` + Erased + `'::text)) FROM jsonb_object_keys(c.data) AS k), erased = $5
		FROM picked WHERE c.ref = picked.ref
		RETURNING c.ref, picked.phone AS old, c.phone AS new),
	events AS (
		UPDATE case_events e SET who = done.new FROM done WHERE e.ref = done.ref AND e.who = done.old)
	SELECT count(*) FROM done`

// Erased is what a pseudonymised answer reads.
const Erased = "[erased]"

// batches runs sql, a statement that purges at most $2 rows older than $1
// (its other arguments after), until one purges fewer than batch, and
// returns how many it purged in all. sql affects the rows it purges, or,
// counted, returns their count.
func (s *Retention) batches(ctx context.Context, batch int, counted bool, sql string, before time.Time, args ...any) (int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var k int64
		all := append([]any{before, batch}, args...)
		if counted {
			if err := s.pool.QueryRow(ctx, sql, all...).Scan(&k); err != nil {
				return total, err
			}
		} else {
			tag, err := s.pool.Exec(ctx, sql, all...)
			if err != nil {
				return total, err
			}
			k = tag.RowsAffected()
		}
		total += k
		if k < int64(batch) {
			return total, nil
		}
	}
}

// redactBodies empties the bodies of the SMS created before cutoff that
// reached a final status, from where the last purge stopped: a message
// still queued then is passed again, the rest never. The number, the
// status and its times stay.
func (s *Retention) redactBodies(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	var from time.Time // the zero time, 0001-01-01, before every message
	err := s.pool.QueryRow(ctx, `SELECT mark FROM retention_marks WHERE kind = 'sms_bodies'`).Scan(&from)
	if err != nil && !notFound(err) {
		return 0, err
	}
	n, err := s.batches(ctx, batch, false, `UPDATE outbox SET body = '' WHERE id IN (
		SELECT id FROM outbox WHERE created < $1 AND created >= $3 AND body <> '' AND NOT queued
		ORDER BY created LIMIT $2)`, cutoff, from)
	if err != nil {
		return n, err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO retention_marks (kind, mark)
		SELECT 'sms_bodies', coalesce(min(created), $1) FROM outbox WHERE queued AND created < $1
		ON CONFLICT (kind) DO UPDATE SET mark = excluded.mark`, cutoff)
	return n, err
}

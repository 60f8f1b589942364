package postgres

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/outbox"
)

// SendOnce writes msgs to the outbox and records answer, given their ids in
// order, under owner's idempotency key, in one transaction: a key already
// recorded (or being recorded: the second waits for the first) writes
// nothing and returns what was recorded. An empty key sends every time.
// It returns once the messages are committed.
func (s *Outbox) SendOnce(ctx context.Context, owner, key string, msgs []outbox.Message, answer func(ids []int64) ([]byte, error)) ([]byte, error) {
	ready, err := outbox.Prepare(msgs, s.now())
	if err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	defer tx.Rollback(ctx)
	once := owner + "|" + key // an owner is a service file's word: no "|"
	if key != "" {
		tag, err := tx.Exec(ctx, `INSERT INTO once_results (op, key, result, at) VALUES ('api.messages', $1, 'null', $2)
			ON CONFLICT DO NOTHING`, once, s.now())
		if err != nil {
			return nil, fail(ctx, "sending messages", err)
		}
		if tag.RowsAffected() == 0 { // sent before: the same answer
			var got []byte
			if err := tx.QueryRow(ctx, `SELECT result FROM once_results WHERE op = 'api.messages' AND key = $1`, once).Scan(&got); err != nil {
				return nil, fail(ctx, "reading a request sent before", err)
			}
			return got, nil
		}
	}
	var ids []int64
	if len(ready) > 0 {
		rows, _ := tx.Query(ctx, insertMessages+` RETURNING id`, messageArgs(ready)...)
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return nil, fail(ctx, "sending messages", err)
		}
		slices.Sort(ids) // identities are given in the order written
	}
	body, err := answer(ids)
	if err != nil {
		return nil, err
	}
	if key != "" {
		if _, err := tx.Exec(ctx, `UPDATE once_results SET result = $2 WHERE op = 'api.messages' AND key = $1`, once, string(body)); err != nil {
			return nil, fail(ctx, "sending messages", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	return body, nil
}

// OwnMessage returns message id if owner sent it: ENOTFOUND otherwise.
func (s *Outbox) OwnMessage(ctx context.Context, owner string, id int64) (outbox.Message, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+messageColumns+` FROM outbox WHERE id = $1 AND owner = $2 AND owner <> ''`, id, owner)
	m, err := pgx.CollectExactlyOneRow(rows, scanMessage)
	if notFound(err) {
		return m, fail(ctx, "reading a message", guichet.Errorf(guichet.ENOTFOUND, "no message %d of yours", id))
	}
	if err != nil {
		return m, fail(ctx, "reading a message", err)
	}
	return m, nil
}

// OwnMessages returns a page of the messages owner sent, by id after
// after, those in one of statuses if any are given.
func (s *Outbox) OwnMessages(ctx context.Context, owner string, statuses []string, after int64, limit int) ([]outbox.Message, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+messageColumns+` FROM outbox
		WHERE owner = $1 AND owner <> '' AND id > $2 AND (cardinality($3::text[]) = 0 OR status = ANY($3))
		ORDER BY id LIMIT $4`, owner, after, statuses, guichet.PageSize(limit))
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fail(ctx, "listing messages", err)
	}
	return msgs, nil
}

package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/webhook"
)

// ClaimWebhooks implements webhook.Store: the callbacks due at now, each
// with its message and its key's URL and secret as they are now, held for
// lease.
func (s *Outbox) ClaimWebhooks(ctx context.Context, limit int, now time.Time, lease time.Duration) ([]webhook.Call, error) {
	rows, _ := s.q().Query(ctx, `WITH due AS (
			SELECT id FROM webhooks WHERE next_at <= $1 ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED),
		taken AS (
			UPDATE webhooks w SET attempts = w.attempts + 1, next_at = $3 FROM due WHERE w.id = due.id
			RETURNING w.id, w.attempts, w.at, w.key_id, w.message_id)
		SELECT t.id, t.attempts, t.at, coalesce(k.callback_url, ''), coalesce(k.callback_secret, ''), o.id, o.phone, o.lang, o.body, o.kind, o.case_ref, o.created, o.status, o.attempts, o.reason,
			o.bind, o.smsc_id, o.sent, o.transliterate, o.bulk, o.owner, o.key_id, o.done, coalesce(o.campaign, 0)
		FROM taken t JOIN outbox o ON o.id = t.message_id LEFT JOIN api_keys k ON k.id = t.key_id
		ORDER BY t.id`, now, limit, now.Add(lease))
	calls, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (webhook.Call, error) {
		var c webhook.Call
		var sent, done *time.Time
		m := &c.Message
		err := row.Scan(&c.ID, &c.Attempts, &c.At, &c.URL, &c.Secret,
			&m.ID, &m.Phone, &m.Lang, &m.Body, &m.Kind, &m.CaseRef, &m.Created, &m.Status, &m.Attempts, &m.Reason, &m.Bind, &m.SMSCID, &sent, &m.Transliterate,
			&m.Bulk, &m.Owner, &m.KeyID, &done, &m.Campaign)
		if sent != nil {
			m.Sent = *sent
		}
		if done != nil {
			m.Done = *done
		}
		return c, err
	})
	if err != nil {
		return nil, fail(ctx, "claiming callbacks", err)
	}
	return calls, nil
}

// DoneWebhook implements webhook.Store.
func (s *Outbox) DoneWebhook(ctx context.Context, id int64) error {
	if _, err := s.q().Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id); err != nil {
		return fail(ctx, "removing a callback", err)
	}
	return nil
}

// RetryWebhook implements webhook.Store.
func (s *Outbox) RetryWebhook(ctx context.Context, id int64, next time.Time, reason string) error {
	if _, err := s.q().Exec(ctx, `UPDATE webhooks SET next_at = $2, last_error = left($3, 500) WHERE id = $1`, id, next, reason); err != nil {
		return fail(ctx, "putting a callback back", err)
	}
	return nil
}

// QueuedWebhooks implements webhook.Store: the callbacks in the queue,
// due or waiting for a retry.
func (s *Outbox) QueuedWebhooks(ctx context.Context) (int, error) {
	var n int
	if err := s.q().QueryRow(ctx, `SELECT count(*) FROM webhooks`).Scan(&n); err != nil {
		return 0, fail(ctx, "counting the callbacks queued", err)
	}
	return n, nil
}

// SetCallback gives the key named id a callback URL and the secret its
// callbacks are signed with; an empty url removes it. ENOTFOUND if there
// is no such key.
func (s *Keys) SetCallback(ctx context.Context, id, url, secret string) error {
	tag, err := s.q().Exec(ctx, `UPDATE api_keys SET callback_url = $2, callback_secret = $3 WHERE id = $1`, id, url, secret)
	if err != nil {
		return fail(ctx, "setting a callback", err)
	}
	if tag.RowsAffected() == 0 {
		return fail(ctx, "setting a callback", guichet.Errorf(guichet.ENOTFOUND, "no api key %s", id))
	}
	return nil
}

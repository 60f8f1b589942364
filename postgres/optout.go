package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// Enqueue writes msgs to the outbox, pending (or logged), checked and
// readied as the messages of a change are (outbox.Prepare):
// replies to inbound SMS. They are written at once, or none is.
func (s *Outbox) Enqueue(ctx context.Context, msgs []outbox.Message) error {
	ready, err := outbox.Prepare(msgs, s.now())
	if err != nil {
		return fail(ctx, "enqueueing messages", err)
	}
	if err := writeMessages(ctx, s.q(), ready); err != nil {
		return fail(ctx, "enqueueing messages", err)
	}
	return nil
}

// Bookings returns phone's live (not cancelled) bookings whose slot starts
// at or after from, soonest first.
func (s *Cases) Bookings(ctx context.Context, phone string, from time.Time) ([]cases.Booking, error) {
	rows, err := s.q().Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE phone = $1 AND start >= $2 AND cancelled IS NULL
		ORDER BY start, ref`, phone, from)
	if err != nil {
		return nil, fail(ctx, "listing bookings", err)
	}
	bookings, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return nil, fail(ctx, "listing bookings", err)
	}
	return bookings, nil
}

// SetOptOut records that phone sent STOP (out) or START (!out): a phone
// that opted out gets no more notifications. Either is idempotent; a
// repeated STOP keeps the time of the first.
func (s *Cases) SetOptOut(ctx context.Context, phone string, out bool) error {
	if err := cases.CheckOptOutPhone(phone); err != nil {
		return err
	}
	var err error
	if out {
		_, err = s.q().Exec(ctx, `INSERT INTO optouts (phone, at) VALUES ($1, $2)
			ON CONFLICT (phone) DO NOTHING`, phone, s.now())
	} else {
		_, err = s.q().Exec(ctx, `DELETE FROM optouts WHERE phone = $1`, phone)
	}
	if err != nil {
		return fail(ctx, "recording an opt-out", err)
	}
	return nil
}

// OptedOut reports whether phone sent STOP and not START since.
func (s *Cases) OptedOut(ctx context.Context, phone string) (bool, error) {
	var out bool
	if err := s.q().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM optouts WHERE phone = $1)`, phone).Scan(&out); err != nil {
		return false, fail(ctx, "looking up an opt-out", err)
	}
	return out, nil
}

// EnqueueOnce is Enqueue under a key: the first call with a key writes
// msgs and reports true; a later one within Keep writes nothing and
// reports false, even from another process at the same moment (the key's
// row is written in the same transaction as the messages).
func (s *Outbox) EnqueueOnce(ctx context.Context, key string, msgs []outbox.Message) (bool, error) {
	ready, err := outbox.Prepare(msgs, s.now())
	if err != nil {
		return false, fail(ctx, "enqueueing messages once", err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return false, fail(ctx, "enqueueing messages once", err)
	}
	defer rollback(ctx, tx)
	now := s.now()
	tag, err := tx.Exec(ctx, `INSERT INTO once_results (op, key, result, at) VALUES ('outbox.enqueue', $1, '{}', $2)
		ON CONFLICT (op, key) DO UPDATE SET result = excluded.result, at = excluded.at
		WHERE once_results.at <= $3`, key, now, now.Add(-s.keep()))
	if err != nil {
		return false, fail(ctx, "enqueueing messages once", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil // written already
	}
	if err := writeMessages(ctx, tx, ready); err != nil {
		return false, fail(ctx, "enqueueing messages once", err)
	}
	if err := commit(ctx, tx); err != nil {
		return false, fail(ctx, "enqueueing messages once", err)
	}
	return true, nil
}

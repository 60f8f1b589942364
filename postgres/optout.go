package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/adapters"
)

// Enqueue writes msgs to the outbox, pending (or logged), checked and
// readied as the messages of a change are (adapters.PrepareMessages):
// replies to inbound SMS. They are written at once, or none is.
func (s *Store) Enqueue(ctx context.Context, msgs []adapters.Message) error {
	ready, err := adapters.PrepareMessages(msgs, s.now())
	if err != nil {
		return fail(ctx, "enqueueing messages", err)
	}
	if err := writeMessages(ctx, s.db(ctx), ready); err != nil {
		return fail(ctx, "enqueueing messages", err)
	}
	return nil
}

// Bookings returns phone's live (not cancelled) bookings whose slot starts
// at or after from, soonest first.
func (s *Store) Bookings(ctx context.Context, phone string, from time.Time) ([]adapters.Booking, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT `+bookingColumns+` FROM bookings
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
func (s *Store) SetOptOut(ctx context.Context, phone string, out bool) error {
	if err := adapters.CheckOptOutPhone(phone); err != nil {
		return err
	}
	var err error
	if out {
		_, err = s.db(ctx).Exec(ctx, `INSERT INTO optouts (phone, at) VALUES ($1, $2)
			ON CONFLICT (phone) DO NOTHING`, phone, s.now())
	} else {
		_, err = s.db(ctx).Exec(ctx, `DELETE FROM optouts WHERE phone = $1`, phone)
	}
	if err != nil {
		return fail(ctx, "recording an opt-out", err)
	}
	return nil
}

// OptedOut reports whether phone sent STOP and not START since.
func (s *Store) OptedOut(ctx context.Context, phone string) (bool, error) {
	var out bool
	if err := s.db(ctx).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM optouts WHERE phone = $1)`, phone).Scan(&out); err != nil {
		return false, fail(ctx, "looking up an opt-out", err)
	}
	return out, nil
}

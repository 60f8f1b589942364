package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/reference"
)

// ticketSpace is how many tickets there are: five digits from 10000.
const ticketSpace = 90000

// RequestCallback implements adapters.Store. Tickets are six digits, five
// of a serial that wraps around (skipping tickets still open) and a Damm
// check digit, as in adapters.Memory.
func (s *Store) RequestCallback(ctx context.Context, cb adapters.Callback) (adapters.Callback, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return adapters.Callback{}, fail(ctx, "requesting a callback", err)
	}
	defer rollback(ctx, tx)
	for range ticketSpace {
		open, found, err := openCallback(ctx, tx, cb.Phone)
		if err != nil {
			return adapters.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if found {
			return open, nil
		}
		added, err := addCallback(ctx, tx, &cb)
		if err != nil {
			return adapters.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if added {
			if err := commit(ctx, tx); err != nil {
				return adapters.Callback{}, fail(ctx, "requesting a callback", err)
			}
			return cb, nil
		}
		// The ticket is open, or the phone just asked from elsewhere:
		// look again, unless every ticket is open.
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE closed IS NULL`).Scan(&n); err != nil {
			return adapters.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if n >= ticketSpace {
			break
		}
	}
	return adapters.Callback{}, guichet.Errorf(guichet.EUNAVAILABLE, "too many callback requests open")
}

// openCallback returns phone's open callback request, if there is one.
func openCallback(ctx context.Context, q querier, phone string) (adapters.Callback, bool, error) {
	rows, err := q.Query(ctx, `SELECT ticket, phone, reason, lang, channel, requested FROM callbacks
		WHERE phone = $1 AND closed IS NULL`, phone)
	if err != nil {
		return adapters.Callback{}, false, fmt.Errorf("finding the open request: %w", err)
	}
	cb, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (adapters.Callback, error) {
		var cb adapters.Callback
		err := row.Scan(&cb.Ticket, &cb.Phone, &cb.Reason, &cb.Lang, &cb.Channel, &cb.Requested)
		return cb, err
	})
	if notFound(err) {
		return adapters.Callback{}, false, nil
	}
	if err != nil {
		return adapters.Callback{}, false, fmt.Errorf("finding the open request: %w", err)
	}
	return cb, true, nil
}

// addCallback records cb with the next ticket, unless that ticket or a
// request of cb.Phone is open.
func addCallback(ctx context.Context, q querier, cb *adapters.Callback) (bool, error) {
	var serial int64
	if err := q.QueryRow(ctx, `SELECT nextval('tickets')`).Scan(&serial); err != nil {
		return false, fmt.Errorf("drawing a ticket: %w", err)
	}
	cb.Ticket = reference.FromNumber(uint64(10000+serial), 5)
	tag, err := q.Exec(ctx, `INSERT INTO callbacks (ticket, phone, reason, lang, channel, requested)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		cb.Ticket, cb.Phone, cb.Reason, cb.Lang, cb.Channel, cb.Requested)
	if err != nil {
		return false, fmt.Errorf("adding the request: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

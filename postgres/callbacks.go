package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/reference"
)

// ticketSpace is how many tickets there are: five digits from 10000.
const ticketSpace = 90000

// RequestCallback implements cases.CallbackStore. Tickets are six digits, five
// of a serial that wraps around (skipping tickets still open) and a Damm
// check digit, as in cases.Memory.
func (s *Cases) RequestCallback(ctx context.Context, cb cases.Callback) (cases.Callback, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return cases.Callback{}, fail(ctx, "requesting a callback", err)
	}
	defer rollback(ctx, tx)
	cb.TakenBy, cb.Taken, cb.ClosedBy, cb.Closed = "", time.Time{}, "", time.Time{}
	for range ticketSpace {
		open, found, err := openCallback(ctx, tx, cb.Phone)
		if err != nil {
			return cases.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if found {
			return open, nil
		}
		added, err := addCallback(ctx, tx, &cb)
		if err != nil {
			return cases.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if added {
			if err := commit(ctx, tx); err != nil {
				return cases.Callback{}, fail(ctx, "requesting a callback", err)
			}
			return cb, nil
		}
		// The ticket is open, or the phone just asked from elsewhere:
		// look again, unless every ticket is open.
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE closed IS NULL`).Scan(&n); err != nil {
			return cases.Callback{}, fail(ctx, "requesting a callback", err)
		}
		if n >= ticketSpace {
			break
		}
	}
	return cases.Callback{}, guichet.Errorf(guichet.EUNAVAILABLE, "too many callback requests open")
}

// openCallback returns phone's open callback request, if there is one.
func openCallback(ctx context.Context, q querier, phone string) (cases.Callback, bool, error) {
	rows, err := q.Query(ctx, `SELECT `+callbackColumns+` FROM callbacks
		WHERE phone = $1 AND closed IS NULL`, phone)
	if err != nil {
		return cases.Callback{}, false, fmt.Errorf("finding the open request: %w", err)
	}
	cb, err := pgx.CollectExactlyOneRow(rows, scanCallback)
	if notFound(err) {
		return cases.Callback{}, false, nil
	}
	if err != nil {
		return cases.Callback{}, false, fmt.Errorf("finding the open request: %w", err)
	}
	return cb, true, nil
}

// addCallback records cb with the next ticket, unless that ticket or a
// request of cb.Phone is open.
func addCallback(ctx context.Context, q querier, cb *cases.Callback) (bool, error) {
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

const callbackColumns = `ticket, phone, reason, lang, channel, requested, taken_by, taken, closed_by, closed`

func scanCallback(row pgx.CollectableRow) (cases.Callback, error) {
	var cb cases.Callback
	var taken, closed *time.Time
	err := row.Scan(&cb.Ticket, &cb.Phone, &cb.Reason, &cb.Lang, &cb.Channel, &cb.Requested, &cb.TakenBy, &taken, &cb.ClosedBy, &closed)
	if taken != nil {
		cb.Taken = *taken
	}
	if closed != nil {
		cb.Closed = *closed
	}
	return cb, err
}

// Callbacks returns, when open is true, the open callback requests, oldest
// first (by requested, then in the order they came); otherwise the latest
// closed ones, newest first (by closed). At most guichet.PageSize(limit).
func (s *Cases) Callbacks(ctx context.Context, open bool, limit int) ([]cases.Callback, error) {
	sql := `SELECT ` + callbackColumns + ` FROM callbacks WHERE closed IS NULL ORDER BY requested, id LIMIT $1`
	if !open {
		sql = `SELECT ` + callbackColumns + ` FROM callbacks WHERE closed IS NOT NULL ORDER BY closed DESC, id DESC LIMIT $1`
	}
	return s.callbacks(ctx, sql, guichet.PageSize(limit))
}

// CallbacksOf returns phone's callback requests, open and closed, newest
// first (by requested), at most cases.CallbacksPerPhone.
func (s *Cases) CallbacksOf(ctx context.Context, phone string) ([]cases.Callback, error) {
	return s.callbacks(ctx, `SELECT `+callbackColumns+` FROM callbacks
		WHERE phone = $1 ORDER BY requested DESC, id DESC LIMIT $2`, phone, cases.CallbacksPerPhone)
}

func (s *Cases) callbacks(ctx context.Context, sql string, args ...any) ([]cases.Callback, error) {
	rows, err := s.q().Query(ctx, sql, args...)
	if err != nil {
		return nil, fail(ctx, "listing callback requests", err)
	}
	cbs, err := pgx.CollectRows(rows, scanCallback)
	if err != nil {
		return nil, fail(ctx, "listing callback requests", err)
	}
	return cbs, nil
}

// TakeCallback gives the open request ticket to the operator who, at now:
// ENOTFOUND if no open request has that ticket, ECONFLICT (naming the
// operator) if another operator took it. Taking it again is no error and
// keeps the time it was first taken. One UPDATE takes it, so that of two
// operators taking it at once, one wins and the other is told who did.
func (s *Cases) TakeCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error) {
	if err := cases.CheckCallbackStep(who, now); err != nil {
		return cases.Callback{}, err
	}
	rows, err := s.q().Query(ctx, `UPDATE callbacks SET taken_by = $2, taken = coalesce(taken, $3)
		WHERE ticket = $1 AND closed IS NULL AND taken_by IN ('', $2)
		RETURNING `+callbackColumns, ticket, who, now)
	if err != nil {
		return cases.Callback{}, fail(ctx, "taking a callback request", err)
	}
	cb, err := pgx.CollectExactlyOneRow(rows, scanCallback)
	switch {
	case err == nil:
		return cb, nil
	case !notFound(err):
		return cases.Callback{}, fail(ctx, "taking a callback request", err)
	}
	// Not taken: there is no open request ticket, or another operator
	// holds it.
	rows, err = s.q().Query(ctx, `SELECT `+callbackColumns+` FROM callbacks
		WHERE ticket = $1 AND closed IS NULL`, ticket)
	if err != nil {
		return cases.Callback{}, fail(ctx, "taking a callback request", err)
	}
	cb, err = pgx.CollectExactlyOneRow(rows, scanCallback)
	switch {
	case notFound(err):
		return cases.Callback{}, fail(ctx, "taking a callback request", guichet.Errorf(guichet.ENOTFOUND, "no open callback request %s", ticket))
	case err != nil:
		return cases.Callback{}, fail(ctx, "taking a callback request", err)
	}
	return cases.Callback{}, fail(ctx, "taking a callback request", guichet.Errorf(guichet.ECONFLICT, "callback request %s is taken by %s", ticket, cb.TakenBy))
}

// CloseCallback closes the open request ticket, done by the operator who
// at now, whoever took it: ENOTFOUND if no open request has that ticket.
// Its phone may then request a callback again, and its ticket may be
// given again.
func (s *Cases) CloseCallback(ctx context.Context, ticket, who string, now time.Time) (cases.Callback, error) {
	if err := cases.CheckCallbackStep(who, now); err != nil {
		return cases.Callback{}, err
	}
	rows, err := s.q().Query(ctx, `UPDATE callbacks SET closed = $3, closed_by = $2
		WHERE ticket = $1 AND closed IS NULL
		RETURNING `+callbackColumns, ticket, who, now)
	if err != nil {
		return cases.Callback{}, fail(ctx, "closing a callback request", err)
	}
	cb, err := pgx.CollectExactlyOneRow(rows, scanCallback)
	switch {
	case notFound(err):
		return cases.Callback{}, fail(ctx, "closing a callback request", guichet.Errorf(guichet.ENOTFOUND, "no open callback request %s", ticket))
	case err != nil:
		return cases.Callback{}, fail(ctx, "closing a callback request", err)
	}
	return cb, nil
}

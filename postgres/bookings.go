package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// Offices implements cases.VisitStore.
func (s *Cases) Offices(ctx context.Context, service string) ([]cases.Office, error) {
	rows, err := s.q().Query(ctx, `SELECT id, name, services, capacity FROM offices
		WHERE $1 = '' OR cardinality(services) = 0 OR $1 = ANY(services)
		ORDER BY name, id`, service)
	if err != nil {
		return nil, fail(ctx, "listing offices", err)
	}
	offices, err := pgx.CollectRows(rows, scanOffice)
	if err != nil {
		return nil, fail(ctx, "listing offices", err)
	}
	return offices, nil
}

// Office implements cases.VisitStore.
func (s *Cases) Office(ctx context.Context, id string) (cases.Office, error) {
	rows, err := s.q().Query(ctx, `SELECT id, name, services, capacity FROM offices WHERE id = $1`, id)
	if err != nil {
		return cases.Office{}, fail(ctx, "finding office", err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOffice)
	if notFound(err) {
		return cases.Office{}, fail(ctx, "finding office", guichet.Errorf(guichet.ENOTFOUND, "office not found"))
	}
	if err != nil {
		return cases.Office{}, fail(ctx, "finding office", err)
	}
	return o, nil
}

func scanOffice(row pgx.CollectableRow) (cases.Office, error) {
	var o cases.Office
	if err := row.Scan(&o.ID, &o.Name, &o.Services, &o.Capacity); err != nil {
		return o, err
	}
	if len(o.Services) == 0 {
		o.Services = nil
	}
	return o, nil
}

// Taken implements cases.VisitStore.
func (s *Cases) Taken(ctx context.Context, office string, from, to time.Time) (map[int64]int, error) {
	rows, err := s.q().Query(ctx, `SELECT start, taken FROM slots
		WHERE office = $1 AND start >= $2 AND start < $3 AND taken > 0`, office, from, to)
	if err != nil {
		return nil, fail(ctx, "counting bookings", err)
	}
	defer rows.Close()
	taken := map[int64]int{}
	var (
		start time.Time
		n     int
	)
	_, err = pgx.ForEachRow(rows, []any{&start, &n}, func() error {
		taken[start.Unix()] = n
		return nil
	})
	if err != nil {
		return nil, fail(ctx, "counting bookings", err)
	}
	return taken, nil
}

// Book implements cases.VisitStore. A phone's live booking for a service is
// the one row of bookings_holding for them, and the slot's row counts its
// places: a booking that would break either fails on the database's
// constraint or lock, never on a count read earlier.
func (s *Cases) Book(ctx context.Context, b cases.Booking, capacity int, now time.Time, notify func(cases.Booking) []outbox.Message) (cases.Booking, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	defer rollback(ctx, tx)
	if b.Ref, err = nextRef(ctx, tx); err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	b.Cancelled = time.Time{}
	if err := takePlace(ctx, tx, b, min(capacity, cases.GatheringLimit), now); err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	msgs, err := outbox.Prepare(notifyOf(notify, b), s.now())
	if err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	if err := writeMessages(ctx, tx, msgs); err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	if err := commit(ctx, tx); err != nil {
		return cases.Booking{}, fail(ctx, "booking", err)
	}
	return b, nil
}

// takePlace records b in its slot, in one round trip: it releases the
// phone's booking for the service if its slot has started, makes sure the
// slot's row exists, adds b as the phone's live booking (ECONFLICT "already
// booked" if it holds one) and takes a place (ECONFLICT "slot full").
func takePlace(ctx context.Context, q querier, b cases.Booking, capacity int, now time.Time) error {
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE bookings SET holding = false
		WHERE phone = $1 AND service = $2 AND holding AND start <= $3`, b.Phone, b.Service, now)
	batch.Queue(`INSERT INTO slots (office, start) VALUES ($1, $2) ON CONFLICT DO NOTHING`, b.Office, b.Start)
	batch.Queue(`INSERT INTO bookings (ref, office, start, service, phone, lang, channel, booked)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, b.Ref, b.Office, b.Start, b.Service, b.Phone, b.Lang, b.Channel, b.Booked)
	batch.Queue(`UPDATE slots SET taken = taken + 1 WHERE office = $1 AND start = $2 AND taken < $3`, b.Office, b.Start, capacity)
	br := q.SendBatch(ctx, batch)
	defer br.Close()
	for i := range batch.Len() {
		tag, err := br.Exec()
		switch {
		case violates(err, "23503", "slots_office_fkey"):
			return guichet.Errorf(guichet.ENOTFOUND, "office not found")
		case violates(err, "23505", "bookings_holding"):
			return guichet.Errorf(guichet.ECONFLICT, "already booked")
		case err != nil:
			return err
		case i == batch.Len()-1 && tag.RowsAffected() == 0:
			return guichet.Errorf(guichet.ECONFLICT, "slot full")
		}
	}
	return br.Close()
}

// Cancel implements cases.VisitStore.
func (s *Cases) Cancel(ctx context.Context, ref, phone string, now time.Time) (cases.Booking, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return cases.Booking{}, fail(ctx, "cancelling", err)
	}
	defer rollback(ctx, tx)
	rows, err := tx.Query(ctx, `SELECT `+bookingColumns+` FROM bookings WHERE ref = $1 AND phone = $2 FOR UPDATE`, ref, phone)
	if err != nil {
		return cases.Booking{}, fail(ctx, "cancelling", err)
	}
	b, err := pgx.CollectExactlyOneRow(rows, scanBooking)
	switch {
	case notFound(err):
		return cases.Booking{}, fail(ctx, "cancelling", guichet.Errorf(guichet.ENOTFOUND, "booking not found"))
	case err != nil:
		return cases.Booking{}, fail(ctx, "cancelling", err)
	case !b.Cancelled.IsZero():
		return cases.Booking{}, fail(ctx, "cancelling", guichet.Errorf(guichet.ECONFLICT, "booking already cancelled"))
	case !b.Start.After(now):
		return cases.Booking{}, fail(ctx, "cancelling", guichet.Errorf(guichet.ECONFLICT, "booking is past"))
	}
	b.Cancelled = now
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE bookings SET cancelled = $2, holding = false WHERE ref = $1`, ref, now)
	batch.Queue(`UPDATE slots SET taken = taken - 1 WHERE office = $1 AND start = $2`, b.Office, b.Start)
	if err := run(ctx, tx, batch); err != nil {
		return cases.Booking{}, fail(ctx, "cancelling", err)
	}
	if err := commit(ctx, tx); err != nil {
		return cases.Booking{}, fail(ctx, "cancelling", err)
	}
	return b, nil
}

// Remind implements cases.VisitStore. Two processes reminding at once each
// take the bookings the other has not locked (SKIP LOCKED), and a booking
// that the other has reminded meanwhile no longer matches.
func (s *Cases) Remind(ctx context.Context, from, to time.Time, notify func(cases.Booking) []outbox.Message) (int, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	defer rollback(ctx, tx)
	rows, err := tx.Query(ctx, `SELECT `+bookingColumns+` FROM bookings
		WHERE start >= $1 AND start < $2 AND cancelled IS NULL AND NOT reminded
		ORDER BY start, ref FOR UPDATE SKIP LOCKED`, from, to)
	if err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	due, err := pgx.CollectRows(rows, scanBooking)
	if err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	if len(due) == 0 {
		return 0, nil
	}
	var (
		all  []outbox.Message
		refs = make([]string, 0, len(due))
	)
	for _, b := range due {
		all = append(all, notifyOf(notify, b)...)
		refs = append(refs, b.Ref)
	}
	msgs, err := outbox.Prepare(all, s.now())
	if err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE bookings SET reminded = true WHERE ref = ANY($1)`, refs)
	queueMessages(batch, msgs)
	if err := run(ctx, tx, batch); err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	if err := commit(ctx, tx); err != nil {
		return 0, fail(ctx, "reminding", err)
	}
	return len(due), nil
}

const bookingColumns = `ref, office, start, service, phone, lang, channel, booked, cancelled`

func scanBooking(row pgx.CollectableRow) (cases.Booking, error) {
	var (
		b         cases.Booking
		cancelled *time.Time
	)
	err := row.Scan(&b.Ref, &b.Office, &b.Start, &b.Service, &b.Phone, &b.Lang, &b.Channel, &b.Booked, &cancelled)
	if cancelled != nil {
		b.Cancelled = *cancelled
	}
	if err != nil {
		return b, fmt.Errorf("reading a booking: %w", err)
	}
	return b, nil
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

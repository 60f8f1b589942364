package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/reference"
)

// OpenCase implements cases.CaseStore.
func (s *Cases) OpenCase(ctx context.Context, c cases.Case, notify func(cases.Case) []outbox.Message) (cases.Case, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return cases.Case{}, fail(ctx, "opening case", err)
	}
	defer rollback(ctx, tx)
	c = cloneCase(c)
	if c.Ref, err = nextRef(ctx, tx); err != nil {
		return cases.Case{}, fail(ctx, "opening case", err)
	}
	msgs, err := outbox.Prepare(notifyOf(notify, cloneCase(c)), s.now())
	if err != nil {
		return cases.Case{}, fail(ctx, "opening case", err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO cases (ref, service, status, phone, lang, channel, data, opened, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.Ref, c.Service, c.Status, c.Phone, c.Lang, c.Channel, data(c.Data), c.Opened, c.Updated)
	b.Queue(insertEvents, eventArgs(c.Ref, c.History)...)
	queueMessages(b, msgs)
	if err := run(ctx, tx, b); err != nil {
		return cases.Case{}, fail(ctx, "opening case", err)
	}
	if err := commit(ctx, tx); err != nil {
		return cases.Case{}, fail(ctx, "opening case", err)
	}
	return c, nil
}

// MoveCase implements cases.CaseStore. The case's row stays locked from
// check to commit, so that a move is checked against the status it
// changes.
func (s *Cases) MoveCase(ctx context.Context, ref string, m cases.Move, check func(cases.Case) error, notify func(cases.Case) []outbox.Message) (cases.Case, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return cases.Case{}, fail(ctx, "moving case", err)
	}
	defer rollback(ctx, tx)
	c, err := readCase(ctx, tx, ref, true)
	if err != nil {
		return cases.Case{}, fail(ctx, "moving case", err)
	}
	if check != nil {
		if err := check(cloneCase(c)); err != nil {
			return cases.Case{}, err
		}
	}
	ev := cases.Event{Status: m.Status, At: m.At, Channel: m.Channel, Who: m.Who, Note: m.Note}
	if c.Status != m.Status {
		c.Status, c.Updated = m.Status, m.At
	}
	c.History = append(c.History, ev)
	msgs, err := outbox.Prepare(notifyOf(notify, cloneCase(c)), s.now())
	if err != nil {
		return cases.Case{}, fail(ctx, "moving case", err)
	}
	b := &pgx.Batch{}
	b.Queue(insertEvents, eventArgs(ref, []cases.Event{ev})...)
	// updated is when the status last changed: a note (same status) leaves it.
	b.Queue(`UPDATE cases SET status = $2, updated = $3 WHERE ref = $1 AND status <> $2`, ref, m.Status, m.At)
	queueMessages(b, msgs)
	if err := run(ctx, tx, b); err != nil {
		return cases.Case{}, fail(ctx, "moving case", err)
	}
	if err := commit(ctx, tx); err != nil {
		return cases.Case{}, fail(ctx, "moving case", err)
	}
	return c, nil
}

// Case implements cases.CaseStore.
func (s *Cases) Case(ctx context.Context, ref string) (cases.Case, error) {
	c, err := readCase(ctx, s.q(), ref, false)
	if err != nil {
		return cases.Case{}, fail(ctx, "finding case", err)
	}
	return c, nil
}

// Cases implements cases.CaseStore.
func (s *Cases) Cases(ctx context.Context, f cases.CaseFilter) ([]cases.Case, error) {
	services := f.Services
	if services == nil {
		services = []string{}
	}
	rows, err := s.q().Query(ctx, `WITH c AS (
			SELECT * FROM cases
			WHERE ref > $1 AND (cardinality($2::text[]) = 0 OR service = ANY($2))
				AND ($3 = '' OR status = $3) AND ($4 = '' OR phone = $4)
			ORDER BY ref LIMIT $5)
		SELECT `+caseColumns+` FROM c LEFT JOIN case_events e ON e.ref = c.ref ORDER BY c.ref, e.id`,
		f.After, services, f.Status, f.Phone, guichet.PageSize(f.Limit))
	if err != nil {
		return nil, fail(ctx, "listing cases", err)
	}
	found, err := scanCases(rows)
	if err != nil {
		return nil, fail(ctx, "listing cases", err)
	}
	return found, nil
}

// caseColumns are a case's columns (c) and one of its events' (e), as
// scanCases reads them.
const caseColumns = `c.ref, c.service, c.status, c.phone, c.lang, c.channel, c.data, c.opened, c.updated,
	e.status, e.at, e.channel, e.who, e.note`

// readCase reads the case ref and its history; with lock, it locks the
// case's row first, so that the history read after it is the latest.
func readCase(ctx context.Context, q querier, ref string, lock bool) (cases.Case, error) {
	b := &pgx.Batch{}
	if lock {
		b.Queue(`SELECT FROM cases WHERE ref = $1 FOR UPDATE`, ref)
	}
	b.Queue(`SELECT `+caseColumns+` FROM cases c LEFT JOIN case_events e ON e.ref = c.ref
		WHERE c.ref = $1 ORDER BY e.id`, ref)
	br := q.SendBatch(ctx, b)
	defer br.Close()
	if lock {
		if _, err := br.Exec(); err != nil {
			return cases.Case{}, fmt.Errorf("locking case: %w", err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		return cases.Case{}, err
	}
	found, err := scanCases(rows)
	if err != nil {
		return cases.Case{}, err
	}
	if len(found) == 0 {
		return cases.Case{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	if err := br.Close(); err != nil {
		return cases.Case{}, err
	}
	return found[0], nil
}

// scanCases reads rows of caseColumns, a row per event, ordered by case.
func scanCases(rows pgx.Rows) ([]cases.Case, error) {
	defer rows.Close()
	var (
		found []cases.Case
		c     cases.Case
		data  []byte
		ev    struct {
			status, channel, who, note *string
			at                         *time.Time
		}
	)
	for rows.Next() {
		if err := rows.Scan(&c.Ref, &c.Service, &c.Status, &c.Phone, &c.Lang, &c.Channel, &data, &c.Opened, &c.Updated,
			&ev.status, &ev.at, &ev.channel, &ev.who, &ev.note); err != nil {
			return nil, fmt.Errorf("reading a case: %w", err)
		}
		if n := len(found); n == 0 || found[n-1].Ref != c.Ref {
			c.Data, c.History = nil, nil
			if data != nil {
				if err := json.Unmarshal(data, &c.Data); err != nil {
					return nil, fmt.Errorf("reading the data of case %s: %w", c.Ref, err)
				}
			}
			found = append(found, c)
		}
		if ev.status != nil {
			last := &found[len(found)-1]
			last.History = append(last.History, cases.Event{Status: *ev.status, At: *ev.at, Channel: *ev.channel, Who: *ev.who, Note: *ev.note})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	return found, nil
}

// insertEvents adds a case's events, in order; eventArgs makes its
// arguments.
const insertEvents = `INSERT INTO case_events (ref, status, at, channel, who, note)
	SELECT $1, e.status, e.at, e.channel, e.who, e.note
	FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
		WITH ORDINALITY AS e(status, at, channel, who, note, n)
	ORDER BY e.n`

func eventArgs(ref string, events []cases.Event) []any {
	n := len(events)
	status, at, channel, who, note := make([]string, n), make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		status[i], at[i], channel[i], who[i], note[i] = e.Status, e.At, e.Channel, e.Who, e.Note
	}
	return []any{ref, status, at, channel, who, note}
}

// nextRef draws the reference of a new case or booking.
func nextRef(ctx context.Context, q querier) (string, error) {
	var serial int64
	if err := q.QueryRow(ctx, `SELECT nextval('serials')`).Scan(&serial); err != nil {
		return "", fmt.Errorf("drawing a reference: %w", err)
	}
	return reference.FromNumber(uint64(serial), 7), nil
}

// run runs a batch's statements, all of which return no rows, and stops
// at the first that fails.
func run(ctx context.Context, q querier, b *pgx.Batch) error {
	br := q.SendBatch(ctx, b)
	for range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
	}
	return br.Close()
}

// data is a case's data as a jsonb argument: NULL for none, so that a
// case without data reads back without.
func data(d map[string]string) any {
	if d == nil {
		return nil
	}
	return d
}

func cloneCase(c cases.Case) cases.Case {
	c.Data = maps.Clone(c.Data)
	c.History = slices.Clone(c.History)
	return c
}

// notifyOf returns notify's messages about v, none if notify is nil.
func notifyOf[T any](notify func(T) []outbox.Message, v T) []outbox.Message {
	if notify == nil {
		return nil
	}
	return notify(v)
}

// notFound reports whether err is pgx's "no rows".
func notFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

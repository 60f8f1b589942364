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
	"github.com/guichet/guichet/adapters"
	"github.com/guichet/guichet/reference"
)

// OpenCase implements adapters.Store.
func (s *Store) OpenCase(ctx context.Context, c adapters.Case, notify func(adapters.Case) []adapters.Message) (adapters.Case, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return adapters.Case{}, fail(ctx, "opening case", err)
	}
	defer rollback(ctx, tx)
	c = cloneCase(c)
	if c.Ref, err = nextRef(ctx, tx); err != nil {
		return adapters.Case{}, fail(ctx, "opening case", err)
	}
	msgs, err := adapters.PrepareMessages(notifyOf(notify, cloneCase(c)), s.now())
	if err != nil {
		return adapters.Case{}, fail(ctx, "opening case", err)
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO cases (ref, service, status, phone, lang, channel, data, opened, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.Ref, c.Service, c.Status, c.Phone, c.Lang, c.Channel, data(c.Data), c.Opened, c.Updated)
	b.Queue(insertEvents, eventArgs(c.Ref, c.History)...)
	queueMessages(b, msgs)
	if err := run(ctx, tx, b); err != nil {
		return adapters.Case{}, fail(ctx, "opening case", err)
	}
	if err := commit(ctx, tx); err != nil {
		return adapters.Case{}, fail(ctx, "opening case", err)
	}
	return c, nil
}

// MoveCase implements adapters.Store. The case's row stays locked from
// check to commit, so that a move is checked against the status it
// changes.
func (s *Store) MoveCase(ctx context.Context, ref string, m adapters.Move, check func(adapters.Case) error, notify func(adapters.Case) []adapters.Message) (adapters.Case, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return adapters.Case{}, fail(ctx, "moving case", err)
	}
	defer rollback(ctx, tx)
	c, err := readCase(ctx, tx, ref, true)
	if err != nil {
		return adapters.Case{}, fail(ctx, "moving case", err)
	}
	if check != nil {
		if err := check(cloneCase(c)); err != nil {
			return adapters.Case{}, err
		}
	}
	ev := adapters.Event{Status: m.Status, At: m.At, Channel: m.Channel, Who: m.Who, Note: m.Note}
	if c.Status != m.Status {
		c.Status, c.Updated = m.Status, m.At
	}
	c.History = append(c.History, ev)
	msgs, err := adapters.PrepareMessages(notifyOf(notify, cloneCase(c)), s.now())
	if err != nil {
		return adapters.Case{}, fail(ctx, "moving case", err)
	}
	b := &pgx.Batch{}
	b.Queue(insertEvents, eventArgs(ref, []adapters.Event{ev})...)
	// updated is when the status last changed: a note (same status) leaves it.
	b.Queue(`UPDATE cases SET status = $2, updated = $3 WHERE ref = $1 AND status <> $2`, ref, m.Status, m.At)
	queueMessages(b, msgs)
	if err := run(ctx, tx, b); err != nil {
		return adapters.Case{}, fail(ctx, "moving case", err)
	}
	if err := commit(ctx, tx); err != nil {
		return adapters.Case{}, fail(ctx, "moving case", err)
	}
	return c, nil
}

// Case implements adapters.Store.
func (s *Store) Case(ctx context.Context, ref string) (adapters.Case, error) {
	c, err := readCase(ctx, s.db(ctx), ref, false)
	if err != nil {
		return adapters.Case{}, fail(ctx, "finding case", err)
	}
	return c, nil
}

// Cases implements adapters.Store.
func (s *Store) Cases(ctx context.Context, f adapters.CaseFilter) ([]adapters.Case, error) {
	services := f.Services
	if services == nil {
		services = []string{}
	}
	rows, err := s.db(ctx).Query(ctx, `WITH c AS (
			SELECT * FROM cases
			WHERE ref > $1 AND (cardinality($2::text[]) = 0 OR service = ANY($2))
				AND ($3 = '' OR status = $3) AND ($4 = '' OR phone = $4)
			ORDER BY ref LIMIT $5)
		SELECT `+caseColumns+` FROM c LEFT JOIN case_events e ON e.ref = c.ref ORDER BY c.ref, e.id`,
		f.After, services, f.Status, f.Phone, adapters.PageSize(f.Limit))
	if err != nil {
		return nil, fail(ctx, "listing cases", err)
	}
	cases, err := scanCases(rows)
	if err != nil {
		return nil, fail(ctx, "listing cases", err)
	}
	return cases, nil
}

// caseColumns are a case's columns (c) and one of its events' (e), as
// scanCases reads them.
const caseColumns = `c.ref, c.service, c.status, c.phone, c.lang, c.channel, c.data, c.opened, c.updated,
	e.status, e.at, e.channel, e.who, e.note`

// readCase reads the case ref and its history; with lock, it locks the
// case's row first, so that the history read after it is the latest.
func readCase(ctx context.Context, q querier, ref string, lock bool) (adapters.Case, error) {
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
			return adapters.Case{}, fmt.Errorf("locking case: %w", err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		return adapters.Case{}, err
	}
	cases, err := scanCases(rows)
	if err != nil {
		return adapters.Case{}, err
	}
	if len(cases) == 0 {
		return adapters.Case{}, guichet.Errorf(guichet.ENOTFOUND, "case not found")
	}
	if err := br.Close(); err != nil {
		return adapters.Case{}, err
	}
	return cases[0], nil
}

// scanCases reads rows of caseColumns, a row per event, ordered by case.
func scanCases(rows pgx.Rows) ([]adapters.Case, error) {
	defer rows.Close()
	var (
		cases []adapters.Case
		c     adapters.Case
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
		if n := len(cases); n == 0 || cases[n-1].Ref != c.Ref {
			c.Data, c.History = nil, nil
			if data != nil {
				if err := json.Unmarshal(data, &c.Data); err != nil {
					return nil, fmt.Errorf("reading the data of case %s: %w", c.Ref, err)
				}
			}
			cases = append(cases, c)
		}
		if ev.status != nil {
			last := &cases[len(cases)-1]
			last.History = append(last.History, adapters.Event{Status: *ev.status, At: *ev.at, Channel: *ev.channel, Who: *ev.who, Note: *ev.note})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	return cases, nil
}

// insertEvents adds a case's events, in order; eventArgs makes its
// arguments.
const insertEvents = `INSERT INTO case_events (ref, status, at, channel, who, note)
	SELECT $1, e.status, e.at, e.channel, e.who, e.note
	FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
		WITH ORDINALITY AS e(status, at, channel, who, note, n)
	ORDER BY e.n`

func eventArgs(ref string, events []adapters.Event) []any {
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

func cloneCase(c adapters.Case) adapters.Case {
	c.Data = maps.Clone(c.Data)
	c.History = slices.Clone(c.History)
	return c
}

// notifyOf returns notify's messages about v, none if notify is nil.
func notifyOf[T any](notify func(T) []adapters.Message, v T) []adapters.Message {
	if notify == nil {
		return nil
	}
	return notify(v)
}

// notFound reports whether err is pgx's "no rows".
func notFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

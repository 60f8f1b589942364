package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/guichet/guichet/outbox"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/citizens"
)

// Citizens exports and erases what the database holds about a number.
type Citizens struct{ conn }

// Citizens returns the store of citizens' rights of access and erasure.
func (db *DB) Citizens() *Citizens { return &Citizens{conn{DB: db}} }

func checkPhone(ph string) error {
	if len(ph) < 8 || ph[0] != '+' {
		return guichet.Errorf(guichet.EINVALID, "a phone number in E.164 (+237…)")
	}
	return nil
}

// Export returns everything held about phone, read in one snapshot, and
// records in the audit log that by exported it.
func (s *Citizens) Export(ctx context.Context, phone, by string) (citizens.Record, error) {
	if err := checkPhone(phone); err != nil {
		return citizens.Record{}, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return citizens.Record{}, fail(ctx, "exporting a citizen", err)
	}
	defer rollback(ctx, tx)
	now := s.now().UTC()
	r, err := export(ctx, tx, phone)
	if err != nil {
		return citizens.Record{}, fail(ctx, "exporting a citizen", err)
	}
	r.Exported = now
	if err := audit(ctx, tx, now, by, "citizen.export", phone, fmt.Sprintf("%d cases, %d bookings, %d SMS, %d sessions, %d callbacks, %d campaigns",
		len(r.Cases), len(r.Bookings), len(r.Messages), len(r.Sessions), len(r.Callbacks), len(r.Campaigns))); err != nil {
		return citizens.Record{}, fail(ctx, "exporting a citizen", err)
	}
	if err := commit(ctx, tx); err != nil {
		return citizens.Record{}, fail(ctx, "exporting a citizen", err)
	}
	return r, nil
}

func audit(ctx context.Context, q querier, at time.Time, by, action, subject, detail string) error {
	_, err := q.Exec(ctx, `INSERT INTO audit_log (at, username, action, subject, detail) VALUES ($1, $2, $3, $4, $5)`,
		at, by, action, subject, detail)
	return err
}

func export(ctx context.Context, q querier, phone string) (citizens.Record, error) {
	r := citizens.Record{Phone: phone, Cases: []citizens.Case{}, Bookings: []citizens.Booking{}, Messages: []citizens.Message{},
		Sessions: []citizens.Session{}, Callbacks: []citizens.Callback{}, Campaigns: []citizens.Campaign{}}
	if err := q.QueryRow(ctx, `SELECT coalesce((SELECT lang FROM languages WHERE phone = $1), ''),
		(SELECT at FROM optouts WHERE phone = $1)`, phone).Scan(&r.Language, &r.OptedOut); err != nil {
		return r, err
	}
	if r.OptedOut != nil {
		t := r.OptedOut.UTC()
		r.OptedOut = &t
	}
	rows, _ := q.Query(ctx, `SELECT c.ref, c.service, c.status, c.lang, c.channel, coalesce(c.data, '{}'), c.opened, c.updated,
			coalesce((SELECT json_agg(json_build_object('status', e.status, 'at', e.at, 'channel', e.channel, 'who', e.who, 'note', e.note) ORDER BY e.id)
				FROM case_events e WHERE e.ref = c.ref), '[]')
		FROM cases c WHERE c.phone = $1 ORDER BY c.ref`, phone)
	var err error
	r.Cases, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Case, error) {
		var c citizens.Case
		var data, history []byte
		if err := row.Scan(&c.Ref, &c.Service, &c.Status, &c.Lang, &c.Channel, &data, &c.Opened, &c.Updated, &history); err != nil {
			return c, err
		}
		c.Opened, c.Updated = c.Opened.UTC(), c.Updated.UTC()
		if err := json.Unmarshal(data, &c.Data); err != nil {
			return c, err
		}
		if err := json.Unmarshal(history, &c.History); err != nil {
			return c, err
		}
		for i := range c.History {
			c.History[i].At = c.History[i].At.UTC()
		}
		return c, nil
	})
	if err != nil {
		return r, fmt.Errorf("cases: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT ref, service, office, start, booked, cancelled FROM bookings WHERE phone = $1 ORDER BY booked, ref`, phone)
	r.Bookings, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Booking, error) {
		var b citizens.Booking
		err := row.Scan(&b.Ref, &b.Service, &b.Office, &b.Start, &b.Booked, &b.Cancelled)
		b.Start, b.Booked = b.Start.UTC(), b.Booked.UTC()
		if b.Cancelled != nil {
			t := b.Cancelled.UTC()
			b.Cancelled = &t
		}
		return b, err
	})
	if err != nil {
		return r, fmt.Errorf("bookings: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT o.id, o.kind, o.lang, o.body, o.case_ref, o.created, `+messageStatus+` FROM `+messageFrom+` WHERE o.phone = $1 ORDER BY o.id`, phone)
	r.Messages, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Message, error) {
		var m citizens.Message
		err := row.Scan(&m.ID, &m.Kind, &m.Lang, &m.Body, &m.Case, &m.Created, &m.Status)
		m.Created = m.Created.UTC()
		// A sign-in code is the citizen's key, not their data: whoever
		// reads the export (an administrator) sees that it was sent.
		m.Body = outbox.Hidden(outbox.Message{Kind: m.Kind, Body: m.Body})
		return m, err
	})
	if err != nil {
		return r, fmt.Errorf("messages: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT at, operator, service, node, result, hops FROM ussd_sessions WHERE phone = $1 ORDER BY at, id`, phone)
	r.Sessions, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Session, error) {
		var x citizens.Session
		err := row.Scan(&x.At, &x.Operator, &x.Service, &x.Node, &x.Result, &x.Hops)
		x.At = x.At.UTC()
		return x, err
	})
	if err != nil {
		return r, fmt.Errorf("sessions: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT ticket, reason, requested, closed FROM callbacks WHERE phone = $1 ORDER BY requested, id`, phone)
	r.Callbacks, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Callback, error) {
		var c citizens.Callback
		err := row.Scan(&c.Ticket, &c.Reason, &c.Requested, &c.Closed)
		c.Requested = c.Requested.UTC()
		if c.Closed != nil {
			t := c.Closed.UTC()
			c.Closed = &t
		}
		return c, err
	})
	if err != nil {
		return r, fmt.Errorf("callbacks: %w", err)
	}
	rows, _ = q.Query(ctx, `SELECT c.id, c.name, c.owner, c.state, n.message_id, n.skipped
		FROM campaign_numbers n JOIN campaigns c ON c.id = n.campaign_id WHERE n.phone = $1 ORDER BY c.id`, phone)
	r.Campaigns, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (citizens.Campaign, error) {
		var c citizens.Campaign
		var msg *int64
		err := row.Scan(&c.ID, &c.Name, &c.Owner, &c.Campaign, &msg, &c.Skipped)
		switch {
		case msg != nil:
			c.State, c.Message = "queued", *msg
		case c.Skipped != "":
			c.State = "skipped"
		default:
			c.State = "waiting"
		}
		return c, err
	})
	if err != nil {
		return r, fmt.Errorf("campaigns: %w", err)
	}
	return r, nil
}

// Erase removes phone's personal data in one transaction, keeping under
// a pseudonym what the administration must keep (see citizens.Erasure),
// and records in the audit log, under the pseudonym, that by erased it.
// The earlier entries of the audit log about phone are filed under the
// pseudonym too: the trail stays whole, without the number.
func (s *Citizens) Erase(ctx context.Context, phone, by string) (citizens.Erasure, error) {
	if err := checkPhone(phone); err != nil {
		return citizens.Erasure{}, err
	}
	b := make([]byte, 8)
	rand.Read(b)
	e := citizens.Erasure{Pseudonym: Pseudonym + hex.EncodeToString(b)}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return e, fail(ctx, "erasing a citizen", err)
	}
	defer rollback(ctx, tx)
	now := s.now()
	p := e.Pseudonym
	for _, st := range []struct {
		n    *int64
		sql  string
		args []any
	}{
		{nil, `UPDATE case_events e SET who = CASE WHEN e.who = $1 THEN $2 ELSE e.who END, note = replace(e.note, $1, $2)
			FROM cases c WHERE c.ref = e.ref AND c.phone = $1 AND (e.who = $1 OR e.note LIKE '%' || $1 || '%')`, nil},
		{&e.Cases, `UPDATE cases SET phone = $2, erased = $3,
			data = (SELECT jsonb_object_agg(k, to_jsonb('` + Erased + `'::text)) FROM jsonb_object_keys(data) AS k)
			WHERE phone = $1`, []any{phone, p, now}},
		{&e.Bookings, `UPDATE bookings SET phone = $2 WHERE phone = $1`, nil},
		// A place in a campaign's audience stays, under the pseudonym, so
		// that the campaign's figures still count what was uploaded and
		// the SMS it got (kept below under the same pseudonym); a number
		// still waiting is skipped as erased, and no SMS goes to it.
		// Before the outbox: a campaign's step that is queueing the
		// number holds its row, so this waits for the step's commit and
		// the outbox's statement below then sees the SMS it queued.
		{&e.Campaigns, `UPDATE campaign_numbers SET phone = $2,
			skipped = CASE WHEN message_id IS NULL AND skipped = '' THEN $3 ELSE skipped END,
			held = CASE WHEN message_id IS NULL AND skipped = '' THEN NULL ELSE held END
			WHERE phone = $1`, []any{phone, p, campaigns.Erased}},
		// A message still queued is not sent to a number erased.
		{&e.Messages, `WITH q AS (DELETE FROM outbox_queue WHERE phone = $1 RETURNING id, attempts)
			UPDATE outbox SET phone = $2, body = '',
			attempts = coalesce((SELECT q.attempts FROM q WHERE q.id = outbox.id), attempts),
			status = CASE WHEN queued THEN 'failed' ELSE status END,
			reason = CASE WHEN queued THEN 'erased' ELSE reason END,
			done = CASE WHEN queued THEN $3 ELSE done END
			WHERE phone = $1`, []any{phone, p, now}},
		{&e.Sessions, `UPDATE ussd_sessions SET phone = $2 WHERE phone = $1`, nil},
		{&e.Callbacks, `DELETE FROM callbacks WHERE phone = $1`, []any{phone}},
		{&e.Audit, `UPDATE audit_log SET subject = CASE WHEN subject = $1 THEN $2 ELSE subject END, detail = replace(detail, $1, $2),
				shown = array_replace(shown, $1, $2)
			WHERE subject = $1 OR detail LIKE '%' || $1 || '%' OR shown @> ARRAY[$1::text]`, nil},
	} {
		args := st.args
		if args == nil {
			args = []any{phone, p}
		}
		tag, err := tx.Exec(ctx, st.sql, args...)
		if err != nil {
			return e, fail(ctx, "erasing a citizen", err)
		}
		if st.n != nil {
			*st.n = tag.RowsAffected()
		}
	}
	tag, err := tx.Exec(ctx, `DELETE FROM languages WHERE phone = $1`, phone)
	if err != nil {
		return e, fail(ctx, "erasing a citizen", err)
	}
	e.Language = tag.RowsAffected() > 0
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM optouts WHERE phone = $1)`, phone).Scan(&e.OptedOut); err != nil {
		return e, fail(ctx, "erasing a citizen", err)
	}
	if err := audit(ctx, tx, now, by, "citizen.erase", p, fmt.Sprintf("%d cases, %d bookings, %d SMS, %d sessions, %d callbacks, %d campaigns, %d audit entries",
		e.Cases, e.Bookings, e.Messages, e.Sessions, e.Callbacks, e.Campaigns, e.Audit)); err != nil {
		return e, fail(ctx, "erasing a citizen", err)
	}
	if err := commit(ctx, tx); err != nil {
		return e, fail(ctx, "erasing a citizen", err)
	}
	return e, nil
}

package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/batch"
	"github.com/guichet/guichet/outbox"
)

// send is one SendOnce, waiting for its batch.
type send struct {
	once   string // owner|key; "" sends every time
	msgs   []outbox.Message
	answer func(ids []int64) ([]byte, error)
}

// SendOnce writes msgs to the outbox and records answer, given their ids in
// order, under owner's idempotency key, durably, then returns it: a key
// already recorded (or being recorded: the second waits for the first)
// writes nothing and returns what was recorded; an empty key sends every
// time. Sends that come at once share a transaction (a group commit, a
// couple of milliseconds at most): at a thousand requests a second, one
// commit serves dozens.
func (s *Outbox) SendOnce(ctx context.Context, owner, key string, msgs []outbox.Message, answer func(ids []int64) ([]byte, error)) ([]byte, error) {
	ready, err := outbox.Prepare(msgs, s.now())
	if err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	sd := send{msgs: ready, answer: answer}
	if key != "" {
		sd.once = owner + "|" + key // an owner is a service file's word: no "|"
	}
	s.DB.sendsOnce.Do(func() {
		s.DB.sends = &batch.Group[send, []byte]{Every: 2 * time.Millisecond, Max: 100, Run: s.DB.sendAll}
	})
	// Once in a batch, a send commits whatever its caller does: it waits
	// for the answer even if its request is gone, so that nobody is told
	// "failed" of SMS that were written.
	return s.DB.sends.Do(context.WithoutCancel(ctx), sd)
}

// sendAll writes a batch of sends in one transaction and returns each
// one's answer: the keys first (the new ones claimed, the old ones'
// answers read), then every new send's messages, then their answers, each
// step one round trip.
func (db *DB) sendAll(ctx context.Context, sends []send) ([][]byte, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: sending messages: %w", err)
	}
	defer tx.Rollback(ctx)
	now := db.now()
	out := make([][]byte, len(sends))
	fresh := make([]bool, len(sends))
	first := map[string]int{} // a key twice in the batch: the later waits for the first's answer
	// 1. Claim the new keys; read the answers of the old ones.
	b := &pgx.Batch{}
	var claimed []int
	for i, sd := range sends {
		if sd.once == "" {
			fresh[i] = true
			continue
		}
		if _, ok := first[sd.once]; ok {
			continue
		}
		first[sd.once] = i
		claimed = append(claimed, i)
	}
	// Keys in one order for every batch: two batches claiming the same
	// keys wait for each other, never deadlock.
	slices.SortFunc(claimed, func(a, b int) int { return strings.Compare(sends[a].once, sends[b].once) })
	for _, i := range claimed {
		sd := sends[i]
		b.Queue(`WITH k AS (INSERT INTO once_results (op, key, result, at) VALUES ('api.messages', $1, 'null', $2)
				ON CONFLICT DO NOTHING RETURNING 1)
			SELECT EXISTS (SELECT 1 FROM k), coalesce((SELECT result::text FROM once_results WHERE op = 'api.messages' AND key = $1), '')`,
			sd.once, now)
	}
	if len(claimed) > 0 {
		br := tx.SendBatch(ctx, b)
		for _, i := range claimed {
			var isNew bool
			var was string
			if err := br.QueryRow().Scan(&isNew, &was); err != nil {
				br.Close()
				return nil, fmt.Errorf("postgres: claiming an idempotency key: %w", err)
			}
			fresh[i] = isNew
			if !isNew {
				out[i] = []byte(was)
			}
		}
		if err := br.Close(); err != nil {
			return nil, fmt.Errorf("postgres: claiming idempotency keys: %w", err)
		}
		// A key another transaction was claiming when the statement
		// began: its insert waited for that one's commit, but the
		// statement's snapshot predates it. Read the answer again.
		for _, i := range claimed {
			if fresh[i] || (len(out[i]) > 0 && string(out[i]) != "null") {
				continue
			}
			var was string
			if err := tx.QueryRow(ctx, `SELECT result::text FROM once_results WHERE op = 'api.messages' AND key = $1`, sends[i].once).Scan(&was); err != nil {
				return nil, fmt.Errorf("postgres: reading an answer sent before: %w", err)
			}
			out[i] = []byte(was)
		}
	}
	// 2. The new sends' messages.
	b = &pgx.Batch{}
	var writing []int
	for i, sd := range sends {
		if fresh[i] && len(sd.msgs) > 0 {
			writing = append(writing, i)
			b.Queue(insertMessages+` RETURNING id`, messageArgs(sd.msgs)...)
		}
	}
	ids := make([][]int64, len(sends))
	if len(writing) > 0 {
		br := tx.SendBatch(ctx, b)
		for _, i := range writing {
			rows, err := br.Query()
			if err != nil {
				br.Close()
				return nil, fmt.Errorf("postgres: writing messages: %w", err)
			}
			if ids[i], err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
				br.Close()
				return nil, fmt.Errorf("postgres: writing messages: %w", err)
			}
			slices.Sort(ids[i]) // identities are given in the order written
		}
		if err := br.Close(); err != nil {
			return nil, fmt.Errorf("postgres: writing messages: %w", err)
		}
	}
	// 3. Their answers, recorded under their keys.
	b = &pgx.Batch{}
	for i, sd := range sends {
		if !fresh[i] {
			continue
		}
		body, err := sd.answer(ids[i])
		if err != nil {
			return nil, err
		}
		out[i] = body
		if sd.once != "" {
			b.Queue(`UPDATE once_results SET result = $2 WHERE op = 'api.messages' AND key = $1`, sd.once, string(body))
		}
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, fmt.Errorf("postgres: recording answers: %w", err)
		}
	}
	for i, sd := range sends {
		if out[i] == nil && sd.once != "" {
			out[i] = out[first[sd.once]] // the same key twice in one batch
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: sending messages: %w", err)
	}
	return out, nil
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
		WHERE owner = $1 AND owner <> '' AND id > $2 AND (coalesce(cardinality($3::text[]), 0) = 0 OR status = ANY($3))
		ORDER BY id LIMIT $4`, owner, after, statuses, guichet.PageSize(limit))
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fail(ctx, "listing messages", err)
	}
	return msgs, nil
}

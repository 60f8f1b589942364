package postgres

import (
	"context"
	"errors"
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
	s      outbox.Send
	answer func(placed []outbox.Placed) ([]byte, error)
}

// sent is a send's answer, or why it wrote nothing.
type sent struct {
	body []byte
	err  error
}

// SendOnce writes s to the outbox (see outbox.Send: the numbers that sent
// STOP skipped, each other in their language; nothing if s's key is no
// longer in force, EUNAUTHORIZED) and records answer, given what became
// of each number, under owner's idempotency key, durably, then returns
// it: a key already recorded (or being recorded: the second waits for
// the first) writes nothing and returns what was recorded; an empty key
// sends every time. Sends that come at once share a transaction and one
// statement (a group commit, a couple of milliseconds at most): at a
// thousand requests a second, one commit and one insert serve dozens.
func (s *Outbox) SendOnce(ctx context.Context, owner, key string, snd outbox.Send, answer func(placed []outbox.Placed) ([]byte, error)) ([]byte, error) {
	if err := outbox.CheckSend(snd); err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	if snd.Created.IsZero() {
		snd.Created = s.now()
	}
	sd := send{s: snd, answer: answer}
	if key != "" {
		sd.once = owner + "|" + key // an owner is a service file's word: no "|"
	}
	s.DB.sendsOnce.Do(func() {
		s.DB.sends = &batch.Group[send, sent]{Every: 2 * time.Millisecond, Max: 100, Run: s.DB.sendAll}
	})
	// Once in a batch, a send commits whatever its caller does: it waits
	// for the answer even if its request is gone, so that nobody is told
	// "failed" of SMS that were written.
	r, err := s.DB.sends.Do(context.WithoutCancel(ctx), sd)
	if err == nil {
		err = r.err
	}
	if err != nil {
		return nil, fail(ctx, "sending messages", err)
	}
	return r.body, nil
}

// writeSends writes the messages of a batch's sends in one statement:
// each number looked up (STOP; its language: the one the send knows, else
// the one chosen on the phone, else its latest case's), each send's
// key checked, the messages inserted in order. $1–$3 are the numbers of
// every send, the language known for each and its send (from 1); $4–$12
// each send's fields. It answers rows (what, n, opted out, language, ids):
// what 0 for each number of a send written (n its place in $1, from 1),
// 1 once, the ids of the messages written in ids, 2 for each send refused
// for its key (n its place, from 1).
const writeSends = `WITH s AS (
		SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[],
				$11::boolean[], $12::boolean[])
			WITH ORDINALITY AS s(def, fr, en, kind, owner, key_id, created, transliterate, bulk, i)
	), refused AS (
		SELECT s.i FROM s WHERE s.key_id <> '' AND NOT EXISTS (SELECT 1 FROM api_keys k
			WHERE k.id = s.key_id AND k.revoked IS NULL AND (k.expires IS NULL OR k.expires > s.created))
	), r AS (
		SELECT r.n, r.phone, r.s, EXISTS (SELECT 1 FROM optouts o WHERE o.phone = r.phone) AS out,
			CASE WHEN r.known IN ('fr', 'en') THEN r.known ELSE coalesce(
				(SELECT g.lang FROM languages g WHERE g.phone = r.phone AND g.lang IN ('fr', 'en')),
				(SELECT c.lang FROM cases c WHERE c.phone = r.phone AND c.lang <> '' ORDER BY c.opened DESC LIMIT 1), '') END AS lang
		FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS r(phone, known, s, n)
		WHERE r.s NOT IN (SELECT i FROM refused)
	), w AS (
		INSERT INTO outbox (phone, lang, body, kind, created, status, transliterate, bulk, owner, key_id)
		SELECT r.phone, l.lang, CASE l.lang WHEN 'en' THEN s.en ELSE s.fr END, s.kind, s.created, 'pending',
			s.transliterate, s.bulk, s.owner, s.key_id
		FROM r JOIN s ON s.i = r.s CROSS JOIN LATERAL (SELECT CASE WHEN r.lang IN ('fr', 'en') THEN r.lang ELSE s.def END AS lang) l
		WHERE NOT r.out
		ORDER BY r.n
		RETURNING id, phone, bulk, created, status
	), q AS (
		` + queueWritten + `
	)
	SELECT 0, r.n, r.out, r.lang, NULL::bigint[] FROM r
	UNION ALL SELECT 1, 0, false, '', array(SELECT id FROM w)
	UNION ALL SELECT 2, refused.i, false, '', NULL FROM refused`

// sendArgs are writeSends' arguments for sends.
func sendArgs(sends []outbox.Send) []any {
	var phone, known []string
	var of []int64
	n := len(sends)
	def, fr, en, kind, owner, key := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, translit, bulk := make([]time.Time, n), make([]bool, n), make([]bool, n)
	for i, sd := range sends {
		for j, p := range sd.To {
			phone = append(phone, p)
			k := ""
			if sd.Known != nil {
				k = sd.Known[j]
			}
			known, of = append(known, k), append(of, int64(i+1))
		}
		def[i], fr[i], en[i], kind[i], owner[i], key[i] = sd.Default, sd.Body["fr"], sd.Body["en"], sd.Kind, sd.Owner, sd.KeyID
		created[i], translit[i], bulk[i] = sd.Created, sd.Transliterate, sd.Bulk
	}
	return []any{phone, known, of, def, fr, en, kind, owner, key, created, translit, bulk}
}

// placeSends writes sends (writeSends) and returns what became of each
// number of each, or nil for a send refused for its key.
func placeSends(ctx context.Context, q querier, sends []outbox.Send) ([][]outbox.Placed, error) {
	out := make([][]outbox.Placed, len(sends))
	owner := make([]int, 0, len(sends)) // the send of each number in $1
	first := make([]int, len(sends))    // the first number of each send in $1
	for i, sd := range sends {
		first[i] = len(owner)
		out[i] = make([]outbox.Placed, len(sd.To))
		for range sd.To {
			owner = append(owner, i)
		}
	}
	rows, err := q.Query(ctx, writeSends, sendArgs(sends)...)
	if err != nil {
		return nil, err
	}
	var ids, got []int64
	var what int32
	var n int64
	var optedOut bool
	var lang string
	_, err = pgx.ForEachRow(rows, []any{&what, &n, &optedOut, &lang, &got}, func() error {
		switch what {
		case 0:
			i := owner[n-1]
			p := &out[i][int(n-1)-first[i]]
			p.OptedOut = optedOut
			if p.Lang = lang; lang != "fr" && lang != "en" {
				p.Lang = sends[i].Default
			}
			if optedOut {
				p.Lang = ""
			}
		case 1:
			ids = append(ids, got...)
		case 2:
			out[n-1] = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Identities are given in the order written: by number, in order.
	slices.Sort(ids)
	for i := range out {
		for j := range out[i] {
			if !out[i][j].OptedOut {
				if len(ids) == 0 {
					return nil, errors.New("fewer messages written than numbers")
				}
				out[i][j].ID, ids = ids[0], ids[1:]
			}
		}
	}
	if len(ids) > 0 {
		return nil, errors.New("more messages written than numbers")
	}
	return out, nil
}

// refusedKey is the answer to a send whose key is no longer in force.
var refusedKey = guichet.Errorf(guichet.EUNAUTHORIZED, "this API key is no longer in force")

// sendAll writes a batch of sends in one transaction and returns each
// one's answer: the keys first (the new ones claimed, the old ones'
// answers read), then every new send's messages in one statement, then
// their answers, each step one round trip.
func (db *DB) sendAll(ctx context.Context, sends []send) ([]sent, error) {
	if !slices.ContainsFunc(sends, func(sd send) bool { return sd.once != "" }) {
		return db.sendAllOnce(ctx, sends)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: sending messages: %w", err)
	}
	defer tx.Rollback(ctx)
	now := db.now()
	out := make([]sent, len(sends))
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
		// A request sent before is answered again only while its API key
		// is in force: a revoked key's retry is refused too.
		b.Queue(`WITH ok AS (SELECT $3 = '' OR EXISTS (SELECT 1 FROM api_keys
					WHERE id = $3 AND revoked IS NULL AND (expires IS NULL OR expires > $4)) AS ok),
				k AS (INSERT INTO once_results (op, key, result, at) SELECT 'api.messages', $1, 'null', $2 WHERE (SELECT ok FROM ok)
					ON CONFLICT DO NOTHING RETURNING 1)
			SELECT (SELECT ok FROM ok), EXISTS (SELECT 1 FROM k), coalesce((SELECT result::text FROM once_results WHERE op = 'api.messages' AND key = $1), '')`,
			sd.once, now, sd.s.KeyID, sd.s.Created)
	}
	if len(claimed) > 0 {
		br := tx.SendBatch(ctx, b)
		for _, i := range claimed {
			var inForce, isNew bool
			var was string
			if err := br.QueryRow().Scan(&inForce, &isNew, &was); err != nil {
				br.Close()
				return nil, fmt.Errorf("postgres: claiming an idempotency key: %w", err)
			}
			fresh[i] = isNew
			switch {
			case !inForce:
				out[i].err = refusedKey
			case !isNew:
				out[i].body = []byte(was)
			}
		}
		if err := br.Close(); err != nil {
			return nil, fmt.Errorf("postgres: claiming idempotency keys: %w", err)
		}
		// A key another transaction was claiming when the statement
		// began: its insert waited for that one's commit, but the
		// statement's snapshot predates it. Read the answer again.
		for _, i := range claimed {
			if fresh[i] || out[i].err != nil || (len(out[i].body) > 0 && string(out[i].body) != "null") {
				continue
			}
			var was string
			if err := tx.QueryRow(ctx, `SELECT result::text FROM once_results WHERE op = 'api.messages' AND key = $1`, sends[i].once).Scan(&was); err != nil {
				return nil, fmt.Errorf("postgres: reading an answer sent before: %w", err)
			}
			out[i].body = []byte(was)
		}
	}
	// 2. The new sends' messages, in one statement.
	var writing []int
	var ws []outbox.Send
	for i, sd := range sends {
		if fresh[i] {
			writing, ws = append(writing, i), append(ws, sd.s)
		}
	}
	placed := make([][]outbox.Placed, len(sends))
	if len(ws) > 0 {
		got, err := placeSends(ctx, tx, ws)
		if err != nil {
			return nil, fmt.Errorf("postgres: writing messages: %w", err)
		}
		for j, i := range writing {
			placed[i] = got[j]
		}
	}
	// 3. Their answers, recorded under their keys; a send refused for
	// its API key gives its idempotency key back.
	b = &pgx.Batch{}
	for i, sd := range sends {
		if !fresh[i] {
			continue
		}
		if placed[i] == nil {
			out[i].err = refusedKey
			if sd.once != "" {
				b.Queue(`DELETE FROM once_results WHERE op = 'api.messages' AND key = $1`, sd.once)
			}
			continue
		}
		body, err := sd.answer(placed[i])
		if err != nil {
			return nil, err
		}
		out[i].body = body
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
		if out[i].body == nil && out[i].err == nil && sd.once != "" {
			out[i] = out[first[sd.once]] // the same key twice in one batch
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: sending messages: %w", err)
	}
	return out, nil
}

// sendAllOnce writes a batch of sends without idempotency keys: its one
// statement is its transaction (no BEGIN, no COMMIT, two round trips
// fewer), committed when it answers; the answers are made after.
func (db *DB) sendAllOnce(ctx context.Context, sends []send) ([]sent, error) {
	ws := make([]outbox.Send, len(sends))
	for i, sd := range sends {
		ws[i] = sd.s
	}
	placed, err := placeSends(ctx, db.pool, ws)
	if err != nil {
		return nil, fmt.Errorf("postgres: writing messages: %w", err)
	}
	out := make([]sent, len(sends))
	for i, sd := range sends {
		if placed[i] == nil {
			out[i].err = refusedKey
			continue
		}
		out[i].body, out[i].err = sd.answer(placed[i])
	}
	return out, nil
}

// OwnMessage returns message id if owner sent it: ENOTFOUND otherwise.
func (s *Outbox) OwnMessage(ctx context.Context, owner string, id int64) (outbox.Message, error) {
	rows, _ := s.q().Query(ctx, `SELECT `+messageColumns+` FROM `+messageFrom+` WHERE o.id = $1 AND o.owner = $2 AND o.owner <> ''`, id, owner)
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
	rows, _ := s.q().Query(ctx, `SELECT `+messageColumns+` FROM `+messageFrom+`
		WHERE o.owner = $1 AND o.owner <> '' AND o.id > $2 AND (coalesce(cardinality($3::text[]), 0) = 0 OR `+messageStatus+` = ANY($3))
		ORDER BY o.id LIMIT $4`, owner, after, statuses, guichet.PageSize(limit))
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fail(ctx, "listing messages", err)
	}
	return msgs, nil
}

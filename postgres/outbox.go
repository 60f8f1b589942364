package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/sms"
)

// insertMessages adds messages to the outbox, in order, from arrays of
// their fields; messageArgs makes them.
// The pending ones join the queue (outbox_queue).
const insertMessages = `WITH w AS (INSERT INTO outbox (phone, lang, body, kind, case_ref, created, status, transliterate, bulk, owner, key_id, campaign)
	SELECT m.phone, m.lang, m.body, m.kind, m.case_ref, m.created, m.status, m.transliterate, m.bulk, m.owner, m.key_id, nullif(m.campaign, 0)
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::boolean[],
			$9::boolean[], $10::text[], $11::text[], $12::bigint[])
		WITH ORDINALITY AS m(phone, lang, body, kind, case_ref, created, status, transliterate, bulk, owner, key_id, campaign, n)
	ORDER BY m.n
	RETURNING id, phone, bulk, created, status)
	` + queueWritten

// queueWritten is the end of a statement whose CTE w returns the id,
// phone, bulk, created and status of the messages it wrote: it queues the
// pending ones.
const queueWritten = `INSERT INTO outbox_queue (id, phone, bulk, created) SELECT id, phone, bulk, created FROM w WHERE status = 'pending'`

func messageArgs(msgs []outbox.Message) []any {
	n := len(msgs)
	phone, lang, body, kind, ref, status := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	created, translit, bulk := make([]time.Time, n), make([]bool, n), make([]bool, n)
	owner, key, campaign := make([]string, n), make([]string, n), make([]int64, n)
	for i, m := range msgs {
		phone[i], lang[i], body[i], kind[i], ref[i], created[i], status[i] = m.Phone, m.Lang, m.Body, m.Kind, m.CaseRef, m.Created, m.Status
		translit[i], bulk[i], owner[i], key[i], campaign[i] = m.Transliterate, m.Bulk, m.Owner, m.KeyID, m.Campaign
	}
	return []any{phone, lang, body, kind, ref, created, status, translit, bulk, owner, key, campaign}
}

// queueMessages adds to b the writing of msgs, readied by
// outbox.Prepare, if there are any.
func queueMessages(b *pgx.Batch, msgs []outbox.Message) {
	if len(msgs) > 0 {
		b.Queue(insertMessages, messageArgs(msgs)...)
	}
}

// writeMessages writes msgs, readied by outbox.Prepare.
func writeMessages(ctx context.Context, q querier, msgs []outbox.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if _, err := q.Exec(ctx, insertMessages, messageArgs(msgs)...); err != nil {
		return fmt.Errorf("writing messages: %w", err)
	}
	return nil
}

// While a message waits to be sent, its state (pending or sending, its
// attempts) is its queue row's: a claim updates that row alone, and the
// message's own row is rewritten once, by the outcome. Reads join the two
// (messageFrom, aliases o and q) and take the state from messageStatus and
// messageColumns; counts over many messages take it from queuedStatus,
// which looks up the queue for the queued ones alone (a join hashed the
// whole queue, a campaign's backlog, for an hour's counts).
const (
	messageFrom    = `outbox o LEFT JOIN outbox_queue q ON q.id = o.id AND o.queued`
	messageStatus  = `coalesce(q.status, o.status)`
	queuedStatus   = `CASE WHEN o.queued THEN coalesce((SELECT q.status FROM outbox_queue q WHERE q.id = o.id), o.status) ELSE o.status END`
	messageColumns = `o.id, o.phone, o.lang, o.body, o.kind, o.case_ref, o.created, ` + messageStatus + `, coalesce(q.attempts, o.attempts), o.reason, o.bind, o.smsc_id, o.sent,
		o.transliterate, o.bulk, o.owner, o.key_id, o.done, coalesce(o.campaign, 0)`
)

func scanMessage(row pgx.CollectableRow) (outbox.Message, error) {
	var m outbox.Message
	var sent, done *time.Time
	err := row.Scan(&m.ID, &m.Phone, &m.Lang, &m.Body, &m.Kind, &m.CaseRef, &m.Created, &m.Status, &m.Attempts, &m.Reason, &m.Bind, &m.SMSCID, &sent, &m.Transliterate,
		&m.Bulk, &m.Owner, &m.KeyID, &done, &m.Campaign)
	if sent != nil {
		m.Sent = *sent
	}
	if done != nil {
		m.Done = *done
	}
	return m, err
}

// claimMessages claims up to $2 due messages at $1 until $3, in one
// statement, so that messages to one number leave in the order they were
// written even with senders in several processes — transactional ones
// among themselves: a case's notification never waits behind a campaign
// message written before it, a campaign message waits behind both:
//
//   - due locks the candidates, transactional ones first, then bulk, each
//     oldest first (FOR UPDATE SKIP LOCKED),
//     leaving out a message behind an earlier one to its number that is
//     not due (deferred, or under a live lease), so that a number held
//     back does not fill the claim with messages it cannot take;
//   - claimable keeps a candidate only if every earlier message to its
//     number that is not final (pending or sending) is a candidate too: one
//     skipped because another claim holds its lock, or claimed by a
//     transaction that committed after this statement began, holds the
//     later ones back.
//
// All of it reads the queue (outbox_queue: the messages not final, and
// their state), narrow and without the outbox's history; the claimed rows
// of the queue are then updated in place, and the messages read, not
// written (messageFrom: the claim's state is the queue row's): writing
// them too was a tenth of a claim's CPU (BenchmarkOutboxCycle, 22 against
// 19 µs a message) and a WAL record a message. Each NOT
// EXISTS probes the number's queued messages before the candidate
// (outbox_queue_phone); OFFSET 0 keeps it a probe per candidate, which the
// planner would otherwise turn into an anti-join over every deferred or
// unsent message: 1.1 s instead of 37 ms for a claim of 1,000 with 2,000
// numbers deferred and 5,000 messages behind one of them. The update
// takes its rows by id from an array, and the messages are read one by
// one by id (a lateral probe, OFFSET 0), so that the planner cannot join
// the claim to a scan of the whole table (its history included): it chose
// that hash join once the candidates were filtered.
const claimMessages = `WITH due AS (
		SELECT q.id, q.phone, q.bulk FROM outbox_queue q
		WHERE ((q.status = 'pending' AND (q.not_before IS NULL OR q.not_before <= $1))
				OR (q.status = 'sending' AND q.lease_until <= $1))
			AND NOT EXISTS (SELECT FROM outbox_queue e
				WHERE e.phone = q.phone AND e.id < q.id AND (NOT e.bulk OR q.bulk)
					AND ((e.status = 'pending' AND e.not_before > $1) OR (e.status = 'sending' AND e.lease_until > $1))
				OFFSET 0)
		ORDER BY q.bulk, q.id LIMIT $2
		FOR UPDATE OF q SKIP LOCKED),
	claimable AS (
		SELECT d.id FROM due d
		WHERE NOT EXISTS (SELECT FROM outbox_queue e
			WHERE e.phone = d.phone AND e.id < d.id AND (NOT e.bulk OR d.bulk)
				AND e.id NOT IN (SELECT id FROM due)
			OFFSET 0)),
	c AS (UPDATE outbox_queue q SET status = 'sending', lease_until = $3, attempts = q.attempts + 1, not_before = NULL
		WHERE q.id = ANY (ARRAY(SELECT id FROM claimable))
		RETURNING q.id, q.status, q.attempts)
	SELECT o.id, o.phone, o.lang, o.body, o.kind, o.case_ref, o.created, c.status, c.attempts, o.reason, o.bind, o.smsc_id, o.sent, o.transliterate,
		o.bulk, o.owner, o.key_id, o.done, coalesce(o.campaign, 0)
	FROM c CROSS JOIN LATERAL (SELECT * FROM outbox o
		WHERE o.id = c.id AND o.queued -- never a final message, whatever its queue row says
		OFFSET 0) o`

// maxClaimRows bounds the room a claim makes before its rows come.
const maxClaimRows = 4096

// ClaimMessages implements delivery.DeliveryStore: FOR UPDATE SKIP LOCKED lets
// senders in several processes claim at once, each its own messages, and a
// message is claimed only with every earlier one to its number that is not
// final (claimMessages).
func (s *Outbox) ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error) {
	if limit <= 0 || lease <= 0 {
		return nil, guichet.Errorf(guichet.EINVALID, "claiming needs a positive limit and lease")
	}
	rows, err := s.q().Query(ctx, claimMessages, now, limit, now.Add(lease))
	if err != nil {
		return nil, fail(ctx, "claiming messages", err)
	}
	// Sized for the claim (a claim is rarely short), not grown from
	// nothing: a message is some 300 bytes.
	msgs, err := pgx.AppendRows(make([]outbox.Message, 0, min(limit, maxClaimRows)), rows, scanMessage)
	if err != nil {
		return nil, fail(ctx, "claiming messages", err)
	}
	slices.SortFunc(msgs, func(a, b outbox.Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// Messages implements hotline.Outbox.
func (s *Outbox) Messages(ctx context.Context, phone string, limit int) ([]outbox.Message, error) {
	rows, err := s.q().Query(ctx, `SELECT `+messageColumns+` FROM `+messageFrom+`
		WHERE o.phone = $1 ORDER BY o.created DESC, o.id DESC LIMIT $2`, phone, guichet.PageSize(limit))
	if err != nil {
		return nil, fail(ctx, "listing messages", err)
	}
	msgs, err := pgx.CollectRows(rows, scanMessage)
	if err != nil {
		return nil, fail(ctx, "listing messages", err)
	}
	return msgs, nil
}

// receiptCandidates bounds the messages to one number on one bind that a
// receipt is compared with, newest first.
const receiptCandidates = 200

// ApplyReceipts records receipts' states (see outbox.ReceiptStatus) on the
// messages they name, and reports for each receipt whether a message
// matched: first in one statement for all of them, where a receipt names
// its message's id exactly as the SMSC answered submit_sm
// (exactReceipts); then, for those that matched nothing, by comparing
// with the ids of the few messages sent to the number on the bind, which a
// receipt may write in another base (applyByCandidates).
func (s *Outbox) ApplyReceipts(ctx context.Context, rs []outbox.Receipt) ([]bool, error) {
	matched := make([]bool, len(rs))
	if len(rs) == 0 {
		return matched, nil
	}
	b := &pgx.Batch{}
	queueReceipts(b, rs, matched, s.now())
	if err := retried(ctx, func() error {
		clear(matched) // what an aborted try matched
		return s.q().SendBatch(ctx, b).Close()
	}); err != nil {
		return nil, fail(ctx, "applying receipts", err)
	}
	if err := s.applyByCandidates(ctx, rs, matched); err != nil {
		return nil, err
	}
	return matched, nil
}

// exactReceipts applies receipts ($1 bind, $2 phone, $3 SMSC id, $4 the
// status to record or ” for none, $5 reason, $6 the time) to the newest
// message sent on the bind to the phone with that SMSC id, queues their
// callbacks, and returns the (1-based) index of each receipt that matched.
var exactReceipts = `WITH r AS (SELECT * FROM unnest($1::text::text[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[])
			WITH ORDINALITY AS r(bind, phone, smsc_id, status, reason, i)),
	m AS (SELECT r.i, o.id, r.status, r.reason FROM r CROSS JOIN LATERAL (SELECT id FROM outbox
			WHERE bind = r.bind AND phone = r.phone AND smsc_id <> '' AND smsc_id = r.smsc_id
			ORDER BY id DESC LIMIT 1) o),
	` + applyReceiptsOf6 + `
	SELECT i FROM m`

// idReceipts is exactReceipts for receipts whose message's id the sender
// still knew ($1 id, $2 bind, $3 SMSC id, $4 status, $5 reason, $6 the
// time): the message is read by its key, not looked for among its
// number's (the lookup was half of exactReceipts' time), and matches only
// if it still has that SMSC id on that bind.
var idReceipts = `WITH r AS (SELECT * FROM unnest($1::text::bigint[], $2::text::text[], $3::text::text[], $4::text::text[], $5::text::text[])
			WITH ORDINALITY AS r(id, bind, smsc_id, status, reason, i)),
	m AS (SELECT r.i, o.id, r.status, r.reason FROM r CROSS JOIN LATERAL (SELECT id FROM outbox
			WHERE id = r.id AND bind = r.bind AND smsc_id = r.smsc_id OFFSET 0) o),
	` + applyReceiptsOf6 + `
	SELECT i FROM m`

// applyReceiptsOf6 is the receipts' statements' update of the messages
// they matched (CTE m: id, status, reason; $6 the time) and their
// callbacks.
var applyReceiptsOf6 = `u AS (UPDATE outbox o SET status = m.status, reason = m.reason,
			done = CASE WHEN m.status IN ('delivered', 'undeliverable', 'expired') THEN $6 ELSE o.done END
		FROM m WHERE o.id = m.id AND m.status <> ''
			AND o.status NOT IN ('delivered', 'undeliverable', 'expired', 'failed')
		RETURNING o.id, o.key_id, o.status),
	` + webhooksOf6

// queueReceipts adds to b the statements that apply rs by exact id, those
// whose message is known by its id (idReceipts), the others by their
// number (exactReceipts), whose rows set matched. Of several receipts for
// one message in rs, the last one's state is recorded.
func queueReceipts(b *pgx.Batch, rs []outbox.Receipt, matched []bool, at time.Time) {
	n := len(rs)
	ids, status, reason := make([]string, n), make([]string, n), make([]string, n)
	last := make(map[[3]string]int, n)
	var byNumber, byID []int // where each statement's receipts are in rs
	for i, r := range rs {
		ids[i] = strings.TrimSpace(r.SMSCID)
		if st, ok := outbox.ReceiptStatus(r.State); ok {
			status[i], reason[i] = st, "receipt: "+r.State
		}
		k := [3]string{r.Bind, r.Phone, ids[i]}
		if j, ok := last[k]; ok {
			status[j] = ""
		}
		last[k] = i
		if r.ID > 0 {
			byID = append(byID, i)
		} else {
			byNumber = append(byNumber, i)
		}
	}
	queue := func(sql string, sel []int, key func(r outbox.Receipt, a, b *arrayWriter)) {
		if len(sel) == 0 {
			return
		}
		k1, k2, smscIDs, st, rsn := newArray(len(sel), 8), newArray(len(sel), 12), newArray(len(sel), 10), newArray(len(sel), 9), newArray(len(sel), 16)
		for _, i := range sel {
			key(rs[i], k1, k2)
			smscIDs.text(ids[i])
			st.text(status[i])
			rsn.text(reason[i])
		}
		b.Queue(sql, k1.String(), k2.String(), smscIDs.String(), st.String(), rsn.String(), at).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var i int64
				if err := rows.Scan(&i); err != nil {
					return err
				}
				if i >= 1 && int(i) <= len(sel) {
					matched[sel[i-1]] = true
				}
			}
			return rows.Err()
		})
	}
	queue(exactReceipts, byNumber, func(r outbox.Receipt, bind, phone *arrayWriter) { bind.text(r.Bind); phone.text(r.Phone) })
	queue(idReceipts, byID, func(r outbox.Receipt, id, bind *arrayWriter) { id.int(r.ID); bind.text(r.Bind) })
}

// applyByCandidates applies the receipts of rs that matched nothing yet,
// in two statements for all of them: the few messages sent to each
// receipt's number on its bind are read at once (ids are stored as the
// SMSC answered submit_sm, and receipts may write them in another base, so
// they are compared in Go with sms.SameID, newest first), then one UPDATE
// ... FROM unnest applies the states. It sets matched for those it
// matched.
func (s *Outbox) applyByCandidates(ctx context.Context, all []outbox.Receipt, matched []bool) error {
	var rs []outbox.Receipt
	var at []int // where each of rs is in all
	for i, r := range all {
		if !matched[i] {
			rs, at = append(rs, r), append(at, i)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	binds, phones := make([]string, len(rs)), make([]string, len(rs))
	for i, r := range rs {
		binds[i], phones[i] = r.Bind, r.Phone
	}
	rows, err := s.q().Query(ctx, `SELECT r.i, o.id, o.smsc_id
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(bind, phone, i)
		CROSS JOIN LATERAL (SELECT id, smsc_id FROM outbox
			WHERE bind = r.bind AND phone = r.phone AND smsc_id <> ''
			ORDER BY id DESC LIMIT $3) o
		ORDER BY r.i, o.id DESC`, binds, phones, receiptCandidates)
	if err != nil {
		return fail(ctx, "matching receipts", err)
	}
	type candidate struct {
		I      int64
		ID     int64
		SMSCID string
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[candidate])
	if err != nil {
		return fail(ctx, "matching receipts", err)
	}
	var ids []int64
	var status, reason []string
	for _, c := range found {
		i := int(c.I - 1)
		if matched[at[i]] || !sms.SameID(c.SMSCID, rs[i].SMSCID) {
			continue
		}
		matched[at[i]] = true
		if st, ok := outbox.ReceiptStatus(rs[i].State); ok {
			ids, status, reason = append(ids, c.ID), append(status, st), append(reason, "receipt: "+rs[i].State)
		}
	}
	if len(ids) > 0 {
		if _, err := s.q().Exec(ctx, `WITH u AS (UPDATE outbox o SET status = u.status, reason = u.reason,
				done = CASE WHEN u.status IN ('delivered', 'undeliverable', 'expired') THEN $4 ELSE o.done END
			FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u(id, status, reason) WHERE o.id = u.id
				AND o.status NOT IN ('delivered', 'undeliverable', 'expired', 'failed')
			RETURNING o.id, o.key_id, o.status),
		`+queueWebhooks("$4")+`
		SELECT 1`, ids, status, reason, s.now()); err != nil {
			return fail(ctx, "applying receipts", err)
		}
	}
	return nil
}

// DeliveryCounts counts the messages created in [from, to) by bind and
// status, sorted by bind then status (byte order, as outbox.Memory).
func (s *Outbox) DeliveryCounts(ctx context.Context, from, to time.Time) ([]outbox.DeliveryCount, error) {
	rows, err := s.q().Query(ctx, `SELECT o.bind, `+queuedStatus+` AS status, count(*) FROM outbox o
		WHERE o.created >= $1 AND o.created < $2
		GROUP BY 1, 2 ORDER BY o.bind COLLATE "C", `+queuedStatus+` COLLATE "C"`, from, to)
	if err != nil {
		return nil, fail(ctx, "counting deliveries", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outbox.DeliveryCount])
	if err != nil {
		return nil, fail(ctx, "counting deliveries", err)
	}
	return counts, nil
}

// Backlog counts the messages waiting to be sent (pending or claimed) by
// the first digits of their number, with the oldest's time: one statement
// over the queue's table (outbox_queue), whose rows are the backlog alone,
// so that a scrape costs what is waiting, not the outbox.
func (s *Outbox) Backlog(ctx context.Context, digits int) ([]outbox.Backlog, error) {
	rows, err := s.q().Query(ctx, `SELECT left(ltrim(phone, '+'), $1) COLLATE "C" AS prefix, count(*)::int, min(created) FROM outbox_queue
		GROUP BY 1 ORDER BY 1`, digits)
	if err != nil {
		return nil, fail(ctx, "counting the backlog", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outbox.Backlog])
	if err != nil {
		return nil, fail(ctx, "counting the backlog", err)
	}
	return out, nil
}

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

// queueWebhooks is, in a statement whose CTE u returns the id, key_id and
// status of the messages it changed and whose parameter at is the time,
// the CTE that queues a delivery callback for each message an API key
// sent that reached a final status, if the key has a callback URL. It
// goes after u, before the statement's SELECT.
func queueWebhooks(at string) string {
	return `w AS (INSERT INTO webhooks (key_id, message_id, status, at, next_at)
		SELECT u.key_id, u.id, u.status, ` + at + `, ` + at + ` FROM u
		WHERE u.key_id <> '' AND u.status IN ('delivered', 'undeliverable', 'expired', 'failed')
			AND EXISTS (SELECT 1 FROM api_keys k WHERE k.id = u.key_id AND k.callback_url <> ''))`
}

// Record applies outcomes in one statement and one commit, each to its
// message if it is still under the claim the outcome ends (status sending,
// attempts as claimed); it returns how many it applied. Sent messages are
// dated with the store's now.
func (s *Outbox) Record(ctx context.Context, outcomes []outbox.Outcome) (int, error) {
	applied, _, err := s.Commit(ctx, outcomes, nil)
	return applied, err
}

// Commit records outcomes (as Record) and applies receipts (as
// ApplyReceipts) in one transaction, the outcomes first, so that a receipt
// finds a message whose outcome comes in the same call: one round trip and
// one commit for both, unless a receipt names its message in another base
// than the SMSC's answer did (then those take two statements more, after
// the commit). It returns how many outcomes it applied and, for each
// receipt, whether a message matched.
func (s *Outbox) Commit(ctx context.Context, outcomes []outbox.Outcome, receipts []outbox.Receipt) (int, []bool, error) {
	matched := make([]bool, len(receipts))
	if len(outcomes) == 0 && len(receipts) == 0 {
		return 0, matched, nil
	}
	// Rows are locked in the order of their ids, as claims lock them, so
	// that the two cross as little as they can.
	byID := func(a, b outbox.Outcome) int { return cmp.Compare(a.ID, b.ID) }
	if !slices.IsSortedFunc(outcomes, byID) { // Commits sorts its own
		outcomes = slices.SortedFunc(slices.Values(outcomes), byID)
	}
	b := &pgx.Batch{}
	var applied int
	if len(outcomes) > 0 {
		if err := queueOutcomes(b, outcomes, s.now(), &applied); err != nil {
			return 0, nil, err
		}
	}
	if len(receipts) > 0 {
		queueReceipts(b, receipts, matched, s.now())
	}
	// A batch's statements run in one implicit transaction (SendBatch
	// outside one), committed at its end; again if a deadlock aborted it.
	if err := retried(ctx, func() error {
		applied = 0
		clear(matched) // what an aborted try matched
		return s.q().SendBatch(ctx, b).Close()
	}); err != nil {
		return 0, nil, fail(ctx, "recording outcomes and receipts", err)
	}
	if err := s.applyByCandidates(ctx, receipts, matched); err != nil {
		return applied, nil, err
	}
	return applied, matched, nil
}

// recordOutcomes applies outcomes ($1 id, $2 attempt, $3 status, $4
// reason, $5 bind, $6 SMSC id, $7 not before, $8 the time, and of a sent
// message whose receipt came with its outcome $9 the status the receipt
// gives, ” for none, and $10 its reason) to the messages still under the
// claims they end (the queue's rows are the fence: sending, at that
// attempt), queues their callbacks and counts them. A final one takes its
// message out of the queue, a deferred one gives it back; the message's
// row is rewritten in place, with the attempts its claim counted in the
// queue.
var recordOutcomes = `WITH v AS MATERIALIZED (SELECT * FROM unnest($1::text::bigint[], $2::text::int[], $3::text::text[], $4::text::text[], $5::text::text[], $6::text::text[],
			$7::text::timestamptz[], $9::text::text[], $10::text::text[])
			AS v(id, attempt, status, reason, bind, smsc_id, not_before, receipt_status, receipt_reason)),
	gone AS (DELETE FROM outbox_queue q USING v
		WHERE q.id = v.id AND q.status = 'sending' AND q.attempts = v.attempt AND v.status <> 'pending'
		RETURNING q.id),
	back AS (UPDATE outbox_queue q SET status = 'pending', not_before = v.not_before, lease_until = NULL FROM v
		WHERE q.id = v.id AND q.status = 'sending' AND q.attempts = v.attempt AND v.status = 'pending'
		RETURNING q.id),
	v2 AS (SELECT v.* FROM v WHERE v.id IN (SELECT id FROM gone UNION ALL SELECT id FROM back)),
	u AS (UPDATE outbox o SET status = CASE WHEN v2.receipt_status <> '' THEN v2.receipt_status ELSE v2.status END,
			reason = CASE WHEN v2.receipt_status <> '' THEN v2.receipt_reason ELSE v2.reason END,
			attempts = v2.attempt, lease_until = NULL, not_before = v2.not_before,
			bind = CASE WHEN v2.status = 'sent' THEN v2.bind ELSE o.bind END,
			smsc_id = CASE WHEN v2.status = 'sent' THEN v2.smsc_id ELSE o.smsc_id END,
			sent = CASE WHEN v2.status = 'sent' THEN $8 ELSE o.sent END,
			done = CASE WHEN v2.status IN ('failed', 'expired') OR v2.receipt_status <> '' THEN $8 ELSE o.done END
		FROM v2 WHERE o.id = v2.id
		RETURNING o.id, o.key_id, o.status),
	` + webhooksOf8 + `
	SELECT count(*) FROM u`

// The callbacks' CTE of the statements whose time is $6 or $8.
var webhooksOf6, webhooksOf8 = queueWebhooks("$6"), queueWebhooks("$8")

// queueOutcomes adds to b the statement that records outcomes
// (recordOutcomes), whose count goes to applied, once checked.
func queueOutcomes(b *pgx.Batch, outcomes []outbox.Outcome, at time.Time, applied *int) error {
	n := len(outcomes)
	ids, attempts, status, reason := newArray(n, 8), newArray(n, 1), newArray(n, 4), newArray(n, 0)
	bind, smscID, notBefore := newArray(n, 6), newArray(n, 10), newArray(n, 4)
	receiptStatus, receiptReason := newArray(n, 0), newArray(n, 0)
	for _, o := range outcomes {
		if err := outbox.CheckOutcome(o); err != nil {
			return err
		}
		if st, ok := outbox.ReceiptStatus(o.Receipt); ok {
			receiptStatus.text(st)
			receiptReason.text("receipt: " + o.Receipt)
		} else {
			receiptStatus.text("")
			receiptReason.text("")
		}
		ids.int(o.ID)
		attempts.int(int64(o.Attempt))
		status.text(o.Status)
		reason.text(o.Reason)
		bind.text(o.Bind)
		smscID.text(o.SMSCID)
		if o.Status == outbox.MessagePending {
			notBefore.time(o.NotBefore)
		} else {
			notBefore.time(time.Time{})
		}
	}
	b.Queue(recordOutcomes, ids.String(), attempts.String(), status.String(), reason.String(), bind.String(), smscID.String(), notBefore.String(), at,
		receiptStatus.String(), receiptReason.String()).QueryRow(func(row pgx.Row) error {
		return row.Scan(applied)
	})
	return nil
}

// ExtendLeases implements what delivery.Dispatcher asks of a store whose
// leases it keeps alive (outbox.Memory.ExtendLeases), in one statement:
// the lease is not indexed, so the rows are rewritten in place.
func (s *Outbox) ExtendLeases(ctx context.Context, held []outbox.Held, until time.Time) (int, error) {
	if len(held) == 0 {
		return 0, nil
	}
	held = slices.SortedFunc(slices.Values(held), func(a, b outbox.Held) int { return cmp.Compare(a.ID, b.ID) })
	ids, attempts := make([]int64, len(held)), make([]int32, len(held))
	for i, h := range held {
		ids[i], attempts[i] = h.ID, int32(h.Attempt)
	}
	var n int64
	err := retried(ctx, func() error {
		tag, err := s.q().Exec(ctx, `UPDATE outbox_queue q SET lease_until = $3
			FROM unnest($1::bigint[], $2::int[]) AS h(id, attempt)
			WHERE q.id = h.id AND q.status = 'sending' AND q.attempts = h.attempt AND q.lease_until < $3`, ids, attempts, until)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fail(ctx, "extending leases", err)
	}
	return int(n), nil
}

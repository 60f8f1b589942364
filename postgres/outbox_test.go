package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
)

// newOutbox returns an outbox on a database of its own, migrated, and the
// pool under it.
func newOutbox(t *testing.T) (*postgres.Outbox, *pgxpool.Pool) {
	t.Helper()
	pool := migratedPool(t)
	return postgres.New(pool).Outbox(), pool
}

// The first message to a number is being claimed by another gateway, whose
// transaction has not committed: FOR UPDATE SKIP LOCKED skips it. A claim
// meanwhile takes the other number's message but not the second to that
// number, nor once the other claim has committed (its lease holds); once
// the first is recorded sent, the second goes.
func TestClaimBehindLocked(t *testing.T) {
	ctx := t.Context()
	out, pool := newOutbox(t)
	now := time.Now()
	const phone, other = "+237677000081", "+237699000082"
	if err := out.Enqueue(ctx, []outbox.Message{
		{Phone: phone, Body: "first", Created: now},
		{Phone: phone, Body: "second", Created: now},
		{Phone: other, Body: "other", Created: now},
	}); err != nil {
		t.Fatal(err)
	}
	msgs, err := out.Messages(ctx, phone, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages to %s: %v, %v", phone, msgs, err)
	}
	first, second := msgs[1].ID, msgs[0].ID
	claim := func() []int64 {
		t.Helper()
		got, err := out.ClaimMessages(ctx, 10, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range got {
			ids = append(ids, m.ID)
			if m.Phone == other {
				ids[len(ids)-1] = -1 // the other number's, whatever its id
			}
		}
		return ids
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	// What another gateway's claim does, before it commits.
	if _, err := tx.Exec(ctx, `UPDATE outbox_queue SET status = 'sending', lease_until = $2, attempts = attempts + 1 WHERE id = $1`,
		first, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := claim(); !slices.Equal(got, []int64{-1}) {
		t.Errorf("claimed %v while %d is locked by another claim, want the other number's only", got, first)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claim(); len(got) != 0 {
		t.Errorf("claimed %v while %d is claimed by another gateway", got, first)
	}
	if n, err := out.Record(ctx, []outbox.Outcome{{ID: first, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "1"}}); err != nil || n != 1 {
		t.Fatalf("Record = %d, %v", n, err)
	}
	if got := claim(); !slices.Equal(got, []int64{second}) {
		t.Errorf("claimed %v once %d was sent, want [%d]", got, first, second)
	}
}

// Commit records outcomes and applies receipts in one call: a receipt
// finds the message whose outcome comes in the same call; of two receipts
// for one message, the later state is recorded; a receipt that writes its
// id in another base (decimal for the SMSC's hex) still matches; one that
// names no message is reported unmatched; an outcome for a claim that has
// ended is not applied. The same whether the receipts name their message's
// id (the sender remembered it) or not; a receipt whose id names a message
// that has another SMSC id, or was sent on another bind, does not match.
func TestCommitOutcomesAndReceipts(t *testing.T) {
	for _, byID := range []bool{false, true} {
		t.Run(map[bool]string{false: "by-number", true: "by-id"}[byID], func(t *testing.T) { testCommitOutcomesAndReceipts(t, byID) })
	}
}

func testCommitOutcomesAndReceipts(t *testing.T, byID bool) {
	ctx := t.Context()
	out, _ := newOutbox(t)
	now := time.Now()
	phones := []string{"+237677000001", "+237677000002", "+237677000003", "+237677000004"}
	var msgs []outbox.Message
	for _, p := range phones {
		msgs = append(msgs, outbox.Message{Phone: p, Body: "x", Created: now})
	}
	if err := out.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	claimed, err := out.ClaimMessages(ctx, 10, time.Minute, now)
	if err != nil || len(claimed) != 4 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	var outcomes []outbox.Outcome
	for i, m := range claimed[:3] {
		outcomes = append(outcomes, outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn", SMSCID: fmt.Sprintf("%x", 1000+i)})
	}
	// The fourth's claim has ended: its outcome is fenced off.
	outcomes = append(outcomes, outbox.Outcome{ID: claimed[3].ID, Attempt: claimed[3].Attempts + 1, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "ffff"})
	receipts := []outbox.Receipt{
		{Bind: "mtn", Phone: phones[0], SMSCID: "3e8", State: "EXPIRED"},
		{Bind: "mtn", Phone: phones[0], SMSCID: "3e8", State: "DELIVRD"},
		{Bind: "mtn", Phone: phones[1], SMSCID: "1001", State: "UNDELIV"}, // 0x3e9 in decimal
		{Bind: "mtn", Phone: phones[2], SMSCID: "nope", State: "DELIVRD"},
		{Bind: "orange", Phone: phones[2], SMSCID: "3ea", State: "DELIVRD"}, // another bind
		{Bind: "mtn", Phone: phones[3], SMSCID: "ffff", State: "DELIVRD"},   // its outcome was not applied
	}
	if byID {
		for i, id := range []int64{claimed[0].ID, claimed[0].ID, claimed[1].ID, claimed[2].ID, claimed[2].ID, claimed[3].ID} {
			receipts[i].ID = id
		}
	}
	applied, matched, err := out.Commit(ctx, outcomes, receipts)
	if err != nil {
		t.Fatal(err)
	}
	if applied != 3 {
		t.Errorf("applied %d outcomes, want 3", applied)
	}
	if want := []bool{true, true, true, false, false, false}; !slices.Equal(matched, want) {
		t.Errorf("matched %v, want %v", matched, want)
	}
	for i, want := range []string{outbox.MessageDelivered, outbox.MessageUndeliverable, outbox.MessageSent, outbox.MessageSending} {
		got, err := out.Messages(ctx, phones[i], 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("messages to %s: %v, %v", phones[i], got, err)
		}
		if got[0].Status != want {
			t.Errorf("message %d: %s, want %s", i, got[0].Status, want)
		}
	}
}

// An outcome that carries its receipt (the SMSC sent it before the outcome
// was committed) writes the message once in the receipt's state: ended,
// dated, and its callback queued for a key that has a callback URL. A
// receipt that ends nothing (ENROUTE) leaves it sent; an outcome whose
// claim has ended changes nothing, its receipt neither.
func TestRecordOutcomeWithItsReceipt(t *testing.T) {
	ctx := t.Context()
	out, pool := newOutbox(t)
	if _, err := pool.Exec(ctx, `INSERT INTO api_keys (hash, id, owner, callback_url) VALUES (decode(repeat('ab', 32), 'hex'), 'k1', 'civil-status', 'https://example.org/cb')`); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	phones := []string{"+237677000021", "+237677000022", "+237677000023"}
	var msgs []outbox.Message
	for _, p := range phones {
		msgs = append(msgs, outbox.Message{Phone: p, Body: "x", Created: now, Owner: "civil-status", KeyID: "k1"})
	}
	if err := out.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	claimed, err := out.ClaimMessages(ctx, 10, time.Minute, now)
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	outcomes := []outbox.Outcome{
		{ID: claimed[0].ID, Attempt: claimed[0].Attempts, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "a1", Phone: claimed[0].Phone, Receipt: "UNDELIV"},
		{ID: claimed[1].ID, Attempt: claimed[1].Attempts, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "a2", Phone: claimed[1].Phone, Receipt: "ENROUTE"},
		{ID: claimed[2].ID, Attempt: claimed[2].Attempts + 1, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "a3", Phone: claimed[2].Phone, Receipt: "DELIVRD"},
	}
	if n, err := out.Record(ctx, outcomes); err != nil || n != 2 {
		t.Fatalf("Record = %d, %v; want the two under their claims", n, err)
	}
	want := map[int64]struct {
		status, reason string
		done           bool
	}{
		claimed[0].ID: {outbox.MessageUndeliverable, "receipt: UNDELIV", true},
		claimed[1].ID: {outbox.MessageSent, "", false},
		claimed[2].ID: {outbox.MessageSending, "", false},
	}
	for _, m := range claimed {
		got, err := out.Messages(ctx, m.Phone, 1)
		if err != nil || len(got) != 1 {
			t.Fatalf("messages to %s: %v, %v", m.Phone, got, err)
		}
		w := want[m.ID]
		if g := got[0]; g.Status != w.status || g.Reason != w.reason || g.Done.IsZero() == w.done {
			t.Errorf("message %d: %s %q done %v, want %s %q done %v", m.ID, g.Status, g.Reason, g.Done, w.status, w.reason, w.done)
		}
	}
	var queued []string
	rows, err := pool.Query(ctx, `SELECT status FROM webhooks WHERE key_id = 'k1' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	if queued, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || !slices.Equal(queued, []string{outbox.MessageUndeliverable}) {
		t.Errorf("callbacks queued %v (%v), want the undeliverable one's alone", queued, err)
	}
	if _, err := out.Record(ctx, []outbox.Outcome{{ID: claimed[0].ID, Attempt: claimed[0].Attempts, Status: outbox.MessageFailed, Receipt: "DELIVRD"}}); err == nil {
		t.Error("a receipt with a failed outcome was taken")
	}
}

// ExtendLeases keeps a claim alive: a message whose lease was extended is
// not claimed again when its first lease ends; a hold naming another
// attempt, or a lease already later, changes nothing.
func TestExtendLeases(t *testing.T) {
	ctx := t.Context()
	out, _ := newOutbox(t)
	now := time.Now()
	if err := out.Enqueue(ctx, []outbox.Message{{Phone: "+237677000011", Body: "a", Created: now}, {Phone: "+237677000012", Body: "b", Created: now}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := out.ClaimMessages(ctx, 10, time.Minute, now)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	held := []outbox.Held{{ID: claimed[0].ID, Attempt: claimed[0].Attempts}, {ID: claimed[1].ID, Attempt: claimed[1].Attempts + 1}}
	if n, err := out.ExtendLeases(ctx, held, now.Add(5*time.Minute)); err != nil || n != 1 {
		t.Fatalf("extended %d, %v; want 1 (the other names another attempt)", n, err)
	}
	if n, _ := out.ExtendLeases(ctx, held[:1], now.Add(2*time.Minute)); n != 0 {
		t.Errorf("extended %d to an earlier end, want 0", n)
	}
	again, err := out.ClaimMessages(ctx, 10, time.Minute, now.Add(2*time.Minute))
	if err != nil || len(again) != 1 || again[0].ID != claimed[1].ID {
		t.Errorf("after the first lease: claimed %v, %v; want only the message not extended", again, err)
	}
}

// TestBacklog holds both outboxes to one backlog: the messages pending or
// claimed, by their numbers' first digits, with the oldest's time; a sent
// one is not waiting any more.
func TestBacklog(t *testing.T) {
	type store interface {
		Enqueue(ctx context.Context, msgs []outbox.Message) error
		ClaimMessages(ctx context.Context, limit int, lease time.Duration, now time.Time) ([]outbox.Message, error)
		Record(ctx context.Context, outcomes []outbox.Outcome) (int, error)
		Backlog(ctx context.Context, digits int) ([]outbox.Backlog, error)
	}
	for _, tc := range []struct {
		name string
		new  func(t *testing.T) store
	}{
		{"memory", func(*testing.T) store { return outbox.NewMemory() }},
		{"postgres", func(t *testing.T) store { out, _ := newOutbox(t); return out }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := tc.new(t)
			if got, err := s.Backlog(ctx, 5); err != nil || len(got) != 0 {
				t.Fatalf("empty Backlog = %v, %v; want none", got, err)
			}
			for _, phone := range []string{"+237677000091", "+237677000092", "+237699000093"} {
				if err := s.Enqueue(ctx, []outbox.Message{{Phone: phone, Body: "Bonjour"}}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(2 * time.Millisecond) // each its own time: the oldest is the first
			}
			claimed, err := s.ClaimMessages(ctx, 10, time.Minute, time.Now())
			if err != nil || len(claimed) != 3 {
				t.Fatalf("claimed %v, %v; want 3", claimed, err)
			}
			var first time.Time
			for _, m := range claimed {
				if m.Phone == "+237677000091" {
					first = m.Created
				}
				if m.Phone == "+237677000092" { // sent: off the backlog
					if _, err := s.Record(ctx, []outbox.Outcome{{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn", SMSCID: "1"}}); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := s.Backlog(ctx, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Prefix != "23767" || got[0].N != 1 || !got[0].Oldest.Equal(first) ||
				got[1].Prefix != "23769" || got[1].N != 1 {
				t.Errorf("Backlog = %+v; want 23767: 1 since %v, 23769: 1", got, first)
			}
		})
	}
}

// Erasing a number fails its queued messages with the attempts their
// claims counted (kept in the queue's row while they waited), not the
// count from before they were claimed.
func TestEraseKeepsClaimedAttempts(t *testing.T) {
	ctx := t.Context()
	out, pool := newOutbox(t)
	const phone = "+237677000051"
	if err := out.Enqueue(ctx, []outbox.Message{{Phone: phone, Body: "Dossier recu", Created: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := out.ClaimMessages(ctx, 10, time.Minute, time.Now())
	if err != nil || len(claimed) != 1 || claimed[0].Attempts != 1 {
		t.Fatalf("claimed %+v, %v", claimed, err)
	}
	if _, err := postgres.New(pool).Citizens().Erase(ctx, phone, "dpo"); err != nil {
		t.Fatal(err)
	}
	var status string
	var attempts int
	if err := pool.QueryRow(ctx, `SELECT status, attempts FROM outbox WHERE id = $1`, claimed[0].ID).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != outbox.MessageFailed || attempts != 1 {
		t.Errorf("erased message %s with %d attempts, want failed with its claim's 1", status, attempts)
	}
}

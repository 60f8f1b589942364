package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

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
	if _, err := tx.Exec(ctx, `UPDATE outbox SET status = 'sending', lease_until = $2, attempts = attempts + 1 WHERE id = $1`,
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

package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
)

// The statements that write a batch of outcomes, receipts or leases find
// each row through the primary key, however the planner sizes the batch
// and the table: fed 1,000 rows just after a claim, on a 20,000-row outbox
// analyzed while nothing was being sent, the outcomes' UPDATE ... FROM
// unnest chose a scan of the whole table joined in a loop with the batch
// (1,000 × 1,000 comparisons, 618 ms where the index takes 30); and with
// the key, a batch of 50 was joined in a nested loop (2,500 comparisons).
func TestBatchStatementsUseTheKey(t *testing.T) {
	ctx := context.Background()
	_, pool := migrated(t)
	out := New(pool).Outbox()
	msgs := make([]outbox.Message, 20000)
	for i := range msgs {
		msgs[i] = outbox.Message{Phone: fmt.Sprintf("+237677%06d", i), Lang: "fr", Kind: "moved", CaseRef: "20000011",
			Created: time.Now(), Body: "Dossier 20000011: disponible au guichet."}
	}
	for i := 0; i < len(msgs); i += 1000 {
		if err := out.Enqueue(ctx, msgs[i:i+1000]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE outbox"); err != nil {
		t.Fatal(err)
	}
	claimed, err := out.ClaimMessages(ctx, 1000, time.Minute, time.Now())
	if err != nil || len(claimed) != 1000 {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	n := len(claimed)
	ids, attempts := make([]int64, n), make([]int32, n)
	status, reason, bind, smscID := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	notBefore := make([]*time.Time, n)
	phones, states, reasons := make([]string, n), make([]string, n), make([]string, n)
	for i, m := range claimed {
		ids[i], attempts[i], status[i], bind[i], smscID[i] = m.ID, int32(m.Attempts), outbox.MessageSent, "mtn-1", fmt.Sprint("x", m.ID)
		phones[i], states[i], reasons[i] = m.Phone, outbox.MessageDelivered, "receipt: DELIVRD"
	}
	now := time.Now()
	type statement struct {
		label string
		sql   string
		args  []any
	}
	var statements []statement
	for _, k := range []int{50, 1000} { // a moment's batch, and a burst's
		statements = append(statements,
			statement{fmt.Sprint("outcomes of ", k), recordOutcomes, []any{ids[:k], attempts[:k], status[:k], reason[:k], bind[:k], smscID[:k], notBefore[:k], now}},
			statement{fmt.Sprint("receipts of ", k), exactReceipts, []any{bind[:k], phones[:k], smscID[:k], states[:k], reasons[:k], now}},
			statement{fmt.Sprint("leases of ", k), extendLeases, []any{ids[:k], attempts[:k], now.Add(time.Hour)}})
	}
	for _, tc := range statements {
		rows, err := pool.Query(ctx, "EXPLAIN "+tc.sql, tc.args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.label, err)
		}
		var plan []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, l)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		p := strings.Join(plan, "\n")
		if strings.Contains(p, "Seq Scan on outbox") || !strings.Contains(p, "Index Cond: (id = ANY") {
			t.Errorf("%s: the outbox is not read by its key:\n%s", tc.label, p)
		}
		// A join filter on the id is a nested loop that compares every
		// row with the whole batch.
		if strings.Contains(p, "Join Filter: ((o.id = ") {
			t.Errorf("%s: the batch is compared row by row:\n%s", tc.label, p)
		}
	}
}

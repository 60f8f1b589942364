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
// (1,000 × 1,000 comparisons, 618 ms where the index takes 30).
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
	for _, tc := range []struct {
		label string
		sql   string
		args  []any
	}{
		{"outcomes", recordOutcomes, []any{ids, attempts, status, reason, bind, smscID, notBefore, now}},
		{"receipts", exactReceipts, []any{bind, phones, smscID, states, reasons, now}},
		{"leases", extendLeases, []any{ids, attempts, now.Add(time.Hour)}},
	} {
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
		if strings.Contains(p, "Seq Scan on outbox") || !strings.Contains(p, "Index Scan using outbox_pkey on outbox o") {
			t.Errorf("%s: the outbox is not read by its key:\n%s", tc.label, p)
		}
	}
}

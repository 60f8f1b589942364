package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
)

// A message's outcome and its receipt rewrite its row in place
// (PostgreSQL's heap-only updates: no index touched), which is most of what
// the outbox costs the database at ten thousand messages a second; its
// claim does not write it at all: the queue's state is in a table of its
// own (outbox_queue), whose claim is in place too. An index on a column
// they change (status, the lease) would quietly undo it: this test says so.
func TestOutboxUpdatesInPlace(t *testing.T) {
	ctx := t.Context()
	pool := migratedPool(t)
	s := postgres.New(pool).Outbox()
	const n = 200
	msgs := make([]outbox.Message, n)
	for i := range msgs {
		msgs[i] = outbox.Message{Phone: fmt.Sprintf("+2376770%05d", i), Lang: "fr", Kind: "moved", Body: "Dossier 20000011: disponible au guichet."}
	}
	if err := s.Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// A transaction that started before them holds back what PostgreSQL
	// may prune, as a running claim or another gateway's commit does under
	// load: the pages must keep room for each row's next versions without
	// pruning the ones before (at fillfactor 45, 8.6% of the outbox's
	// updates left their page in the SMS benchmark).
	old, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Rollback(ctx)
	if _, err := old.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(ctx, "SELECT count(*) FROM outbox"); err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimMessages(ctx, n, time.Minute, time.Now())
	if err != nil || len(claimed) != n {
		t.Fatalf("claimed %d, %v", len(claimed), err)
	}
	outcomes := make([]outbox.Outcome, n)
	receipts := make([]outbox.Receipt, n)
	for i, m := range claimed {
		id := fmt.Sprintf("%X", 0x1000+i)
		outcomes[i] = outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: id}
		receipts[i] = outbox.Receipt{Bind: "mtn-1", Phone: m.Phone, SMSCID: id, State: "DELIVRD"}
	}
	if got, err := s.Record(ctx, outcomes); err != nil || got != n {
		t.Fatalf("recorded %d, %v", got, err)
	}
	if matched, err := s.ApplyReceipts(ctx, receipts); err != nil || len(matched) != n || !matched[n-1] {
		t.Fatalf("receipts: %v", err)
	}
	// Each backend flushes its statistics within a second of going idle.
	var upd, hot int64
	stats := func() {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'outbox'`).Scan(&upd, &hot); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); upd < 2*n; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the statistics show %d updates of the outbox, want %d", upd, 2*n)
		}
		stats()
	}
	// Every backend has flushed by now: no more than the outcomes and the
	// receipts (a claim that wrote the message's row would make it 3n).
	time.Sleep(1500 * time.Millisecond)
	if stats(); upd != 2*n {
		t.Errorf("%d updates of the outbox, want %d: the outcomes and the receipts, not the claims", upd, 2*n)
	}
	// The outcome and the receipt in place: the pages keep room for a
	// row's two next versions (fillfactor 30).
	if hot != upd {
		t.Errorf("%d of %d updates in place, want all (the outcomes and the receipts)", hot, upd)
	}
	t.Logf("%d of %d updates in place", hot, upd)
	var qupd, qhot, qdel int64
	for deadline := time.Now().Add(10 * time.Second); qdel < n && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := pool.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd, n_tup_del FROM pg_stat_user_tables WHERE relname = 'outbox_queue'`).Scan(&qupd, &qhot, &qdel); err != nil {
			t.Fatal(err)
		}
	}
	if qupd != n || qhot != qupd || qdel != n {
		t.Errorf("the queue: %d updates, %d in place, %d deleted; want the %d claims in place and the %d sent deleted", qupd, qhot, qdel, n, n)
	}
	// The outcome writes in every index of the row: none more than it
	// needs, none on what only the outcome writes (receipts find their
	// message by its number).
	var keyed []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(indexname ORDER BY indexname), '{}') FROM pg_indexes
		WHERE tablename = 'outbox' AND indexdef ~ '\m(bind|smsc_id|sent)\M'`).Scan(&keyed); err != nil {
		t.Fatal(err)
	}
	if len(keyed) > 0 {
		t.Errorf("indexes on what the outcome writes: %v", keyed)
	}
	// The numbers the claim's probes and the receipts look up compare as
	// bytes, whatever the database's locale.
	var collated []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(c.table_name || '.phone ' || coalesce(c.collation_name, 'default') ORDER BY c.table_name), '{}')
		FROM information_schema.columns c
		WHERE c.table_name IN ('outbox', 'outbox_queue') AND c.column_name = 'phone' AND coalesce(c.collation_name, '') <> 'C'`).Scan(&collated); err != nil {
		t.Fatal(err)
	}
	if len(collated) > 0 {
		t.Errorf("numbers compared through a locale: %v, want COLLATE \"C\"", collated)
	}
}

// The gateway's connections do not compile statements (jit off): a claim
// on a table not yet analysed cost 170 ms of compiling for 5 of work.
func TestNoJIT(t *testing.T) {
	pool, err := postgres.Open(t.Context(), pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var jit string
	if err := pool.QueryRow(t.Context(), `SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Errorf("jit = %q, %v; want off", jit, err)
	}
}

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/postgres"
)

// One gateway holds a bind at a time; the one waiting for it asks on one
// connection (never a new one per look), takes it when the holder lets go,
// and a holder whose connection is cut is told the bind is lost.
func TestBindHold(t *testing.T) {
	ctx := t.Context()
	pool := migratedPool(t)
	hold := postgres.New(pool).BindHold("mtn", "trx")
	lostA, releaseA, err := hold(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	tries := func() map[int32]time.Time {
		rows, err := pool.Query(ctx, `SELECT pid, query_start FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'SELECT pg_try_advisory_lock%'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[int32]time.Time{}
		for rows.Next() {
			var pid int32
			var at time.Time
			if err := rows.Scan(&pid, &at); err != nil {
				t.Fatal(err)
			}
			m[pid] = at
		}
		return m
	}
	holder := tries()
	if len(holder) != 1 {
		t.Fatalf("%d connections asked for the lock, want the holder's", len(holder))
	}

	type held struct {
		lost    <-chan struct{}
		release func()
		err     error
	}
	got := make(chan held, 1)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		l, r, err := hold(bctx, 0)
		got <- held{l, r, err}
	}()
	// Watch the standby look at least twice.
	standby := map[int32]bool{}
	starts := map[time.Time]bool{}
	for deadline := time.Now().Add(10 * time.Second); len(starts) < 3; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby was seen asking %d times in 10 s, on %d connections: it should ask every second or so, on one that stays open", len(starts), len(standby))
		}
		for pid, at := range tries() {
			if _, ok := holder[pid]; !ok {
				standby[pid], starts[at] = true, true
			}
		}
		select {
		case h := <-got:
			t.Fatalf("the standby took a held bind: %v", h.err)
		default:
		}
	}
	if len(standby) != 1 {
		t.Errorf("the standby asked on %d connections, want one", len(standby))
	}

	releaseA()
	select {
	case <-lostA:
		t.Error("a bind released is reported lost")
	default:
	}
	var b held
	select {
	case b = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the standby did not take the bind released")
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	// Cut the holder's connection: it hears the bind is lost.
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.lost:
	case <-time.After(5 * time.Second):
		t.Fatal("a holder whose connection was cut was not told")
	}
	b.release()
}

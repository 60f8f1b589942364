package delivery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/smpp/smsctest"
)

func newPostgres(t testing.TB) stores {
	t.Helper()
	ctx := context.Background()
	url := pgtest.DB(t)
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	db := postgres.New(pool)
	return stores{db.Outbox(), db.Cases()}
}

// Two dispatchers drain one PostgreSQL outbox at once, as two processes
// would: every message is submitted once, recorded, then delivered by its
// receipt, whichever bind the receipt comes back on.
func TestDispatchPostgresTwoDispatchers(t *testing.T) {
	s := newPostgres(t)
	phones := queue(t, s, 150, time.Now())
	srv := smsctest.NewServer(smsctest.Options{IDFormat: smsctest.Hex, ReceiptIDFormat: smsctest.Decimal, Receipts: true,
		RespDelay: time.Millisecond, ReceiptDelay: 20 * time.Millisecond})
	t.Cleanup(srv.Close)
	a, b := attach(t, s, srv), attach(t, s, srv)
	a.d.Batch, b.d.Batch = 10, 10
	// Under the race detector a receipt may wait longer for the commit of
	// its submit's outcome.
	a.rc.Wait, b.rc.Wait = 200*time.Millisecond, 200*time.Millisecond
	var wg sync.WaitGroup
	handled := make([]int, 2)
	for i, r := range []*rig{a, b} {
		wg.Go(func() {
			n, err := r.d.Drain(t.Context())
			if err != nil {
				t.Error(err)
			}
			handled[i] = n
		})
	}
	wg.Wait()
	if handled[0]+handled[1] != 150 || handled[0] == 0 || handled[1] == 0 {
		t.Errorf("dispatchers handled %v, want 150 shared between both", handled)
	}
	if dup := allSent(t, s, srv, phones); dup != 0 {
		t.Errorf("%d messages submitted twice", dup)
	}
	eventually(t, "150 receipts", func() bool { return a.rc.Stats().Matched+b.rc.Stats().Matched == 150 })
	for _, p := range phones {
		if m := messageTo(t, s, p); m.Status != outbox.MessageDelivered || m.Sent.IsZero() {
			t.Errorf("message to %s is %s sent at %v, want delivered", p, m.Status, m.Sent)
		}
	}
	if u := a.rc.Stats().Unmatched + b.rc.Stats().Unmatched; u != 0 {
		t.Errorf("%d receipts unmatched", u)
	}
}

// A message deferred on PostgreSQL waits for its time, then goes.
func TestDispatchPostgresRetried(t *testing.T) {
	s := newPostgres(t)
	phones := queue(t, s, 20, time.Now())
	r := newRig(t, s, smsctest.Options{ThrottleEvery: 3})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); r.d.Run(ctx) }()
	eventually(t, "20 messages sent", func() bool { return r.d.Stats().Sent == 20 })
	cancel()
	<-done
	if dup := allSent(t, s, r.srv, phones); dup != 0 {
		t.Errorf("%d messages submitted twice", dup)
	}
	if r.d.Stats().Throttled == 0 {
		t.Error("nothing was throttled")
	}
}

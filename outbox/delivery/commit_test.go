package delivery_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// countingStore counts the Record calls a dispatcher makes, and their rows.
type countingStore struct {
	deliveryStore
	records, rows atomic.Int64
}

func (c *countingStore) Record(ctx context.Context, outcomes []outbox.Outcome) (int, error) {
	c.records.Add(1)
	c.rows.Add(int64(len(outcomes)))
	return c.deliveryStore.Record(ctx, outcomes)
}

// submits is a sender that answers at once, counting what it was given by
// destination.
type submits struct {
	mu  sync.Mutex
	got map[string]int
	n   int
}

func (s *submits) Name() string { return "fake-1" }

func (s *submits) Submit(_ context.Context, m *smpp.SubmitSM) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string]int{}
	}
	s.got["+"+m.DestAddr]++
	s.n++
	return fmt.Sprint(s.n), nil
}

// On PostgreSQL the outcomes of 2,000 submits are committed many at once:
// far fewer statements than messages, and every message is recorded sent.
func TestDispatchPostgresGroupCommit(t *testing.T) {
	pg := newPostgres(t)
	const total = 2000
	phones := queue(t, pg, total, time.Now())
	store := &countingStore{deliveryStore: pg}
	sub := &submits{}
	d := &delivery.Dispatcher{Store: store, Routes: routeAll{}, Source: "8080", Batch: 200,
		Senders: map[string]delivery.Sender{"fake": sub}}
	if n, err := d.Drain(t.Context()); err != nil || n != total {
		t.Fatalf("Drain = %d, %v; want %d", n, err, total)
	}
	if got := store.rows.Load(); got != total {
		t.Errorf("%d outcomes recorded, want %d", got, total)
	}
	if r := store.records.Load(); r > total/20 {
		t.Errorf("%d Record statements for %d messages: outcomes are not grouped", r, total)
	}
	for _, p := range phones {
		if m := messageTo(t, pg, p); m.Status != outbox.MessageSent || m.SMSCID == "" {
			t.Fatalf("message to %s is %+v, want sent with its id", p, m)
		}
	}
	t.Logf("%d messages, %d Record statements", total, store.records.Load())
}

// A claim whose lease runs out while it waits for the bind's rate is not
// submitted: it is left for the next claim, and every message is submitted
// once in all, even with a second dispatcher claiming behind the first.
func TestDispatchStaleClaimNotSent(t *testing.T) {
	s := newMemory()
	const total = 12
	phones := queue(t, s, total, time.Now())
	sub := &submits{}
	newDispatcher := func() *delivery.Dispatcher {
		return &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8080", Batch: total,
			Lease: 200 * time.Millisecond, Rate: map[string]rate.Limit{"fake": 40}, // 25 ms apart: 12 take 300 ms
			Senders: map[string]delivery.Sender{"fake": sub}}
	}
	first := newDispatcher()
	if _, err := first.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st := first.Stats(); st.Stale == 0 {
		t.Fatalf("stats %+v: want claims left stale behind the rate", st)
	}
	time.Sleep(200 * time.Millisecond) // the stale claims' leases end
	second := newDispatcher()
	second.Lease = time.Minute
	if _, err := second.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sent := first.Stats().Sent + second.Stats().Sent; sent != total {
		t.Errorf("%d sent in all, want %d", sent, total)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	for _, p := range phones {
		if sub.got[p] != 1 {
			t.Errorf("message to %s submitted %d times, want once", p, sub.got[p])
		}
		if m := messageTo(t, s, p); m.Status != outbox.MessageSent {
			t.Errorf("message to %s is %s, want sent", p, m.Status)
		}
	}
}

// Two messages to one number leave in the order they were written, even
// when the first is deferred: the second waits behind it.
func TestDispatchKeepsOrderPerNumber(t *testing.T) {
	s := newMemory()
	const to = "+237677000031"
	enqueueEach(t, s, []outbox.Message{{Phone: to, Body: "Dossier recu"}, {Phone: to, Body: "Dossier pret"}})
	snd, sent := refusingOnce("Dossier recu") // the first, refused for now
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8080", Batch: 10, BackoffBase: 20 * time.Millisecond,
		Senders: map[string]delivery.Sender{"fake": snd}}
	drainUntilSent(t, d, 2)
	if order := sent(""); len(order) != 2 || order[0] != "Dossier recu" || order[1] != "Dossier pret" {
		t.Errorf("sent %q, want the first written first", order)
	}
}

// enqueueEach writes msgs one at a time, in order, created now.
func enqueueEach(t *testing.T, s interface {
	Enqueue(context.Context, []outbox.Message) error
}, msgs []outbox.Message) {
	t.Helper()
	for _, m := range msgs {
		m.Created = time.Now()
		if err := s.Enqueue(t.Context(), []outbox.Message{m}); err != nil {
			t.Fatal(err)
		}
	}
}

// refusingOnce is a sender that refuses the first submit of body with
// ESME_RMSGQFUL (deferred, tried again) and accepts everything else; sent
// returns the bodies it accepted to phone (to any number with ""), in the
// order it accepted them.
func refusingOnce(body string) (snd *sender, sent func(phone string) []string) {
	var (
		mu       sync.Mutex
		accepted [][2]string // number, body
		refused  bool
	)
	snd = &sender{SubmitFn: func(_ context.Context, m *smpp.SubmitSM) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if string(m.ShortMessage) == body && !refused {
			refused = true
			return "", &smpp.StatusError{Command: smpp.CmdSubmitSM, Status: smpp.StatusMsgQFul}
		}
		accepted = append(accepted, [2]string{"+" + m.DestAddr, string(m.ShortMessage)})
		return fmt.Sprint(len(accepted)), nil
	}}
	return snd, func(phone string) []string {
		mu.Lock()
		defer mu.Unlock()
		var bodies []string
		for _, a := range accepted {
			if phone == "" || a[0] == phone {
				bodies = append(bodies, a[1])
			}
		}
		return bodies
	}
}

// A dispatcher and the receipts of its binds sharing Commits: receipts
// that the SMSC sends at once, while their submit's outcome still waits
// for its commit, find their message without waiting for it (outcomes are
// applied first in each batch).
func TestSharedCommitsMatchReceiptsAtOnce(t *testing.T) {
	s := newMemory()
	const total = 500
	queue(t, s, total, time.Now())
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	t.Cleanup(srv.Close)
	commits := &delivery.Commits{Outcomes: s, Receipts: s, FlushEvery: 20 * time.Millisecond}
	rc := &delivery.Receipts{Store: s, Commits: commits, Wait: 50 * time.Millisecond}
	bind := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: 50, Handler: rc.Handle("mtn-1")}, 1, nil)
	t.Cleanup(func() { bind.Close(context.Background()) })
	for deadline := time.Now().Add(5 * time.Second); bind.Status()[0].State != smpp.StateBound.String(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no bind")
		}
	}
	d := &delivery.Dispatcher{Store: s, Commits: commits, Routes: routeAll{}, Source: "8080", Batch: 100,
		Senders: map[string]delivery.Sender{"fake": named{"mtn-1", bind}}}
	if n, err := d.Drain(t.Context()); err != nil || n != total {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	eventually(t, "every receipt", func() bool { return rc.Stats().Matched == total })
	if st := rc.Stats(); st.Waited > total/20 {
		t.Errorf("%d of %d receipts waited for their message: %+v", st.Waited, total, st)
	}
}

// named gives a bind the name its receipts are matched on.
type named struct {
	name string
	*smpp.Binds
}

func (n named) Name() string { return n.name }

// An SMSC whose own window (10) is smaller than the bind's (50) answers
// THROTTLED to what overruns it: the dispatcher converges to it, halving
// its congestion window at each THROTTLED and growing it back slowly,
// instead of overrunning it again and again; every message goes once.
func TestDispatchConvergesToTheSMSCWindow(t *testing.T) {
	s := newMemory()
	const total = 1000
	phones := queue(t, s, total, time.Now())
	srv := smsctest.NewServer(smsctest.Options{Window: 10, RespDelay: 2 * time.Millisecond})
	t.Cleanup(srv.Close)
	bind := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: 50}, 1, nil)
	t.Cleanup(func() { bind.Close(context.Background()) })
	for deadline := time.Now().Add(5 * time.Second); !bind.Up(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no bind")
		}
	}
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8080", Batch: 200, ThrottlePause: 10 * time.Millisecond,
		Senders: map[string]delivery.Sender{"fake": named{"mtn-1", bind}}}
	for deadline := time.Now().Add(60 * time.Second); d.Stats().Sent < total; {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", d.Stats())
		}
		if _, err := d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	_, refused := accepted(srv)
	if th := refused[smpp.StatusThrottled]; th > total/10 {
		t.Errorf("%d submits throttled for %d messages: the window did not converge", th, total)
	}
	ids, _ := accepted(srv)
	for _, p := range phones {
		if len(ids[p]) != 1 {
			t.Fatalf("message to %s accepted %d times", p, len(ids[p]))
		}
	}
	t.Logf("%d throttled for %d messages", refused[smpp.StatusThrottled], total)
}

// An SMSC that takes fewer submits a second than the operator's rate says
// (it answers ESME_RTHROTTLED over its TPS) is converged to: the bind's
// rate halves on each throttle and grows back slowly, so few are refused.
func TestDispatchConvergesToTheSMSCRate(t *testing.T) {
	s := newMemory()
	const total = 300
	phones := queue(t, s, total, time.Now())
	srv := smsctest.NewServer(smsctest.Options{Rate: 100})
	t.Cleanup(srv.Close)
	bind := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: 10}, 1, nil)
	t.Cleanup(func() { bind.Close(context.Background()) })
	for deadline := time.Now().Add(5 * time.Second); !bind.Up(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no bind")
		}
	}
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8080", ThrottlePause: 10 * time.Millisecond,
		Rate: map[string]rate.Limit{"fake": 400}, Senders: map[string]delivery.Sender{"fake": named{"mtn-1", bind}}}
	for deadline := time.Now().Add(60 * time.Second); d.Stats().Sent < total; {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", d.Stats())
		}
		if _, err := d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	ids, refused := accepted(srv)
	if th := refused[smpp.StatusThrottled]; th > total/10 {
		t.Errorf("%d submits throttled for %d messages: the rate did not converge", th, total)
	}
	for _, p := range phones {
		if len(ids[p]) != 1 {
			t.Fatalf("message to %s accepted %d times", p, len(ids[p]))
		}
	}
	t.Logf("%d throttled for %d messages", refused[smpp.StatusThrottled], total)
}

// gatedStore holds its first Record until open is closed, counting the
// calls running at once and the rows of each.
type gatedStore struct {
	open    chan struct{}
	mu      sync.Mutex
	running int
	most    int
	rows    []int
}

func (g *gatedStore) Record(_ context.Context, outcomes []outbox.Outcome) (int, error) {
	g.mu.Lock()
	g.running++
	g.most = max(g.most, g.running)
	first := len(g.rows) == 0
	g.rows = append(g.rows, len(outcomes))
	g.mu.Unlock()
	if first {
		<-g.open
	}
	g.mu.Lock()
	g.running--
	g.mu.Unlock()
	return len(outcomes), nil
}

// recordFirst records an outcome through c on its own goroutine and
// returns once g holds its commit open: what is recorded next waits for
// the next batch. The outcome's error comes on the channel.
func recordFirst(t *testing.T, c *delivery.Commits, g *gatedStore) <-chan error {
	t.Helper()
	first := make(chan error, 1)
	go func() {
		first <- c.Record(context.Background(), outbox.Outcome{ID: 1, Attempt: 1, Status: outbox.MessageSent}, nil)
	}()
	eventually(t, "the first commit running", func() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.running == 1 })
	return first
}

// Commits run one at a time and wait for no clock: the outcomes written
// while a commit runs, however long it takes, go together in the next
// one, started as soon as it ends, never in a second commit beside it.
func TestCommitsOneAtATime(t *testing.T) {
	g := &gatedStore{open: make(chan struct{})}
	c := &delivery.Commits{Outcomes: g}
	first := recordFirst(t, c, g)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := c.Record(context.Background(), outbox.Outcome{ID: int64(i + 2), Attempt: 1, Status: outbox.MessageSent}, nil); err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // many clocks' worth: a clock would have started a commit beside it
	close(g.open)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	total := 0
	for _, n := range g.rows {
		total += n
	}
	// On a loaded machine a few of the 50 may come after the gate opened:
	// a commit or two more, never one beside another.
	if g.most != 1 || total != 51 || len(g.rows) > 4 {
		t.Errorf("commits of %v rows, %d at once at most; want one at a time, the 50 together (about [1 50])", g.rows, g.most)
	}
}

// An outcome's committed func runs on the committing goroutine, once the
// commit is done and before any caller of the batch is woken: a submit's
// place in the window is free without waiting for its goroutine's turn.
// It does not run when the commit failed.
func TestCommitsCommittedBeforeWaking(t *testing.T) {
	g := &gatedStore{open: make(chan struct{})}
	c := &delivery.Commits{Outcomes: g}
	first := recordFirst(t, c, g)
	called, hold := make(chan struct{}), make(chan struct{})
	second, third := make(chan error, 1), make(chan error, 1)
	go func() {
		second <- c.Record(context.Background(), outbox.Outcome{ID: 2, Attempt: 1, Status: outbox.MessageSent}, func() {
			close(called)
			<-hold
		})
	}()
	go func() {
		third <- c.Record(context.Background(), outbox.Outcome{ID: 3, Attempt: 1, Status: outbox.MessageSent}, nil)
	}()
	time.Sleep(200 * time.Millisecond) // both wait for the next batch
	close(g.open)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("committed was not called")
	}
	select {
	case err := <-third:
		t.Fatalf("a caller of the batch went on (%v) before its committed funcs ran", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(hold)
	if err, err3 := <-second, <-third; err != nil || err3 != nil {
		t.Fatal(err, err3)
	}
	g.mu.Lock()
	rows := g.rows
	g.mu.Unlock()
	if len(rows) != 2 || rows[1] != 2 {
		t.Errorf("commits of %v rows, want [1 2]", rows)
	}

	failing := &delivery.Commits{Outcomes: failingOutcomes{}}
	ran := false
	if err := failing.Record(context.Background(), outbox.Outcome{ID: 4, Attempt: 1, Status: outbox.MessageSent}, func() { ran = true }); err == nil || ran {
		t.Errorf("a failed commit: Record returned %v, committed called: %v; want the error, not called", err, ran)
	}
}

type failingOutcomes struct{}

func (failingOutcomes) Record(context.Context, []outbox.Outcome) (int, error) {
	return 0, errors.New("the database is gone")
}

// receiptsGated holds its receipts until receipts closes; its outcomes are
// committed at once, but the first batch's, which wait for open. It also
// commits both in one call, as postgres.Outbox can, a call that waits for
// the receipts too: Commits must not use it.
type receiptsGated struct {
	gatedStore
	receipts chan struct{}
}

func (g *receiptsGated) ApplyReceipts(_ context.Context, rs []outbox.Receipt) ([]bool, error) {
	<-g.receipts
	return make([]bool, len(rs)), nil
}

func (g *receiptsGated) Commit(ctx context.Context, outcomes []outbox.Outcome, rs []outbox.Receipt) (int, []bool, error) {
	n, _ := g.Record(ctx, outcomes)
	m, err := g.ApplyReceipts(ctx, rs)
	return n, m, err
}

// A submit's outcome is committed and its caller goes on (its place in
// the window with it) before the receipts of the same batch are applied:
// however long they take, it waits for its own commit only.
func TestCommitsOutcomesBeforeReceipts(t *testing.T) {
	g := &receiptsGated{gatedStore: gatedStore{open: make(chan struct{})}, receipts: make(chan struct{})}
	c := &delivery.Commits{Outcomes: g, Receipts: g}
	first := recordFirst(t, c, &g.gatedStore)
	applied := make(chan error, 1)
	go func() {
		_, err := c.Apply(context.Background(), outbox.Receipt{Bind: "mtn-1", Phone: "+237677000001", SMSCID: "1", State: "DELIVRD"})
		applied <- err
	}()
	recorded := make(chan error, 1)
	go func() {
		recorded <- c.Record(context.Background(), outbox.Outcome{ID: 2, Attempt: 1, Status: outbox.MessageSent}, nil)
	}()
	time.Sleep(200 * time.Millisecond) // both wait for the next batch (a loaded machine may take long to start them)
	close(g.open)
	select {
	case err := <-recorded:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the outcome waited for the receipts of its batch")
	}
	select {
	case <-applied:
		t.Fatal("the receipt was applied while its store held it")
	default:
	}
	close(g.receipts)
	if err := <-applied; err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.rows) != 2 || g.rows[1] != 1 {
		t.Errorf("outcomes committed %v at a time, want [1 1]", g.rows)
	}
}

// slowRoute routes every number to the fake operator, taking its time for
// one number: the Drain's loop, which routes each message before queueing
// it, is held there while the lanes go on with what it queued before.
type slowRoute struct {
	slow  string
	pause time.Duration
}

func (r slowRoute) Operator(phone string) (string, bool) {
	if phone == r.slow {
		time.Sleep(r.pause)
	}
	return "fake", true
}

// A message refused and deferred before the Drain's loop reaches the next
// one to its number (here another number's message between them holds the
// loop) still holds that one back: the second message is deferred behind
// it, not sent first. It went first when the refused message's link was
// forgotten on its deferral (TestDispatchKeepsOrderPerNumber caught it
// once in 300 runs under -race).
func TestDispatchKeepsOrderBehindADeferredMessageDone(t *testing.T) {
	s := newMemory()
	const to, other = "+237677000031", "+237677000032"
	enqueueEach(t, s, []outbox.Message{{Phone: to, Body: "Dossier recu"}, {Phone: other, Body: "Autre"}, {Phone: to, Body: "Dossier pret"}})
	snd, sent := refusingOnce("Dossier recu") // refused at once, while the loop waits on other's route
	d := &delivery.Dispatcher{Store: s, Routes: slowRoute{slow: other, pause: 100 * time.Millisecond}, Source: "8080", Batch: 10, BackoffBase: 20 * time.Millisecond,
		Senders: map[string]delivery.Sender{"fake": snd}}
	drainUntilSent(t, d, 3)
	if order := sent(to); len(order) != 2 || order[0] != "Dossier recu" || order[1] != "Dossier pret" {
		t.Errorf("sent %q to %s, want the first written first", order, to)
	}
}

// In one claim, a case's notification to a number does not wait behind a
// campaign message to it that was written before and deferred (a campaign
// never delays a case's notification, as the store claims them); the
// campaign's next message still waits behind the deferred one. On
// PostgreSQL, whose claim takes the three at once (outbox.Memory's takes
// the notification alone first).
func TestDispatchTransactionalNotBehindDeferredBulk(t *testing.T) {
	s := newPostgres(t)
	const to = "+237677000041"
	enqueueEach(t, s, []outbox.Message{{Phone: to, Body: "Campagne 1", Bulk: true}, {Phone: to, Body: "Dossier recu"}, {Phone: to, Body: "Campagne 2", Bulk: true}})
	snd, sent := refusingOnce("Campagne 1")
	d := &delivery.Dispatcher{Store: s, Routes: routeAll{}, Source: "8080", Batch: 10, BackoffBase: 20 * time.Millisecond,
		Senders: map[string]delivery.Sender{"fake": snd}}
	// Whether the deferred campaign message is due again within the first
	// drain depends on the machine's speed; the order sent does not.
	drainUntilSent(t, d, 3)
	if order := sent(""); !slices.Equal(order, []string{"Dossier recu", "Campagne 1", "Campagne 2"}) {
		t.Errorf("sent %q, want the notification, then the campaign's two in order", order)
	}
}

// drainUntilSent drains d until it has sent n, 20 times at most, 10 ms
// apart: what was deferred for a moment goes in a later drain.
func drainUntilSent(t *testing.T, d *delivery.Dispatcher, n uint64) {
	t.Helper()
	for range 20 {
		if d.Stats().Sent == n {
			return
		}
		if _, err := d.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if d.Stats().Sent == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordingStore keeps what Commits gives it: the outcomes of each Record
// and the receipts of each ApplyReceipts, which all match. With short, a
// Record applies one outcome fewer than it is given (a claim ran out).
type recordingStore struct {
	short    bool
	mu       sync.Mutex
	outcomes [][]outbox.Outcome
	receipts [][]outbox.Receipt
}

func (s *recordingStore) Record(_ context.Context, outcomes []outbox.Outcome) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes = append(s.outcomes, slices.Clone(outcomes))
	if s.short {
		return len(outcomes) - 1, nil
	}
	return len(outcomes), nil
}

func (s *recordingStore) ApplyReceipts(_ context.Context, rs []outbox.Receipt) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receipts = append(s.receipts, slices.Clone(rs))
	matched := make([]bool, len(rs))
	for i := range matched {
		matched[i] = true
	}
	return matched, nil
}

// A receipt that comes in the same batch as its message's outcome (the
// SMSC sent it before the outcome was committed) is folded into the
// outcome: the message is written once, the receipt is answered matched
// with the outcome's commit, and no receipts' statement runs for it. Only
// on the bind, number and SMSC id of a sent message; if an outcome of the
// batch was not applied, the folded receipts are applied as any. A
// receipt of a later batch names its message by its id.
func TestCommitsFoldReceipts(t *testing.T) {
	const phone = "+237677000031"
	sent := outbox.Outcome{ID: 1, Attempt: 1, Status: outbox.MessageSent, Bind: "mtn-1", SMSCID: "a1", Phone: phone}
	receipt := func(bind, id, state string) outbox.Receipt {
		return outbox.Receipt{Bind: bind, Phone: phone, SMSCID: id, State: state}
	}
	for _, tc := range []struct {
		name     string
		receipts []outbox.Receipt
		short    bool
		folded   string           // the outcome's Receipt
		applied  []outbox.Receipt // what ApplyReceipts got
	}{
		{name: "its outcome's", receipts: []outbox.Receipt{receipt("mtn-1", " a1 ", "DELIVRD")}, folded: "DELIVRD"},
		{name: "another bind's", receipts: []outbox.Receipt{receipt("mtn-2", "a1", "DELIVRD")},
			applied: []outbox.Receipt{receipt("mtn-2", "a1", "DELIVRD")}},
		{name: "another id", receipts: []outbox.Receipt{receipt("mtn-1", "a2", "DELIVRD")},
			applied: []outbox.Receipt{{ID: 0, Bind: "mtn-1", Phone: phone, SMSCID: "a2", State: "DELIVRD"}}},
		{name: "a claim ran out", short: true, receipts: []outbox.Receipt{receipt("mtn-1", "a1", "DELIVRD")}, folded: "DELIVRD",
			applied: []outbox.Receipt{receipt("mtn-1", "a1", "DELIVRD")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &recordingStore{short: tc.short}
			// One batch of every write here: it starts once all have come.
			c := &delivery.Commits{Outcomes: s, Receipts: s, FlushEvery: time.Minute, FlushRows: 1 + len(tc.receipts)}
			var wg sync.WaitGroup
			wg.Go(func() {
				if err := c.Record(t.Context(), sent, nil); err != nil {
					t.Error(err)
				}
			})
			for _, r := range tc.receipts {
				wg.Go(func() {
					if matched, err := c.Apply(t.Context(), r); err != nil || !matched {
						t.Errorf("Apply(%+v) = %v, %v; want matched", r, matched, err)
					}
				})
			}
			wg.Wait()
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.outcomes) != 1 || len(s.outcomes[0]) != 1 {
				t.Fatalf("outcomes recorded %v, want the one in one batch", s.outcomes)
			}
			if got := s.outcomes[0][0].Receipt; got != tc.folded {
				t.Errorf("the outcome carried receipt %q, want %q", got, tc.folded)
			}
			var applied []outbox.Receipt
			for _, b := range s.receipts {
				applied = append(applied, b...)
			}
			if !slices.Equal(applied, tc.applied) {
				t.Errorf("receipts applied apart %+v, want %+v", applied, tc.applied)
			}
			if want := uint64(len(tc.receipts) - len(tc.applied)); c.Folded() != want {
				t.Errorf("Folded() = %d, want %d", c.Folded(), want)
			}
		})
	}
	t.Run("a later batch's", func(t *testing.T) {
		s := &recordingStore{}
		c := &delivery.Commits{Outcomes: s, Receipts: s}
		if err := c.Record(t.Context(), sent, nil); err != nil {
			t.Fatal(err)
		}
		if matched, err := c.Apply(t.Context(), receipt("mtn-1", "a1", "DELIVRD")); err != nil || !matched {
			t.Fatalf("Apply = %v, %v", matched, err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if want := [][]outbox.Receipt{{{ID: 1, Bind: "mtn-1", Phone: phone, SMSCID: "a1", State: "DELIVRD"}}}; !slices.EqualFunc(s.receipts, want, slices.Equal) {
			t.Errorf("receipts applied %+v, want %+v: named by its message's id", s.receipts, want)
		}
	})
}

package delivery_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/outbox/delivery"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// BenchmarkDispatch pushes 20,000 notifications from the outbox through one
// bind (window 10) to a simulator answering after 2 ms, and reports
// messages per second next to the protocol's limit for that window and
// delay (window ÷ round trip = 5,000/s); then the same over 3 operators at
// once (limit 15,000/s). Run: go test -run '^$' -bench Dispatch -benchtime 1x ./outbox/
func BenchmarkDispatch(b *testing.B) {
	const total, window, rtt = 20000, 10, 2 * time.Millisecond
	operators := map[string]string{"mtn": "237677", "orange": "237699", "nexttel": "237662"}
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("operators=%d", n), func(b *testing.B) {
			var routes []smpp.Route
			senders := map[string]delivery.Sender{}
			var prefixes []string
			for name, prefix := range operators {
				if len(senders) == n {
					break
				}
				srv := smsctest.NewServer(smsctest.Options{RespDelay: rtt})
				b.Cleanup(srv.Close)
				binds := startBinds(name, smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: window}, 1, nil)
				b.Cleanup(func() { binds.Close(context.Background()) })
				for deadline := time.Now().Add(5 * time.Second); binds.Status()[0].State != smpp.StateBound.String(); time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						b.Fatal("no bind")
					}
				}
				senders[name] = binds
				routes = append(routes, smpp.Route{Operator: name, Prefixes: []string{prefix}})
				prefixes = append(prefixes, prefix)
			}
			r, err := smpp.NewRoutes(routes, "")
			if err != nil {
				b.Fatal(err)
			}
			// The simulator's 2 ms is a timer that overshoots: measure the
			// round trip of one submit at a time on the first bind, to give
			// the protocol's limit for the round trip really seen.
			const probes = 200
			probe := senders[sortedNames(senders)[0]]
			start := time.Now()
			for range probes {
				if _, err := probe.Submit(context.Background(), &smpp.SubmitSM{SourceAddr: "8080", DestAddr: "237677000000", ShortMessage: []byte("probe")}); err != nil {
					b.Fatal(err)
				}
			}
			measured := time.Since(start) / probes
			for b.Loop() {
				b.StopTimer()
				store := outbox.NewMemory()
				now := time.Now()
				const ref = "20000011"
				msgs := make([]outbox.Message, total)
				for i := range msgs {
					msgs[i] = outbox.Message{Phone: fmt.Sprintf("+%s%06d", prefixes[i%len(prefixes)], i), Lang: "fr", Kind: "moved",
						CaseRef: ref, Created: now, Body: fmt.Sprintf("Dossier %s: disponible au guichet. %d", ref, i)}
				}
				if err := store.Enqueue(context.Background(), msgs); err != nil {
					b.Fatal(err)
				}
				d := &delivery.Dispatcher{Store: store, Routes: r, Senders: senders, Source: "8080", Batch: 50 * window * n}
				var before []smpp.Stats
				for _, name := range sortedNames(senders) {
					before = append(before, senders[name].(*smpp.Binds).Stats())
				}
				b.StartTimer()
				start := time.Now()
				for sent := 0; sent < total; {
					k, err := d.Drain(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					sent += k
				}
				elapsed := time.Since(start)
				if st := d.Stats(); st.Sent != total {
					b.Fatalf("sent %d of %d (%+v)", st.Sent, total, st)
				}
				perSec := float64(total) / elapsed.Seconds()
				limit := float64(window*n) / rtt.Seconds()
				b.ReportMetric(perSec, "msgs/s")
				b.ReportMetric(limit, "limit/s")
				b.ReportMetric(perSec/limit, "of-limit")
				b.ReportMetric(float64(measured.Microseconds())/1000, "rtt_ms")
				b.ReportMetric(perSec/(float64(window*n)/measured.Seconds()), "of-measured-limit")
				// The round trip under this load, as the binds saw it, and how
				// full the dispatcher kept their windows.
				var rtt, busy time.Duration
				var ok uint64
				for i, name := range sortedNames(senders) {
					st := senders[name].(*smpp.Binds).Stats()
					rtt += st.SubmitRTT - before[i].SubmitRTT
					busy += st.WindowBusy - before[i].WindowBusy
					ok += st.SubmitOK - before[i].SubmitOK
				}
				loaded := rtt / time.Duration(ok)
				b.ReportMetric(float64(loaded.Microseconds())/1000, "loaded-rtt-ms")
				b.ReportMetric(perSec/(float64(window*n)/loaded.Seconds()), "of-loaded-limit")
				b.ReportMetric(float64(busy)/float64(window*n)/float64(elapsed), "window-full")
			}
		})
	}
}

func sortedNames(m map[string]delivery.Sender) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// startBinds dials binds as serve does: NewBinds, then Start with cfg's
// handler.
func startBinds(name string, cfg smpp.BindConfig, n int, log *slog.Logger) *smpp.Binds {
	b := smpp.NewBinds(name, cfg, n, log)
	b.Start(cfg.Handler)
	return b
}

// BenchmarkDispatchPostgres drains 20,000 notifications from the outbox in
// PostgreSQL through one bind (window 100) to a simulator that answers at
// once and sends a receipt for each, and waits for every receipt to be
// applied: the durable path end to end. Beside it, in the same run, the
// bare bind submitting 20,000 messages as fast as its window allows: what
// no outbox can beat on this SMSC. Run:
// go test -run '^$' -bench DispatchPostgres -benchtime 1x ./outbox/delivery/
func BenchmarkDispatchPostgres(b *testing.B) {
	const total, window = 20000, 100
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	b.Cleanup(srv.Close)
	b.Run("bare-bind", func(b *testing.B) {
		bind := startBinds("mtn", smpp.BindConfig{Addr: srv.Addr(), SystemID: "guichet", Window: window}, 1, nil)
		b.Cleanup(func() { bind.Close(context.Background()) })
		waitBound(b, bind)
		for b.Loop() {
			start := time.Now()
			var wg sync.WaitGroup
			sem := make(chan struct{}, window)
			for i := range total {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					if _, err := bind.Submit(context.Background(), &smpp.SubmitSM{SourceAddr: "8080", DestAddr: fmt.Sprintf("237677%06d", i), ShortMessage: []byte("Dossier pret")}); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "msgs/s")
		}
	})
	b.Run("outbox-postgres", func(b *testing.B) { benchOutboxPostgres(b, srv.Addr(), total, window, nil, nil) })
}

// benchOutboxPostgres drains total notifications from a PostgreSQL outbox
// through one bind to the SMSC at addr, waits for every receipt, and reports msgs/s;
// then calls done, if any, with the time it took.
// benchOutboxPostgres drains total messages through one bind to addr,
// calling begin (if not nil) once they are enqueued and bound, right before
// the drain, and done with the time it took.
func benchOutboxPostgres(b *testing.B, addr string, total, window int, begin func(), done func(time.Duration)) {
	for range b.N {
		b.StopTimer()
		s := newPostgres(b)
		msgs := make([]outbox.Message, total)
		for i := range msgs {
			msgs[i] = outbox.Message{Phone: fmt.Sprintf("+237677%06d", i), Lang: "fr", Kind: "moved", CaseRef: "20000011",
				Created: time.Now(), Body: "Dossier 20000011: disponible au guichet."}
		}
		for c := range slices.Chunk(msgs, 1000) {
			if err := s.Enqueue(context.Background(), c); err != nil {
				b.Fatal(err)
			}
		}
		timed := &timedCommits{s: s}
		commits := &delivery.Commits{Outcomes: timed, Receipts: timed}
		rc := &delivery.Receipts{Store: s, Commits: commits}
		bind := startBinds("mtn", smpp.BindConfig{Addr: addr, SystemID: "guichet", Window: window, Handler: rc.Handle("mtn")}, 1, nil)
		waitBound(b, bind)
		d := &delivery.Dispatcher{Store: s, Commits: commits, Routes: routeAll{}, Senders: map[string]delivery.Sender{"fake": bind}, Source: "8080", Batch: 1000}
		if begin != nil {
			begin()
		}
		before := bind.Stats()
		b.StartTimer()
		start := time.Now()
		for deadline := time.Now().Add(2 * time.Minute); d.Stats().Sent < uint64(total) && time.Now().Before(deadline); {
			n, err := d.Drain(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				// Nothing due (deferred behind a pause, or no bind up):
				// serve's Run waits too, instead of asking again at once.
				time.Sleep(time.Millisecond)
			}
		}
		sent := time.Since(start)
		// A receipt may come twice (its ack lost with a connection): count
		// the messages delivered, not the receipts matched.
		delivered := func() int {
			counts, err := s.deliveryStore.(interface {
				DeliveryCounts(ctx context.Context, from, to time.Time) ([]outbox.DeliveryCount, error)
			}).DeliveryCounts(context.Background(), time.Time{}, time.Now().Add(time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, c := range counts {
				if c.Status == outbox.MessageDelivered {
					n += c.N
				}
			}
			return n
		}
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if rc.Stats().Matched >= uint64(total) && delivered() == total {
				break
			}
		}
		all := time.Since(start)
		b.ReportMetric(float64(total-delivered()), "receipts-missing")
		// Receipts that came before their message's outcome was committed,
		// and waited for it: each costs two statements more.
		b.ReportMetric(float64(rc.Stats().Waited), "receipts-waited")
		// Receipts committed with their message's outcome, in its
		// statement: they came before it was committed.
		b.ReportMetric(float64(commits.Folded()), "receipts-folded")
		// Where a submit's place in the window goes: its round trip to the
		// SMSC, then the commit of its outcome (which waits for the one
		// running, if any).
		after := bind.Stats()
		if n := after.SubmitOK - before.SubmitOK; n > 0 {
			b.ReportMetric(float64((after.SubmitRTT-before.SubmitRTT).Microseconds())/float64(n)/1000, "submit-rtt-ms")
		}
		for _, k := range []struct {
			name string
			c    *timedKind
		}{{"outcome", &timed.outcomes}, {"receipt", &timed.receipts}} {
			if n := k.c.n.Load(); n > 0 {
				b.ReportMetric(float64(k.c.took.Load())/float64(n)/1e6, k.name+"-commit-ms")
				b.ReportMetric(float64(k.c.rows.Load())/float64(n), k.name+"s/commit")
			}
		}
		bind.Close(context.Background())
		b.ReportMetric(float64(total)/sent.Seconds(), "msgs/s")
		b.ReportMetric(float64(total)/all.Seconds(), "with-receipts-msgs/s")
		st := d.Stats()
		if st.Sent != uint64(total) {
			b.Errorf("stats %+v", st)
		}
		// Submits whose connection went before their answer came: the SMSC
		// may have taken them; only these may go twice.
		b.ReportMetric(float64(st.MaybeSent), "unanswered-resent")
		if done != nil {
			done(all)
		}
	}
}

func waitBound(b *testing.B, binds *smpp.Binds) {
	b.Helper()
	for deadline := time.Now().Add(5 * time.Second); binds.Status()[0].State != smpp.StateBound.String(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("no bind")
		}
	}
}

// timedCommits is the outbox's writes of outcomes and of receipts, timed:
// how long each kind's commits took and how many rows they wrote.
type timedCommits struct {
	s                  stores
	outcomes, receipts timedKind
}

type timedKind struct {
	n, rows atomic.Int64
	took    atomic.Int64 // nanoseconds
}

func (k *timedKind) timed(rows int, start time.Time) {
	k.n.Add(1)
	k.rows.Add(int64(rows))
	k.took.Add(int64(time.Since(start)))
}

func (t *timedCommits) Record(ctx context.Context, outcomes []outbox.Outcome) (int, error) {
	defer t.outcomes.timed(len(outcomes), time.Now())
	return t.s.Record(ctx, outcomes)
}

func (t *timedCommits) ApplyReceipts(ctx context.Context, rs []outbox.Receipt) ([]bool, error) {
	defer t.receipts.timed(len(rs), time.Now())
	return t.s.deliveryStore.(delivery.ReceiptStore).ApplyReceipts(ctx, rs)
}

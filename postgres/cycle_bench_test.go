package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/kanneltest"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres/pgtest"
)

// BenchmarkOutboxCycle is PostgreSQL's share of a message's life in the
// outbox, statement by statement, without SMPP: 20,000 messages written
// (enqueued 1,000 at a time as the inbox and case moves do, or sent by the
// ministries' API in lists of 100, SendOnce, each under its idempotency
// key), claimed 1,000 at a time, their outcomes committed 50 at a time (the group
// commit's usual batch under load), then their receipts 50 at a time. It
// reports the server's CPU a message for each step (all its processes:
// backends, WAL writer, checkpointer), which the SMS benchmark can only
// give as a sum. Run:
// go test -run '^$' -bench OutboxCycle -benchtime 1x ./postgres/
func BenchmarkOutboxCycle(b *testing.B) {
	b.Run("enqueue", func(b *testing.B) { benchCycle(b, false) })
	b.Run("api-lists-of-100", func(b *testing.B) { benchCycle(b, true) })
}

func benchCycle(b *testing.B, api bool) {
	const total, claim, group = 20000, 1000, 50
	ctx := context.Background()
	pgCPU := kanneltest.PostgresCPU(b, pgtest.URL())
	for range b.N {
		s := newStore(b).Outbox()
		var writes, claims, outcomes, receipts time.Duration
		step := func(into *time.Duration, do func()) {
			before := pgCPU()
			do()
			*into += pgCPU() - before
		}
		phones := make([]string, total)
		for i := range phones {
			phones[i] = fmt.Sprintf("+237677%06d", i)
		}
		if api {
			var wg sync.WaitGroup
			step(&writes, func() {
				for k, c := range slices.Collect(slices.Chunk(phones, 100)) {
					wg.Go(func() {
						snd := outbox.Send{To: c, Default: "fr", Body: map[string]string{"fr": "Vaccination samedi au centre de sante.", "en": "Vaccination on Saturday at the health centre."},
							Owner: "minsante", Kind: "api", Bulk: true}
						if _, err := s.SendOnce(ctx, "minsante", strconv.Itoa(k), snd, func([]outbox.Placed) ([]byte, error) { return []byte("{}"), nil }); err != nil {
							b.Error(err)
						}
					})
				}
				wg.Wait()
			})
		} else {
			msgs := make([]outbox.Message, total)
			for i := range msgs {
				msgs[i] = outbox.Message{Phone: phones[i], Lang: "fr", Kind: "moved", CaseRef: "20000011",
					Created: time.Now(), Body: "Dossier 20000011: disponible au guichet."}
			}
			step(&writes, func() {
				for c := range slices.Chunk(msgs, 1000) {
					if err := s.Enqueue(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		var sent []outbox.Message
		for len(sent) < total {
			var got []outbox.Message
			step(&claims, func() {
				var err error
				if got, err = s.ClaimMessages(ctx, claim, time.Minute, time.Now()); err != nil {
					b.Fatal(err)
				}
			})
			if len(got) == 0 {
				b.Fatalf("claimed nothing after %d", len(sent))
			}
			for c := range slices.Chunk(got, group) {
				os := make([]outbox.Outcome, len(c))
				for i, m := range c {
					os[i] = outbox.Outcome{ID: m.ID, Attempt: m.Attempts, Status: outbox.MessageSent, Bind: "mtn", SMSCID: strconv.FormatInt(m.ID, 16)}
				}
				step(&outcomes, func() {
					if n, err := s.Record(ctx, os); err != nil || n != len(os) {
						b.Fatalf("recorded %d of %d: %v", n, len(os), err)
					}
				})
			}
			sent = append(sent, got...)
		}
		for c := range slices.Chunk(sent, group) {
			rs := make([]outbox.Receipt, len(c))
			for i, m := range c {
				rs[i] = outbox.Receipt{Bind: "mtn", Phone: m.Phone, SMSCID: strconv.FormatInt(m.ID, 16), State: "DELIVRD"}
			}
			step(&receipts, func() {
				matched, err := s.ApplyReceipts(ctx, rs)
				if err != nil || slices.Contains(matched, false) {
					b.Fatalf("receipts matched %v: %v", matched, err)
				}
			})
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / total }
		b.ReportMetric(per(writes), "write-µs/msg")
		b.ReportMetric(per(claims), "claim-µs/msg")
		b.ReportMetric(per(outcomes), "outcome-µs/msg")
		b.ReportMetric(per(receipts), "receipt-µs/msg")
		b.ReportMetric(per(writes+claims+outcomes+receipts), "postgres-cpu-µs/msg")
	}
}

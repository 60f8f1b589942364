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
// ministries' API, SendOnce, one number a request or in lists of 100, from
// 32 requests at once, without idempotency keys as BenchmarkAPISideBySide
// sends them), claimed 1,000 at a time, their outcomes committed 50 at a time (the group
// commit's usual batch under load), then their receipts 50 at a time. It
// reports the server's CPU a message for each step (all its processes:
// backends, WAL writer, checkpointer), which the SMS benchmark can only
// give as a sum. Run:
// go test -run '^$' -bench OutboxCycle -benchtime 1x ./postgres/
func BenchmarkOutboxCycle(b *testing.B) {
	b.Run("enqueue", func(b *testing.B) { benchCycle(b, 0) })
	b.Run("api-one-a-request", func(b *testing.B) { benchCycle(b, 1) })
	b.Run("api-lists-of-100", func(b *testing.B) { benchCycle(b, 100) })
}

// benchCycle writes by the API per numbers a request from 32 requests at
// once, or enqueues (per 0).
func benchCycle(b *testing.B, per int) {
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
		if per > 0 {
			var wg sync.WaitGroup
			sem := make(chan struct{}, 32)
			step(&writes, func() {
				for _, c := range slices.Collect(slices.Chunk(phones, per)) {
					sem <- struct{}{}
					wg.Go(func() {
						defer func() { <-sem }()
						snd := outbox.Send{To: c, Default: "fr", Body: map[string]string{"fr": "Vaccination samedi au centre de sante.", "en": "Vaccination on Saturday at the health centre."},
							Owner: "minsante", Kind: "api", Bulk: true}
						if _, err := s.SendOnce(ctx, "minsante", "", snd, func([]outbox.Placed) ([]byte, error) { return []byte("{}"), nil }); err != nil {
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

package postgres_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
)

// latencies collects the duration of each operation, to report the 99th
// percentile beside the mean that ns/op gives.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	p99 := l.d[min(len(l.d)-1, len(l.d)*99/100)]
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
}

func caseOf(phone string) cases.Case {
	now := time.Now()
	return cases.Case{
		Service: "birth-certificate", Status: cases.StatusReceived, Phone: phone, Lang: "fr", Channel: "ussd",
		Data:   map[string]string{"office": "bafoussam-ec", "name": "Ngo Biyong", "born": "01021990"},
		Opened: now, Updated: now,
		History: []cases.Event{{Status: cases.StatusReceived, At: now, Channel: "ussd", Who: phone}},
	}
}

func opened(c cases.Case) []outbox.Message {
	return []outbox.Message{{Phone: c.Phone, Lang: "fr", Body: "Dossier " + c.Ref + " depose. Suivi: *123*4*" + c.Ref + "#", Kind: "opened", CaseRef: c.Ref}}
}

// BenchmarkOpenCase opens cases one after another, each with its SMS in
// the outbox.
func BenchmarkOpenCase(b *testing.B) {
	s := newStore(b).Cases()
	var l latencies
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		if _, err := s.OpenCase(b.Context(), caseOf(fmt.Sprintf("+2376770%05d", i%100000)), opened); err != nil {
			b.Fatal(err)
		}
		l.add(time.Since(start))
	}
	l.report(b)
}

// BenchmarkCaseLookup finds cases among 2,000, with their history, as
// cases.track and the API do.
func BenchmarkCaseLookup(b *testing.B) {
	s := newStore(b).Cases()
	var refs []string
	for i := range 2000 {
		c, err := s.OpenCase(b.Context(), caseOf(fmt.Sprintf("+2376770%05d", i)), nil)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 0 {
			m := cases.Move{Status: "processing", Who: "desk", Channel: "api", At: time.Now()}
			if _, err := s.MoveCase(b.Context(), c.Ref, m, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
		refs = append(refs, c.Ref)
	}
	var l latencies
	i := 0
	for b.Loop() {
		i++
		start := time.Now()
		if _, err := s.Case(b.Context(), refs[(i*7919)%len(refs)]); err != nil {
			b.Fatal(err)
		}
		l.add(time.Since(start))
	}
	l.report(b)
}

// BenchmarkBookContended books from 12 goroutines at once, all on the same
// slot until its 50 places are taken, then all on the next one: the worst
// case, every booking waiting for the slot's row.
func BenchmarkBookContended(b *testing.B) {
	const bookers = 12
	s := newStore(b).Cases()
	first := time.Date(2030, time.January, 7, 8, 0, 0, 0, cases.Cameroon)
	now := first.Add(-24 * time.Hour)
	var (
		l    latencies
		next atomic.Int64
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	for range bookers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				bk := cases.Booking{
					Office: "douala-3", Start: first.Add(time.Duration(i/cases.GatheringLimit) * time.Hour),
					Service: "visit", Phone: fmt.Sprintf("+2376%08d", i), Lang: "fr", Channel: "ussd", Booked: now,
				}
				start := time.Now()
				if _, err := s.Book(b.Context(), bk, cases.GatheringLimit, now, func(bk cases.Booking) []outbox.Message {
					return []outbox.Message{{Phone: bk.Phone, Body: "RDV " + bk.Ref, Kind: "booked", CaseRef: bk.Ref}}
				}); err != nil {
					b.Error(err)
					return
				}
				l.add(time.Since(start))
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "bookings/s")
	l.report(b)
}

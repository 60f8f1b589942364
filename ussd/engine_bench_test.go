package ussd_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/ussd"
)

// BenchmarkStep is the engine alone, sessions in memory: each iteration is
// a first-time caller's whole birth certificate application in Africa's
// Talking's dialect (dial, language, service, office, name, date, confirm).
func BenchmarkStep(b *testing.B) {
	benchmarkWalks(b, nil)
}

// BenchmarkStepRedis is the same with sessions in Redis: two round trips
// per hop (GET, then the compare-and-set script), and a SET of the language.
func BenchmarkStepRedis(b *testing.B) {
	client, prefix := sessionstest.Redis(b)
	benchmarkWalks(b, sessions.NewRedis(client, prefix))
}

// newBenchFixture is newFixture for a benchmark, which newFixture's
// *testing.T does not allow: the built-in catalogue, the native case service (cases.Service) in
// memory, a fixed clock.
func newBenchFixture(b *testing.B, store ussd.Store) *fixture {
	b.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)} // no recorder: the engine's own does nothing
	f.cases = cases.NewMemory(outbox.NewMemory())
	if err := f.cases.Seed(context.Background()); err != nil {
		b.Fatal(err)
	}
	native := &cases.Service{DB: f.cases, Catalogue: cat, Now: func() time.Time { return f.now }}
	if store == nil {
		store = sessions.NewMemory(func() time.Time { return f.now })
	}
	f.eng = ussd.NewEngine(cat, store, native, nil, ussd.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.eng.Now = func() time.Time { return f.now }
	return f
}

func benchmarkWalks(b *testing.B, store ussd.Store) {
	f := newBenchFixture(b, store)
	ctx := context.Background()
	// The texts Africa's Talking sends, hop by hop.
	texts := []string{""}
	for i := range toConfirm {
		texts = append(texts, strings.Join(toConfirm[:i+1], "*"))
	}
	texts = append(texts, texts[len(texts)-1]+"*1")
	walks := 0
	b.ReportAllocs()
	for b.Loop() {
		// A new number each walk, so that each picks its language.
		ph, session := fmt.Sprintf("+237%09d", 600000000+walks), fmt.Sprintf("s%d", walks)
		walks++
		var rep ussd.Reply
		for _, text := range texts {
			var err error
			if rep, err = f.eng.Step(ctx, at(session, ph, text)); err != nil {
				b.Fatalf("hop %q: %v", text, err)
			}
		}
		if !rep.End || !strings.Contains(rep.Text, "Dossier") {
			b.Fatalf("the walk ended on %+v", rep)
		}
	}
	hops := walks * len(texts)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(hops), "ns/hop")
	b.ReportMetric(float64(hops)/b.Elapsed().Seconds(), "hops/s")
}

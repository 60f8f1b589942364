package delivery_test

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/guichet/guichet/kanneltest"
	"github.com/guichet/guichet/postgres/pgtest"
)

// BenchmarkSMSSideBySide sends 20,000 notifications through one bind
// (window 100) to one SMSC process (guichet smsc on loopback, answering at
// once), first through Kannel (Debian's bearerbox and smsbox, its store
// off; HTTP sendsms with dlr-mask=3 and a dlr-url, then without receipts;
// 100 recipients a request, as a campaign is sent, from 64 requests at
// once: KANNEL_PER_REQUEST changes it), then through Guichet's outbox on
// PostgreSQL with receipts, in the same run, and again under each of the
// simulator's fault modes, and with the SMSC answering after 5 and 20 ms
// (Kannel then also without receipts). Each side reports msgs/s (until
// every message was submitted, and with receipts until every one was
// applied or called back), CPU per message of that side's processes (Kannel's two boxes;
// Guichet's dispatcher, this process, and PostgreSQL's) and of the SMSC's,
// lost and duplicated; for Guichet also the write system calls a message
// (to the SMSC and to PostgreSQL). make bench-sms installs Kannel; without it the
// Kannel runs are skipped. Run:
// go test -run '^$' -bench SMSSideBySide -benchtime 1x ./outbox/delivery/
func BenchmarkSMSSideBySide(b *testing.B) {
	const total, window = 20000, 100
	for _, mode := range []struct {
		name  string
		flags []string
		noDLR bool // Kannel again without receipts
	}{
		{"", nil, true},
		{"throttle-every-100/", []string{"--throttle-every", "100"}, false},
		{"smsc-window-50-5ms/", []string{"--window", "50", "--resp-delay", "5ms"}, false},
		{"drop-every-3000/", []string{"--drop-after", "3000"}, false},
		// An operator's SMSC answers over a network, not at once: the
		// window, held a round trip on Kannel's side and a round trip and
		// a commit on ours, then sets both rates.
		{"smsc-answers-5ms/", []string{"--resp-delay", "5ms"}, true},
		{"smsc-answers-20ms/", []string{"--resp-delay", "20ms"}, true},
	} {
		b.Run(mode.name+"kannel-dlr", func(b *testing.B) { benchKannel(b, total, window, true, mode.flags) })
		if mode.noDLR {
			b.Run(mode.name+"kannel-no-dlr", func(b *testing.B) { benchKannel(b, total, window, false, mode.flags) })
		}
		b.Run(mode.name+"guichet-postgres-receipts", func(b *testing.B) { benchGuichet(b, total, window, mode.flags) })
	}
}

func benchGuichet(b *testing.B, total, window int, flags []string) {
	// The dispatcher runs in this process: with the collector's target
	// guichet serve runs it with (cmd/guichet's defaultGCPercent).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	smsc := kanneltest.StartSMSC(b, true, flags...)
	pgCPU := kanneltest.PostgresCPU(b, pgtest.URL())
	var pg, self, sc time.Duration
	var writes int
	begin := func() { pg, self, sc, writes = pgCPU(), kanneltest.SelfCPU(), smsc.CPU(), kanneltest.SelfWrites() }
	benchOutboxPostgres(b, smsc.Addr, total, window, begin, func(elapsed time.Duration) {
		gw, db := kanneltest.SelfCPU()-self, pgCPU()-pg
		b.ReportMetric(float64((gw+db).Microseconds())/float64(total), "cpu-µs/msg")
		b.ReportMetric(float64(db.Microseconds())/float64(total), "postgres-cpu-µs/msg")
		b.ReportMetric(float64((smsc.CPU()-sc).Microseconds())/float64(total), "smsc-cpu-µs/msg")
		b.ReportMetric(float64(kanneltest.SelfWrites()-writes)/float64(total), "writes/msg")
		reportSubmits(b, smsc.Submitted(b), total)
	})
}

func benchKannel(b *testing.B, total, window int, dlr bool, flags []string) {
	smsc := kanneltest.StartSMSC(b, dlr, flags...)
	k := kanneltest.Start(b, smsc.Addr, window, dlr)
	per := 100
	if v, err := strconv.Atoi(os.Getenv("KANNEL_PER_REQUEST")); err == nil && v > 0 {
		per = v
	}
	accepted := func() int {
		n, err := smsc.Accepted()
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); accepted() == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("Kannel's first message did not reach the SMSC")
		}
	}
	base, cpu0, cpuSMSC := accepted(), k.CPU(), smsc.CPU()
	dlr0 := k.Delivered()
	start := time.Now()
	kanneltest.Spread(b, total, per, 64, "237677%06d", k.Send)
	for deadline := time.Now().Add(time.Minute); accepted()-base < total && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Since(start)
	done := accepted() - base
	b.ReportMetric(float64(done), "submitted-in-time")
	if dlr {
		for deadline := time.Now().Add(time.Minute); k.Delivered()-dlr0 < int64(total) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	all := time.Since(start)
	b.ReportMetric(float64(done)/sent.Seconds(), "msgs/s")
	if dlr {
		b.ReportMetric(float64(k.Delivered()-dlr0)/all.Seconds(), "with-receipts-msgs/s")
	}
	b.ReportMetric(float64((k.CPU()-cpu0).Microseconds())/float64(total), "cpu-µs/msg")
	b.ReportMetric(float64((smsc.CPU()-cpuSMSC).Microseconds())/float64(total), "smsc-cpu-µs/msg")
	reportSubmits(b, smsc.Submitted(b), total)
}

// reportSubmits reports what a simulator accepted of total messages to
// 237677000000 onwards: lost and duplicated.
func reportSubmits(b *testing.B, subs []kanneltest.Submitted, total int) {
	lost, dup := kanneltest.LostAndDuplicated(subs, total, "237677%06d")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dup), "duplicated")
}

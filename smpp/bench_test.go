package smpp_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// BenchmarkSubmitWindow10RTT2ms sends 20,000 submits per iteration through
// one bind with window 10 to a simulator answering after 2 ms, and reports
// messages/s next to the protocol limit window ÷ RTT = 5,000/s.
// Run: go test -run ^$ -bench SubmitWindow10 -benchtime 1x ./smpp
func BenchmarkSubmitWindow10RTT2ms(b *testing.B) {
	const (
		total  = 20000
		window = 10
		rtt    = 2 * time.Millisecond
	)
	srv := smsctest.NewServer(smsctest.Options{RespDelay: rtt})
	defer srv.Close()
	bind := dial(b, srv, smpp.BindConfig{Window: window, RespTimeout: 10 * time.Second})
	m := sms("Votre dossier est pret.")
	// The simulator's 2 ms is a timer: measure the round trip one submit at
	// a time too, to tell the bind's overhead from the timer's overshoot.
	const probes = 200
	probeStart := time.Now()
	for range probes {
		if _, err := bind.Submit(context.Background(), m); err != nil {
			b.Fatalf("Submit: %v", err)
		}
	}
	measuredRTT := time.Since(probeStart) / probes
	var elapsed time.Duration
	sent := 0
	before := bind.Stats()
	for b.Loop() {
		start := time.Now()
		jobs := make(chan int)
		var wg sync.WaitGroup
		errs := make(chan error, 1)
		for range 2 * window {
			wg.Go(func() {
				for range jobs {
					if _, err := bind.Submit(context.Background(), m); err != nil {
						select {
						case errs <- err:
						default:
						}
					}
				}
			})
		}
		for i := range total {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		elapsed += time.Since(start)
		sent += total
		select {
		case err := <-errs:
			b.Fatalf("Submit: %v", err)
		default:
		}
	}
	if got := len(srv.Submitted()); got != sent+probes {
		b.Fatalf("simulator got %d submits, sent %d", got, sent)
	}
	rate := float64(sent) / elapsed.Seconds()
	after := bind.Stats()
	loaded := (after.SubmitRTT - before.SubmitRTT) / time.Duration(after.SubmitOK-before.SubmitOK)
	b.ReportMetric(float64(loaded.Microseconds())/1000, "loaded_rtt_ms")
	b.ReportMetric(rate/(float64(window)/loaded.Seconds()), "ratio_to_loaded_rtt")
	b.ReportMetric(float64(after.WindowBusy-before.WindowBusy)/float64(window)/float64(elapsed), "window_full")
	limit := float64(window) / rtt.Seconds()
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(limit, "limit_msgs/s")
	b.ReportMetric(rate/limit, "ratio")
	b.ReportMetric(float64(measuredRTT.Microseconds())/1000, "rtt_ms")
	b.ReportMetric(rate/(float64(window)/measuredRTT.Seconds()), "ratio_to_measured_rtt")
	b.ReportMetric(0, "ns/op")
	if testing.Verbose() {
		fmt.Printf("%d submits: %.0f msgs/s, limit %.0f/s, ratio %.3f, measured RTT %v\n", sent, rate, limit, rate/limit, measuredRTT)
	}
}

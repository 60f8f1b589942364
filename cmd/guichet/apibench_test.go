package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/kanneltest"
	"github.com/guichet/guichet/postgres"
)

// BenchmarkAPISideBySide sends 20,000 SMS the way a ministry's system
// would: through Kannel's sendsms and through Guichet's POST
// /api/v1/messages, one number a request from 32 requests at once, then in
// lists of 100, to the same guichet smsc process, receipts on both sides;
// msg/s from the first request to the last receipt (called back by Kannel,
// applied in Guichet's outbox). Guichet runs as its own process on
// PostgreSQL; each 202 comes once its messages are durable. Run:
// go test -run '^$' -bench APISideBySide -benchtime 1x ./cmd/guichet/
func BenchmarkAPISideBySide(b *testing.B) {
	const total, window = 20000, 100
	for _, per := range []int{1, 100} {
		name := fmt.Sprintf("per-request-%d/", per)
		b.Run(name+"kannel", func(b *testing.B) { benchKannelAPI(b, total, window, per) })
		b.Run(name+"guichet", func(b *testing.B) { benchGuichetAPI(b, total, window, per) })
	}
}

func benchKannelAPI(b *testing.B, total, window, per int) {
	smsc := kanneltest.StartSMSC(b, true)
	k := kanneltest.Start(b, smsc.Addr, window, true)
	for deadline := time.Now().Add(20 * time.Second); k.Delivered() == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("Kannel's first receipt did not come")
		}
	}
	d0, cpu0 := k.Delivered(), k.CPU()
	start := time.Now()
	kanneltest.Spread(b, total, per, 32, "237678%06d", k.Send)
	accepted := time.Since(start)
	for deadline := time.Now().Add(2 * time.Minute); k.Delivered()-d0 < int64(total) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	all := time.Since(start)
	b.ReportMetric(float64(total)/accepted.Seconds(), "accepted-msgs/s")
	b.ReportMetric(float64(k.Delivered()-d0)/all.Seconds(), "msgs/s")
	b.ReportMetric(float64(int64(total)-(k.Delivered()-d0)), "receipts-missing")
	b.ReportMetric(float64((k.CPU()-cpu0).Microseconds())/float64(total), "cpu-µs/msg")
}

func benchGuichetAPI(b *testing.B, total, window, per int) {
	smsc := kanneltest.StartSMSC(b, true)
	url, pool := migrated(b)
	secret := apikey.New()
	if err := postgres.New(pool).Keys().AddAPIKey(context.Background(), apikey.Key{Owner: "civil-status", Created: time.Now(),
		PerSecond: 100_000, PerDay: 10_000_000}, apikey.Hash(secret)); err != nil {
		b.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", kanneltest.FreePorts(b, 1)[0])
	base := "http://" + addr
	cmd, logs := gatewayProcess(b, fmt.Sprintf(`http: %q
database_url: %q
log_level: warn
smpp:
  operators:
    - {name: mtn, addr: %q, system_id: guichet, window: %d, source: "8080"}
`, addr, url, smsc.Addr, window))
	proc := cmd.Process.Pid
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("the gateway did not come up:\n%s", tail(logs.String(), 2000))
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	send := func(numbers []string) error {
		body, _ := json.Marshal(map[string]any{"to": numbers, "text": map[string]string{"fr": "Dossier 20000011: disponible au guichet."}})
		req, _ := http.NewRequest("POST", base+"/api/v1/messages", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		// Read to its end, as Kannel's client does, so that the
		// connection is kept for the next request.
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("POST /api/v1/messages: %s", resp.Status)
		}
		return nil
	}
	delivered := func() int {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE status = 'delivered'`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	pg := kanneltest.CPUOf(kanneltest.Processes("postgres"))
	backends0 := backendsCPU(b, pool, nil)
	gw := kanneltest.CPUOf([]int{proc})
	start := time.Now()
	kanneltest.Spread(b, total, per, 32, "237678%06d", send)
	accepted := time.Since(start)
	// The SMSC's count is free to ask; the outbox's costs the database a
	// scan: asked once the SMSC took them all (its receipts are then a few
	// milliseconds from committed), every 10 ms, a handful of scans, so
	// that the wait between two looks is not what is measured (Kannel's
	// side counts its callbacks as they come).
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, err := smsc.Accepted(); err == nil && n >= total {
			break
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); delivered() < total && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	all := time.Since(start)
	got := delivered()
	b.ReportMetric(float64(total)/accepted.Seconds(), "accepted-msgs/s")
	b.ReportMetric(float64(got)/all.Seconds(), "msgs/s")
	b.ReportMetric(float64(total-got), "receipts-missing")
	gwCPU, pgCPU := kanneltest.CPUOf([]int{proc})-gw, kanneltest.CPUOf(kanneltest.Processes("postgres"))-pg
	b.ReportMetric(float64((gwCPU+pgCPU).Microseconds())/float64(total), "cpu-µs/msg")
	b.ReportMetric(float64(pgCPU.Microseconds())/float64(total), "postgres-cpu-µs/msg")
	// Other engineers' databases share the server: the CPU of this
	// database's own backends alone (the server's background processes
	// left out) is the steadier figure.
	var own time.Duration
	for _, cpu := range backendsCPU(b, pool, backends0) {
		own += cpu
	}
	b.ReportMetric(float64(own.Microseconds())/float64(total), "postgres-backends-cpu-µs/msg")
	lost, dup := kanneltest.LostAndDuplicated(smsc.Submitted(b), total, "237678%06d")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dup), "duplicated")
}

// backendsCPU returns the CPU of each backend serving pool's database,
// less what it had in since (a backend not in since counts whole).
func backendsCPU(b *testing.B, pool *pgxpool.Pool, since map[int]time.Duration) map[int]time.Duration {
	rows, _ := pool.Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		out[int(pid)] = kanneltest.CPUOf([]int{int(pid)}) - since[int(pid)]
	}
	return out
}

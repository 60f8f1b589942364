package delivery_test

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/guichet/guichet/smpp/smsctest"
)

// BenchmarkSMSSideBySide sends 20,000 notifications through one bind
// (window 100) to one simulator, answering at once, first through Kannel
// (Debian's bearerbox and smsbox, its store off; HTTP sendsms with
// dlr-mask=3 and a dlr-url, then without receipts), then through Guichet's
// outbox on PostgreSQL with receipts, in the same run. Each side reports
// msgs/s (until every message was submitted, and with receipts until every
// one was applied or called back), CPU per message of that side's processes
// (Kannel's two boxes; for Guichet this test process, simulator included,
// and PostgreSQL's), lost and duplicated. make bench-sms installs Kannel;
// without it the Kannel runs are skipped. Run:
// go test -run '^$' -bench SMSSideBySide -benchtime 1x ./outbox/delivery/
func BenchmarkSMSSideBySide(b *testing.B) {
	const total, window = 20000, 100
	for _, mode := range []struct {
		name string
		opts smsctest.Options
	}{
		{"", smsctest.Options{}},
		{"throttle-every-100/", smsctest.Options{ThrottleEvery: 100}},
		{"smsc-window-50-5ms/", smsctest.Options{Window: 50, RespDelay: 5 * time.Millisecond}},
		{"drop-every-3000/", smsctest.Options{DropAfter: 3000}},
	} {
		b.Run(mode.name+"kannel-dlr", func(b *testing.B) { benchKannel(b, total, window, true, mode.opts) })
		if mode.name == "" {
			b.Run("kannel-no-dlr", func(b *testing.B) { benchKannel(b, total, window, false, mode.opts) })
		}
		b.Run(mode.name+"guichet-postgres-receipts", func(b *testing.B) { benchGuichet(b, total, window, mode.opts) })
	}
}

func benchGuichet(b *testing.B, total, window int, opts smsctest.Options) {
	{
		opts.Receipts = true
		srv := smsctest.NewServer(opts)
		b.Cleanup(srv.Close)
		pg := cpuOf(processes("postgres"))
		self := selfCPU()
		benchOutboxPostgres(b, srv, total, window, func(elapsed time.Duration) {
			gw, db := selfCPU()-self, cpuOf(processes("postgres"))-pg
			b.ReportMetric(float64((gw+db).Microseconds())/float64(total), "cpu-µs/msg")
			b.ReportMetric(float64(db.Microseconds())/float64(total), "postgres-cpu-µs/msg")
			reportSubmits(b, srv.Submitted(), total)
		})
	}
}

func benchKannel(b *testing.B, total, window int, dlr bool, opts smsctest.Options) {
	bearerbox, err := exec.LookPath("bearerbox")
	if err != nil {
		b.Skip("no Kannel here (make bench-sms installs Debian's kannel)")
	}
	smsbox, _ := exec.LookPath("smsbox")
	opts.Receipts = dlr
	srv := smsctest.NewServer(opts)
	b.Cleanup(srv.Close)
	var dlrs atomic.Int64
	dlrURL := ""
	if dlr {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("type") == "1" { // delivered
				dlrs.Add(1)
			}
		})}
		go hs.Serve(ln)
		b.Cleanup(func() { hs.Close() })
		dlrURL = "http://" + ln.Addr().String() + "/dlr?type=%d"
	}
	ports := freePorts(b, 3)
	host, port, _ := net.SplitHostPort(srv.Addr())
	conf := fmt.Sprintf(`group = core
admin-port = %d
admin-password = bench
smsbox-port = %d
log-level = 4
box-allow-ip = 127.0.0.1
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sim
host = %s
port = %s
transceiver-mode = true
smsc-username = guichet
smsc-password = x
system-type = "VMA"
receive-port = 0
max-pending-submits = %d
msg-id-type = 0x00

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %d
sendsms-port = %d
log-level = 4

group = sendsms-user
username = bench
password = bench
`, ports[0], ports[1], host, port, window, ports[1], ports[2])
	dir := b.TempDir()
	file := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		b.Fatal(err)
	}
	var procs []*exec.Cmd
	for _, bin := range []string{bearerbox, smsbox} {
		cmd := exec.Command(bin, "-v", "4", file)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		procs = append(procs, cmd)
		b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		time.Sleep(500 * time.Millisecond)
	}
	sendsms := fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", ports[2])
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	per := 1
	if v, err := strconv.Atoi(os.Getenv("KANNEL_PER_REQUEST")); err == nil && v > 0 {
		per = v
	}
	send := func(i int) error {
		to := make([]string, 0, per)
		for j := i; j < min(i+per, max(total, i+1)); j++ {
			to = append(to, fmt.Sprintf("237677%06d", j))
		}
		q := url.Values{"username": {"bench"}, "password": {"bench"}, "from": {"8080"},
			"to": {strings.Join(to, " ")}, "text": {"Dossier 20000011: disponible au guichet."}}
		if dlr {
			q.Set("dlr-mask", "3")
			q.Set("dlr-url", dlrURL)
		}
		resp, err := client.Get(sendsms + "?" + q.Encode())
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("sendsms: %s", resp.Status)
		}
		return nil
	}
	for deadline := time.Now().Add(20 * time.Second); send(999999) != nil || len(srv.Submitted()) == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("Kannel did not come up")
		}
	}
	base := len(srv.Submitted())
	var pids []int
	for _, p := range procs {
		pids = append(pids, p.Process.Pid)
	}
	cpu0 := cpuOf(pids)
	start := time.Now()
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(int64(per))) - per; i < total; i = int(next.Add(int64(per))) - per {
				if err := send(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for deadline := time.Now().Add(time.Minute); len(srv.Submitted())-base < total && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Since(start)
	b.ReportMetric(float64(len(srv.Submitted())-base), "submitted-in-time")
	if dlr {
		for deadline := time.Now().Add(time.Minute); dlrs.Load() < int64(total) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	all := time.Since(start)
	b.ReportMetric(float64(len(srv.Submitted())-base)/sent.Seconds(), "msgs/s")
	if dlr {
		b.ReportMetric(float64(dlrs.Load())/all.Seconds(), "with-receipts-msgs/s")
	}
	b.ReportMetric(float64((cpuOf(pids)-cpu0).Microseconds())/float64(total), "cpu-µs/msg")
	reportSubmits(b, srv.Submitted()[base:], total)
}

// reportSubmits reports what a simulator accepted of total messages to
// 237677000000 onwards: lost and duplicated.
func reportSubmits(b *testing.B, subs []smsctest.Submitted, total int) {
	seen := map[string]int{}
	for _, s := range subs {
		if s.MessageID != "" {
			seen[s.Message.DestAddr]++
		}
	}
	lost, dup := 0, 0
	for i := range total {
		switch n := seen[fmt.Sprintf("237677%06d", i)]; {
		case n == 0:
			lost++
		case n > 1:
			dup++
		}
	}
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(dup), "duplicated")
}

func freePorts(b *testing.B, n int) []int {
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// processes returns the pids of the processes whose command is name.
func processes(name string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.TrimSpace(string(comm)) == name {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cpuOf sums the user and system CPU of pids, from /proc.
func cpuOf(pids []int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) > 12 {
			u, _ := strconv.ParseInt(fields[11], 10, 64)
			st, _ := strconv.ParseInt(fields[12], 10, 64)
			ticks += u + st
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// selfCPU is this process's user and system CPU.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

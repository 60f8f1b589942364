package delivery_test

import (
	"encoding/json"
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
)

// BenchmarkSMSSideBySide sends 20,000 notifications through one bind
// (window 100) to one SMSC process (guichet smsc on loopback, answering at
// once), first through Kannel (Debian's bearerbox and smsbox, its store
// off; HTTP sendsms with dlr-mask=3 and a dlr-url, then without receipts;
// 100 recipients a request, as a campaign is sent, from 64 requests at
// once: KANNEL_PER_REQUEST changes it), then through Guichet's outbox on
// PostgreSQL with receipts, in the same run, and again under each of the
// simulator's fault modes. Each side reports msgs/s (until every message
// was submitted, and with receipts until every one was applied or called
// back), CPU per message of that side's processes (Kannel's two boxes;
// Guichet's dispatcher, this process, and PostgreSQL's) and of the SMSC's,
// lost and duplicated. make bench-sms installs Kannel; without it the
// Kannel runs are skipped. Run:
// go test -run '^$' -bench SMSSideBySide -benchtime 1x ./outbox/delivery/
func BenchmarkSMSSideBySide(b *testing.B) {
	const total, window = 20000, 100
	for _, mode := range []struct {
		name  string
		flags []string
	}{
		{"", nil},
		{"throttle-every-100/", []string{"--throttle-every", "100"}},
		{"smsc-window-50-5ms/", []string{"--window", "50", "--resp-delay", "5ms"}},
		{"drop-every-3000/", []string{"--drop-after", "3000"}},
	} {
		b.Run(mode.name+"kannel-dlr", func(b *testing.B) { benchKannel(b, total, window, true, mode.flags) })
		if mode.name == "" {
			b.Run("kannel-no-dlr", func(b *testing.B) { benchKannel(b, total, window, false, mode.flags) })
		}
		b.Run(mode.name+"guichet-postgres-receipts", func(b *testing.B) { benchGuichet(b, total, window, mode.flags) })
	}
}

func benchGuichet(b *testing.B, total, window int, flags []string) {
	smsc := startSMSC(b, true, flags)
	pg := cpuOf(processes("postgres"))
	self, sc := selfCPU(), smsc.cpu()
	benchOutboxPostgres(b, smsc.addr, total, window, func(elapsed time.Duration) {
		gw, db := selfCPU()-self, cpuOf(processes("postgres"))-pg
		b.ReportMetric(float64((gw+db).Microseconds())/float64(total), "cpu-µs/msg")
		b.ReportMetric(float64(db.Microseconds())/float64(total), "postgres-cpu-µs/msg")
		b.ReportMetric(float64((smsc.cpu()-sc).Microseconds())/float64(total), "smsc-cpu-µs/msg")
		reportSubmits(b, smsc.submitted(b), total)
	})
}

// smscProcess is a guichet smsc started for one benchmark.
type smscProcess struct {
	addr, base string
	pid        int
}

var (
	guichetOnce sync.Once
	guichetBin  string
	guichetErr  error
)

// startSMSC builds guichet once and starts its simulator on loopback,
// sending receipts at once if asked, with the fault mode's flags.
func startSMSC(b *testing.B, receipts bool, flags []string) *smscProcess {
	b.Helper()
	guichetOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guichet-bench")
		if err != nil {
			guichetErr = err
			return
		}
		guichetBin = filepath.Join(dir, "guichet")
		if out, err := exec.Command("go", "build", "-o", guichetBin, "../../cmd/guichet").CombinedOutput(); err != nil {
			guichetErr = fmt.Errorf("building guichet: %v\n%s", err, out)
		}
	})
	if guichetErr != nil {
		b.Fatal(guichetErr)
	}
	ports := freePorts(b, 2)
	s := &smscProcess{addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), base: fmt.Sprintf("http://127.0.0.1:%d", ports[1])}
	delay := "0"
	if receipts {
		delay = "1ms"
	}
	args := append([]string{"smsc", "--smpp", s.addr, "--http", s.base[len("http://"):], "--quiet", "--keep", "1000000",
		"--receipt-delay", delay}, flags...)
	cmd := exec.Command(guichetBin, args...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s.pid = cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := s.accepted(); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("guichet smsc did not come up")
		}
	}
	return s
}

func (s *smscProcess) cpu() time.Duration { return cpuOf([]int{s.pid}) }

// accepted is how many submit_sm the SMSC answered ESME_ROK.
func (s *smscProcess) accepted() (int, error) {
	resp, err := http.Get(s.base + "/accepted")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var n int
	_, err = fmt.Fscan(resp.Body, &n)
	return n, err
}

// submitted is every submit_sm the SMSC remembers: to whom, and the id it
// answered (none if refused).
func (s *smscProcess) submitted(b *testing.B) []submitted {
	resp, err := http.Get(s.base + "/submitted")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var subs []submitted
	if err := json.NewDecoder(resp.Body).Decode(&subs); err != nil {
		b.Fatal(err)
	}
	return subs
}

// submitted is a submit_sm as guichet smsc lists it.
type submitted struct{ To, MessageID string }

func benchKannel(b *testing.B, total, window int, dlr bool, flags []string) {
	bearerbox, err := exec.LookPath("bearerbox")
	if err != nil {
		b.Skip("no Kannel here (make bench-sms installs Debian's kannel)")
	}
	smsbox, _ := exec.LookPath("smsbox")
	srv := startSMSC(b, dlr, flags)
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
	host, port, _ := net.SplitHostPort(srv.addr)
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
	per := 100
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
	accepted := func() int {
		n, err := srv.accepted()
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	for deadline := time.Now().Add(20 * time.Second); send(999999) != nil || accepted() == 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("Kannel did not come up")
		}
	}
	base := accepted()
	cpuSMSC := srv.cpu()
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
	for deadline := time.Now().Add(time.Minute); accepted()-base < total && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Since(start)
	done := accepted() - base
	b.ReportMetric(float64(done), "submitted-in-time")
	if dlr {
		for deadline := time.Now().Add(time.Minute); dlrs.Load() < int64(total) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}
	all := time.Since(start)
	b.ReportMetric(float64(done)/sent.Seconds(), "msgs/s")
	if dlr {
		b.ReportMetric(float64(dlrs.Load())/all.Seconds(), "with-receipts-msgs/s")
	}
	b.ReportMetric(float64((cpuOf(pids)-cpu0).Microseconds())/float64(total), "cpu-µs/msg")
	b.ReportMetric(float64((srv.cpu()-cpuSMSC).Microseconds())/float64(total), "smsc-cpu-µs/msg")
	reportSubmits(b, srv.submitted(b), total)
}

// reportSubmits reports what a simulator accepted of total messages to
// 237677000000 onwards: lost and duplicated.
func reportSubmits(b *testing.B, subs []submitted, total int) {
	seen := map[string]int{}
	for _, s := range subs {
		if s.MessageID != "" {
			seen[s.To]++
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

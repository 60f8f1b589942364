// Package kanneltest runs the peers of the SMS benchmarks, for tests and
// benchmarks only: Kannel (Debian's bearerbox and smsbox), the gateway a
// ministry would pick instead, fed through its HTTP sendsms; and an SMSC
// as a process of its own (guichet smsc, built from this module), which
// both sides of a benchmark submit to.
package kanneltest

import (
	"bytes"
	"context"
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

	"github.com/jackc/pgx/v5"
)

// SMSC is a guichet smsc process on loopback.
type SMSC struct {
	Addr, Base string // SMPP host:port; http://host:port of its inspection side
	Pid        int
}

var (
	buildOnce sync.Once
	guichet   string
	buildErr  error
)

// Guichet builds the gateway's binary once for the test binary and
// returns its path.
func Guichet(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "guichet-bench")
		if err != nil {
			buildErr = err
			return
		}
		guichet = filepath.Join(dir, "guichet")
		if out, err := exec.Command("go", "build", "-o", guichet, "github.com/guichet/guichet/cmd/guichet").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building guichet: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return guichet
}

// StartSMSC starts guichet smsc on loopback, sending receipts 1 ms after
// each answer if asked, with a fault mode's flags; it is killed at the
// test's end.
func StartSMSC(tb testing.TB, receipts bool, flags ...string) *SMSC {
	tb.Helper()
	ports := FreePorts(tb, 2)
	s := &SMSC{Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), Base: fmt.Sprintf("http://127.0.0.1:%d", ports[1])}
	delay := "0"
	if receipts {
		delay = "1ms"
	}
	args := append([]string{"smsc", "--smpp", s.Addr, "--http", strings.TrimPrefix(s.Base, "http://"), "--quiet",
		"--keep", "1000000", "--receipt-delay", delay}, flags...)
	cmd := exec.Command(Guichet(tb), args...)
	// The SMSC stands for a machine of its own; here it shares the two
	// cores with the side measured. On one thread it takes less of them
	// (the scheduler's spinning and wake-ups of two): its CPU a message
	// 24-26 -> 15.5-25 µs beside Kannel, 34-36.5 -> 26.5-27.5 beside
	// Guichet, in three alternated runs of BenchmarkSMSSideBySide.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s.Pid = cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := s.Accepted(); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatal("guichet smsc did not come up")
		}
	}
}

// CPU is the SMSC process's CPU so far.
func (s *SMSC) CPU() time.Duration { return CPUOf([]int{s.Pid}) }

// Accepted is how many submit_sm the SMSC answered ESME_ROK.
func (s *SMSC) Accepted() (int, error) {
	resp, err := http.Get(s.Base + "/accepted")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var n int
	_, err = fmt.Fscan(resp.Body, &n)
	return n, err
}

// Submitted is a submit_sm as guichet smsc lists it: to whom, and the id
// it answered (none if refused).
type Submitted struct{ To, MessageID string }

// Submitted is every submit_sm the SMSC remembers.
func (s *SMSC) Submitted(tb testing.TB) []Submitted {
	resp, err := http.Get(s.Base + "/submitted")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var subs []Submitted
	if err := json.NewDecoder(resp.Body).Decode(&subs); err != nil {
		tb.Fatal(err)
	}
	return subs
}

// Kannel is a bearerbox and an smsbox bound to one SMSC.
type Kannel struct {
	sendsms string
	dlrURL  string
	dlrs    atomic.Int64
	pids    []int
	client  *http.Client
}

// Start runs Kannel against the SMSC at smsc, one bind of window, its store
// off; with dlr, sendsms asks receipts (dlr-mask=3) and Kannel calls them
// back to a URL the test serves. The test is skipped when Kannel is not
// installed (make kannel installs Debian's).
func Start(tb testing.TB, smsc string, window int, dlr bool) *Kannel {
	tb.Helper()
	bearerbox, err := exec.LookPath("bearerbox")
	if err != nil {
		tb.Skip("no Kannel here (make kannel installs Debian's kannel)")
	}
	smsbox, _ := exec.LookPath("smsbox")
	k := &Kannel{client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}, Timeout: 30 * time.Second}}
	if dlr {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("type") == "1" { // delivered
				k.dlrs.Add(1)
			}
		})}
		go hs.Serve(ln)
		tb.Cleanup(func() { hs.Close() })
		k.dlrURL = "http://" + ln.Addr().String() + "/dlr?type=%d"
	}
	ports := FreePorts(tb, 3)
	host, port, _ := net.SplitHostPort(smsc)
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
	dir := tb.TempDir()
	file := filepath.Join(dir, "kannel.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	for _, bin := range []string{bearerbox, smsbox} {
		cmd := exec.Command(bin, "-v", "4", file)
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		k.pids = append(k.pids, cmd.Process.Pid)
		tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		time.Sleep(500 * time.Millisecond)
	}
	k.sendsms = fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", ports[2])
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		err := k.Send([]string{"237699999999"})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("Kannel did not come up: %v", err)
		}
	}
	return k
}

// Send submits one sendsms request to numbers (without +).
func (k *Kannel) Send(numbers []string) error {
	q := url.Values{"username": {"bench"}, "password": {"bench"}, "from": {"8080"},
		"to": {strings.Join(numbers, " ")}, "text": {"Dossier 20000011: disponible au guichet."}}
	if k.dlrURL != "" {
		q.Set("dlr-mask", "3")
		q.Set("dlr-url", k.dlrURL)
	}
	resp, err := k.client.Get(k.sendsms + "?" + q.Encode())
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sendsms: %s %s", resp.Status, b.String())
	}
	return nil
}

// Delivered counts the receipts Kannel called back as delivered.
func (k *Kannel) Delivered() int64 { return k.dlrs.Load() }

// CPU is Kannel's two boxes' CPU so far.
func (k *Kannel) CPU() time.Duration { return CPUOf(k.pids) }

// FreePorts returns n ports free on loopback now.
func FreePorts(tb testing.TB, n int) []int {
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// Processes returns the pids of the processes whose command is name.
func Processes(name string) []int {
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

// CPUOf sums the user and system CPU of pids, from /proc.
func CPUOf(pids []int) time.Duration {
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

// PostgresCPU is the CPU of the PostgreSQL server at dsn: its postmaster
// and every process it started (backends, writers), not another cluster's
// on the same machine. It asks the server for a backend's pid once and
// takes the postmaster as its parent; the processes are listed anew at each
// call, so compare two calls only while the server's connections stay open.
func PostgresCPU(tb testing.TB, dsn string) func() time.Duration {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("PostgreSQL for CPU counts: %v", err)
	}
	var backend int
	err = conn.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend)
	// The parent is read while the backend lives: once its connection is
	// closed it exits, and its /proc entry with it (a run failed so).
	postmaster := parent(backend)
	conn.Close(context.Background())
	if err != nil {
		tb.Fatalf("PostgreSQL for CPU counts: %v", err)
	}
	if postmaster <= 1 {
		tb.Fatalf("PostgreSQL for CPU counts: no postmaster above backend %d", backend)
	}
	return func() time.Duration {
		pids := []int{postmaster}
		for _, pid := range Processes("postgres") {
			if parent(pid) == postmaster {
				pids = append(pids, pid)
			}
		}
		return CPUOf(pids)
	}
}

// parent is pid's parent, or 0.
func parent(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// SelfCPU is this process's user and system CPU.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SelfWrites is how many write system calls this process has made
// (/proc/self/io): on a socket each carries one or more PDUs, so that
// their count a message says how well writes are shared.
func SelfWrites() int {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}

// Spread sends the numbers fmt.Sprintf(format, 0…total-1), per to a call
// of send, from workers goroutines at once; an error fails tb.
func Spread(tb testing.TB, total, per, workers int, format string, send func(numbers []string) error) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(int64(per))) - per; i < total; i = int(next.Add(int64(per))) - per {
				to := make([]string, 0, per)
				for j := i; j < min(i+per, total); j++ {
					to = append(to, fmt.Sprintf(format, j))
				}
				if err := send(to); err != nil {
					tb.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// LostAndDuplicated counts, of the numbers fmt.Sprintf(format, 0…total-1)
// (without +), those the SMSC never accepted and those it accepted more
// than once.
func LostAndDuplicated(subs []Submitted, total int, format string) (lost, dup int) {
	seen := map[string]int{}
	for _, s := range subs {
		if s.MessageID != "" {
			seen[s.To]++
		}
	}
	for i := range total {
		switch n := seen[fmt.Sprintf(format, i)]; {
		case n == 0:
			lost++
		case n > 1:
			dup++
		}
	}
	return lost, dup
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/kanneltest"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
	"github.com/guichet/guichet/sms"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The tests here run gateways as processes of their own, as a fleet does,
// from the binary built once (kanneltest.Guichet).

// gatewayProcess starts `guichet serve` with the configuration yaml and
// env's variables beside PATH and HOME; its output goes to the returned
// buffer. The test kills it at its end.
func gatewayProcess(t testing.TB, yaml string, env ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kanneltest.Guichet(t), "serve", "--config", file)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	out := phonetest.NewLog(t)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, out
}

// A gateway killed with SIGKILL in the middle of a 20,000-message drain
// loses nothing: another, started after, sends the rest once the dead
// one's claims run out, and only what was in flight or waiting for its
// commit when it died goes twice.
func TestKillNineDuringDrain(t *testing.T) {
	const total, window = 20000, 100
	ctx := context.Background()
	url, pool := migrated(t)
	out := postgres.New(pool).Outbox()
	phones := make([]string, total)
	for i := range phones {
		phones[i] = fmt.Sprintf("+2376770%05d", i)
	}
	for c := range slices.Chunk(phones, 1000) {
		msgs := make([]outbox.Message, len(c))
		for i, p := range c {
			msgs[i] = outbox.Message{Phone: p, Lang: "fr", Kind: "moved", Body: "Dossier 20000011: disponible au guichet."}
		}
		if err := out.Enqueue(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	srv := smsctest.NewServer(smsctest.Options{})
	t.Cleanup(srv.Close)
	yaml := fmt.Sprintf(`http: 127.0.0.1:0
database_url: %q
smpp:
  lease: 3s
  operators:
    - {name: mtn, addr: %q, system_id: guichet, window: %d, source: "8080"}
`, url, srv.Addr(), window)

	first, logs := gatewayProcess(t, yaml)
	waitUntil(t, 60*time.Second, "a quarter sent by the first gateway", func() bool { return len(srv.Submitted()) >= total/4 }, logs)
	if err := first.Process.Kill(); err != nil { // SIGKILL: no drain, no unbind
		t.Fatal(err)
	}
	first.Wait()
	atKill := len(srv.Submitted())

	_, logs = gatewayProcess(t, yaml)
	waitUntil(t, 120*time.Second, "every message recorded sent", func() bool {
		var sent int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'sent'`).Scan(&sent)
		return err == nil && sent == total
	}, logs)

	accepted := map[string]int{}
	for _, s := range srv.Submitted() {
		if s.MessageID != "" {
			accepted["+"+s.Message.DestAddr]++
		}
	}
	lost, twice := 0, 0
	for _, p := range phones {
		switch n := accepted[p]; {
		case n == 0:
			lost++
		case n > 1:
			twice++
		}
	}
	t.Logf("killed after %d submits; %d lost, %d sent twice", atKill, lost, twice)
	if lost != 0 {
		t.Errorf("%d messages lost", lost)
	}
	// In flight or answered and not yet committed: a submit keeps its
	// place in the window until its outcome is committed, so at most one
	// window.
	if twice > window {
		t.Errorf("%d messages sent twice, more than a window (%d)", twice, window)
	}
}

// boundHere counts the binds a gateway says it holds and has up, from its
// /status/smpp; 0 while it does not answer yet.
func boundHere(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/status/smpp")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var st struct {
		Binds []smpp.BindStatus `json:"binds"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("/status/smpp: %v", err)
	}
	n := 0
	for _, b := range st.Binds {
		if b.State == smpp.StateBound.String() && b.Holder != "" {
			n++
		}
	}
	return n
}

// migrated returns the URL of a database of the test's own, migrated, and
// a pool on it.
func migrated(t testing.TB) (string, *pgxpool.Pool) {
	t.Helper()
	url := pgtest.DB(t)
	if err := postgres.Migrate(t.Context(), url); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return url, pool
}

// waitUntil polls cond until it holds, or fails t after d with the
// process's output.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool, logs fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; the gateway said:\n%s", d, what, tail(logs.String(), 3000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Three gateways on one PostgreSQL with binds: 2 for one account: the SMSC
// never counts more than two binds, every message goes once, and when the
// gateways holding them are killed with SIGKILL, the one left holds both
// within 10 s.
func TestFleetHoldsTheConfiguredBinds(t *testing.T) {
	const total = 3000
	ctx := context.Background()
	url, pool := migrated(t)
	phones := make([]string, total)
	msgs := make([]outbox.Message, total)
	for i := range phones {
		phones[i] = fmt.Sprintf("+2376771%05d", i)
		msgs[i] = outbox.Message{Phone: phones[i], Lang: "fr", Kind: "moved", Body: "Dossier 20000011: disponible au guichet."}
	}
	if err := postgres.New(pool).Outbox().Enqueue(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	srv := smsctest.NewServer(smsctest.Options{})
	t.Cleanup(srv.Close)
	var (
		gateways []*exec.Cmd
		bases    []string
		logs     *syncBuffer
	)
	for range 3 {
		addr := freeAddr(t)
		cmd, out := gatewayProcess(t, fmt.Sprintf(`http: %q
database_url: %q
smpp:
  lease: 3s
  operators:
    - {name: mtn, addr: %q, system_id: guichet, binds: 2, window: 20, source: "8080"}
`, addr, url, srv.Addr()))
		gateways, bases, logs = append(gateways, cmd), append(bases, "http://"+addr), out
	}
	waitUntil(t, 60*time.Second, "every message sent", func() bool {
		var sent int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE status = 'sent'`).Scan(&sent)
		return err == nil && sent == total
	}, logs)
	accepted := map[string]int{}
	for _, s := range srv.Submitted() {
		if s.MessageID != "" {
			accepted["+"+s.Message.DestAddr]++
		}
	}
	for _, p := range phones {
		if accepted[p] != 1 {
			t.Fatalf("message to %s accepted %d times, want once", p, accepted[p])
		}
	}
	if now, most := srv.Bound(); now != 2 || most > 2 {
		t.Fatalf("the SMSC counts %d binds now, %d at most: want 2 and never more", now, most)
	}

	// Kill the gateways that hold the binds: the one left holds both.
	alive := map[int]bool{0: true, 1: true, 2: true}
	for len(alive) > 1 {
		victim := -1
		for i := range alive {
			if boundHere(t, bases[i]) > 0 {
				victim = i
				break
			}
		}
		if victim < 0 {
			t.Fatal("no gateway says it holds a bind")
		}
		if err := gateways[victim].Process.Kill(); err != nil {
			t.Fatal(err)
		}
		gateways[victim].Wait()
		delete(alive, victim)
		killed := time.Now()
		waitUntil(t, 10*time.Second, "the binds held by the gateways left", func() bool {
			n := 0
			for i := range alive {
				n += boundHere(t, bases[i])
			}
			now, _ := srv.Bound()
			return n == 2 && now == 2
		}, logs)
		t.Logf("both binds held by the gateways left %v after a SIGKILL", time.Since(killed).Round(10*time.Millisecond))
	}
	if _, most := srv.Bound(); most > 2 {
		t.Errorf("the SMSC counted %d binds at once, more than the 2 configured", most)
	}
}

// A long SMS whose parts the SMSC delivers on two binds held by two
// gateways (one part on each, the last one twice) is answered once, and
// the SMS a number floods two gateways with are counted together.
func TestLongSMSOnTwoGateways(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	_, prefix := sessionstest.Redis(t)
	redisURL := cmp.Or(os.Getenv("REDIS_URL"), sessionstest.DefaultRedisURL)
	srv := smsctest.NewServer(smsctest.Options{})
	t.Cleanup(srv.Close)
	var logs *syncBuffer
	// The first gateway is given one bind of the account's two, so that
	// the second takes the other: one bind each, the first bound first.
	for i, binds := range []int{1, 2} {
		addr := freeAddr(t)
		_, out := gatewayProcess(t, fmt.Sprintf(`http: %q
database_url: %q
redis_url: %q
redis_prefix: %q
smpp:
  operators:
    - {name: mtn, addr: %q, system_id: guichet, binds: %d, source: "8080"}
`, addr, url, redisURL, prefix, srv.Addr(), binds))
		logs = out
		waitUntil(t, 30*time.Second, fmt.Sprintf("gateway %d holding a bind", i+1), func() bool {
			now, _ := srv.Bound()
			return boundHere(t, "http://"+addr) == 1 && now == i+1
		}, out)
	}
	m, err := sms.Encode("SUIVI 20000011 "+strings.Repeat("merci pour votre aide ", 20), sms.Options{})
	if err != nil || len(m.Parts) < 3 {
		t.Fatalf("setup: %d parts, %v", len(m.Parts), err)
	}
	const from = "237677009001"
	deliver := func(session, part int) {
		t.Helper()
		in := smpp.Inbound{SourceAddr: from, DestAddr: "8080", ESMClass: m.ESMClass, DataCoding: m.DataCoding, ShortMessage: m.Parts[part]}
		if err := srv.InjectOn(ctx, session, in); err != nil {
			t.Fatalf("delivering part %d on bind %d: %v\n%s", part+1, session, err, tail(logs.String(), 3000))
		}
	}
	answers := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE phone = $1`, "+"+from).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// A gateway acknowledges a part once it is kept, and the last once its
	// answer is committed: what the outbox holds after each ack is final.
	for i := range m.Parts {
		deliver(i%2, i)
		if want := map[bool]int{true: 1, false: 0}[i == len(m.Parts)-1]; answers() != want {
			t.Fatalf("after part %d (at gateway %d): %d answers, want %d", i+1, i%2+1, answers(), want)
		}
	}
	deliver(len(m.Parts)%2, len(m.Parts)-1) // the last part again, at the other gateway
	if n := answers(); n != 1 {
		t.Errorf("%d answers to a long SMS whose parts came to two gateways, want 1", n)
	}

	// Eight short SMS in a minute, alternately to each gateway: five
	// answered (the limit is the fleet's, five a minute), not five each.
	const flooder = "237677009002"
	for i := range 8 {
		in := smpp.Inbound{SourceAddr: flooder, DestAddr: "8080", ShortMessage: fmt.Appendf(nil, "SUIVI 2000001%d", i)}
		if err := srv.InjectOn(ctx, i%2, in); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE phone = $1`, "+"+flooder).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("8 SMS in a minute to two gateways got %d answers, want 5", n)
	}
}

package main

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/postgres/pgtest"
)

// /readyz checks every store the gateway was configured with: on
// PostgreSQL, a database that goes away makes it 503 naming PostgreSQL,
// at once rather than after the pool's connect timeout.
func TestReadyzFollowsPostgreSQL(t *testing.T) {
	db := pgtest.DB(t)
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Migrate = db, true; forceDemo(c) })
	if code, body := get(t, g.url+"/readyz"); code != http.StatusOK || !strings.HasPrefix(body, "ready\n") {
		t.Fatalf("/readyz on a live database = %d %q, want 200 ready", code, body)
	}

	u, _ := url.Parse(db)
	name := strings.TrimPrefix(u.Path, "/")
	conn, err := pgx.Connect(t.Context(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, body := get(t, g.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "PostgreSQL") || strings.Contains(body, "session store") {
		t.Errorf("/readyz with the database gone = %d %q, want 503 naming PostgreSQL alone", code, body)
	}
	if took := time.Since(start); took > readyCheckTimeout+time.Second {
		t.Errorf("/readyz took %v with the database gone, want about %v at most", took, readyCheckTimeout)
	}
}

// On SIGTERM the gateway turns not ready first and keeps serving for
// shutdown_grace, hops included, so that load balancers take it out before
// its port closes; then it drains and the port closes.
func TestShutdownTurnsNotReadyFirst(t *testing.T) {
	const grace = 700 * time.Millisecond
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{demoOperator}
	cfg.ShutdownGrace = grace
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := freePort(t)
	base := "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, phonetest.NewLog(t)) }()
	waitServing(t, base, done)
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM = %d %q", code, body)
	}

	cancel() // as SIGTERM does
	stopped := time.Now()
	deadline := stopped.Add(grace / 2)
	for {
		code, body := get(t, base+"/readyz")
		if code == http.StatusServiceUnavailable && strings.Contains(body, "shutting down") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after SIGTERM = %d %q, want 503 shutting down", code, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	code, body := post(t, base+"/ussd/demo", "application/x-www-form-urlencoded",
		url.Values{"sessionId": {"g1"}, "phoneNumber": {"+237677100009"}, "serviceCode": {"*123#"}, "text": {""}}.Encode(), nil)
	if code != http.StatusOK || !strings.HasPrefix(body, "CON ") {
		t.Errorf("a hop during the grace = %d %q, want 200 and a menu", code, body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(grace + 10*time.Second):
		t.Fatal("serve did not stop after its grace")
	}
	if took := time.Since(stopped); took < grace {
		t.Errorf("serve stopped %v after SIGTERM, before its grace of %v", took, grace)
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("the port still takes connections after serve returned")
	}
}

// shutdown_grace defaults to 5 s, and is refused negative.
func TestShutdownGraceConfig(t *testing.T) {
	defer func(d time.Duration) { defaultShutdownGrace = d }(defaultShutdownGrace)
	defaultShutdownGrace = 5 * time.Second
	if cfg, err := loadConfig(nil, func(string) string { return "" }); err != nil || cfg.ShutdownGrace != 5*time.Second {
		t.Errorf("default shutdown_grace = %v, %v; want 5s", cfg.ShutdownGrace, err)
	}
	file := t.TempDir() + "/c.yaml"
	for yaml, want := range map[string]string{"shutdown_grace: 30s\n": "", "shutdown_grace: -1s\n": "shutdown_grace -1s is negative"} {
		if err := writeFile(file, yaml); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
		if want == "" && (err != nil || cfg.ShutdownGrace != 30*time.Second) {
			t.Errorf("%q: %v, %v", yaml, cfg.ShutdownGrace, err)
		} else if want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}

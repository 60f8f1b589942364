package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/kanneltest"
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

// With admin_http, /metrics and /status/smpp move off the operators' port
// to the admin listener, the probes answering on both; the operators' and
// the API's routes stay on the main one. Both close on SIGTERM.
func TestAdminListener(t *testing.T) {
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{demoOperator}
	cfg.AdminHTTP = fmt.Sprintf("127.0.0.1:%d", kanneltest.FreePorts(t, 1)[0])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln := freePort(t)
	base, admin := "http://"+ln.Addr().String(), "http://"+cfg.AdminHTTP
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, phonetest.NewLog(t)) }()
	waitServing(t, base, done)
	waitServing(t, admin, done)

	for _, tt := range []struct {
		url      string
		want     int
		contains string
	}{
		{base + "/healthz", 200, "ok"},
		{base + "/readyz", 200, "ready"},
		{base + "/metrics", 404, ""},
		{base + "/status/smpp", 404, ""},
		{admin + "/healthz", 200, "ok"},
		{admin + "/readyz", 200, "ready"},
		{admin + "/metrics", 200, "guichet_"},
		{admin + "/status/smpp", 200, "simulator"},
		{admin + "/hotline/", 404, ""},
	} {
		if code, body := get(t, tt.url); code != tt.want || !strings.Contains(body, tt.contains) {
			t.Errorf("GET %s = %d %.80q, want %d with %q", tt.url, code, body, tt.want, tt.contains)
		}
	}
	hop := url.Values{"sessionId": {"a1"}, "phoneNumber": {"+237677100008"}, "serviceCode": {"*123#"}, "text": {""}}.Encode()
	if code, _ := post(t, base+"/ussd/demo", "application/x-www-form-urlencoded", hop, nil); code != 200 {
		t.Errorf("a hop on the main port = %d, want 200", code)
	}
	if code, _ := post(t, admin+"/ussd/demo", "application/x-www-form-urlencoded", hop, nil); code == 200 {
		t.Errorf("a hop on the admin port = %d, want none served", code)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, addr := range []string{ln.Addr().String(), cfg.AdminHTTP} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still takes connections after serve returned", addr)
		}
	}
}

func TestAdminHTTPConfig(t *testing.T) {
	file := t.TempDir() + "/c.yaml"
	for yaml, want := range map[string]string{
		"admin_http: 127.0.0.1:9090\n":                       "",
		"admin_http: 9090\n":                                 `admin_http "9090" is not an address`,
		"http: 127.0.0.1:8080\nadmin_http: 127.0.0.1:8080\n": "is http's address too",
	} {
		if err := writeFile(file, yaml); err != nil {
			t.Fatal(err)
		}
		_, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}

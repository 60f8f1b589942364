package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/loadgen"
	"github.com/guichet/guichet/sessions/sessionstest"
)

// BenchmarkHandlerAT is one hop of Africa's Talking's dialect through the
// whole HTTP handler (router, credential, decoding, engine, store, encoding)
// with no network, next to a bare chi handler answering a constant screen:
// the ratio of their ns/op is in one run. The hops walk a French birth
// certificate application to its end, again and again, on 64 numbers that
// picked their language beforehand.
func BenchmarkHandlerAT(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchmarkHops(b, bareHandler(), false) })
	b.Run("gateway-memory", func(b *testing.B) { benchmarkHops(b, benchGateway(b, ""), true) })
	b.Run("gateway-redis", func(b *testing.B) {
		client, _ := sessionstest.Redis(b) // skips without Redis, cleans its own prefix only
		u := os.Getenv("REDIS_URL")
		if u == "" {
			u = sessionstest.DefaultRedisURL
		}
		// The gateway's keys are under build's prefix: delete this
		// benchmark's numbers' keys, before and after.
		s, l := sessionKeys(benchFirstPhone, benchPhones)
		keys := append(s, l...)
		if err := client.Unlink(context.Background(), keys...).Err(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { client.Unlink(context.Background(), keys...) })
		benchmarkHops(b, benchGateway(b, u), true)
	})
}

// The benchmark's numbers: +23767709900 and up (loadgen.Phone).
const (
	benchFirstPhone = 99900
	benchPhones     = 64
)

func benchGateway(b *testing.B, redisURL string) http.Handler {
	b.Helper()
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{demoOperator}
	cfg.RedisURL = redisURL
	g, err := build(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.close)
	// Each number picks French once.
	for i := range benchPhones {
		for _, text := range []string{"", "1"} {
			if body := hop(b, g.handler, fmt.Sprintf("pick%d", i), loadgen.Phone(benchFirstPhone+i), text); !strings.HasPrefix(body, "CON ") {
				b.Fatalf("picking a language: %q", body)
			}
		}
	}
	return g.handler
}

// benchmarkHops plays one hop per iteration; strict, it checks that each
// walk ends with a reference.
func benchmarkHops(b *testing.B, h http.Handler, strict bool) {
	texts := []string{"", "2", "2*2", "2*2*Ngo Bassa Marie", "2*2*Ngo Bassa Marie*15031990", "2*2*Ngo Bassa Marie*15031990*1"}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		walk, step := n/len(texts), n%len(texts)
		n++
		body := hop(b, h, fmt.Sprintf("walk%d", walk), loadgen.Phone(benchFirstPhone+walk%benchPhones), texts[step])
		if strict && step == len(texts)-1 && !strings.HasPrefix(body, "END Dossier ") {
			b.Fatalf("the walk ended on %q", body)
		}
	}
}

func hop(b *testing.B, h http.Handler, session, phone, text string) string {
	form := url.Values{"sessionId": {session}, "phoneNumber": {phone}, "networkCode": {"62401"},
		"serviceCode": {"*123#"}, "text": {text}}
	req := httptest.NewRequest(http.MethodPost, demoOperator.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:40000" // the demo operator answers loopback only
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(body, "CON ") && !strings.HasPrefix(body, "END ") {
		b.Fatalf("hop %q: HTTP %d %q", text, w.Code, body)
	}
	return body
}

// TestLoadgenURL loads a running gateway, each of its operators in its own
// dialect with its credential: the catalogue walked without a wrong
// screen. A wrong credential is counted as refused hops, and flags that do
// not go together are refused before anything runs.
func TestLoadgenURL(t *testing.T) {
	cfg := defaultConfig()
	cfg.Limits = LimitsConfig{CasesPerHour: -1, BookingsPerHour: -1, CallbacksPerHour: -1}
	// Dialects without a hop id: the same input twice within the window
	// is a retried request; the callers answer within a millisecond (the
	// window counts whole milliseconds: under one, no input is a retry).
	cfg.Engine.RetryWindow = time.Nanosecond
	dialects := []string{"hubtel", "madapi", "nalo", "arkesel", "generic", "africastalking"}
	for _, d := range dialects {
		cfg.Operators = append(cfg.Operators, OperatorConfig{Name: "op-" + d, Dialect: d, Path: "/ussd/op-" + d, Credential: "key-" + d, Account: "acct"})
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	base, _, _ := serveTest(t, cfg)
	for i, d := range dialects {
		t.Run(d, func(t *testing.T) {
			var out strings.Builder
			getenv := func(k string) string {
				return map[string]string{"OP_KEY": "key-" + d, "REDIS_URL": "redis://127.0.0.1:1"}[k]
			}
			// Numbers of its own per dialect: a number's session and
			// language live on in the gateway.
			err := run(context.Background(), []string{"loadgen", "--url", base + "/ussd/op-" + d, "--dialect", d, "--credential-env", "OP_KEY",
				"--callers", "4", "--duration", "300ms", "--warmup", "0s", "--first-phone", fmt.Sprint(90000 + 1000*i)},
				strings.NewReader(""), &out, io.Discard, getenv)
			if err != nil {
				t.Fatalf("%v\n%s", err, &out)
			}
			for _, want := range []string{"in " + d + "'s dialect", "Gateway sessions: running at " + base, "| gateway, sessions in running |", "0 errors",
				"not measured (the gateway runs elsewhere)"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("no %q in:\n%s", want, &out)
				}
			}
		})
	}
	t.Run("wrong credential", func(t *testing.T) {
		var out strings.Builder
		err := run(context.Background(), []string{"loadgen", "--url", base + "/ussd/op-hubtel", "--dialect", "hubtel", "--credential-env", "OP_KEY",
			"--callers", "2", "--duration", "200ms", "--warmup", "0s", "--first-phone", "97000"},
			strings.NewReader(""), &out, io.Discard, func(k string) string { return map[string]string{"OP_KEY": "key-madapi"}[k] })
		if err == nil || !strings.Contains(out.String(), "HTTP 401") {
			t.Errorf("with another operator's credential: %v\n%s", err, &out)
		}
	})
	for _, c := range []struct{ args, want string }{
		{"--dialect hubtel", "--dialect only with --url"},
		{"--remote --credential-env K", "--credential-env, --remote only with --url"},
		{"--url http://127.0.0.1:1/ussd/x --redis redis://127.0.0.1:6379", "--redis not with --url"},
		{"--url http://127.0.0.1:1/ussd/x --baseline", "--baseline not with --url"},
		{"--url http://127.0.0.1:1/ussd/x --dialect kannel", `--dialect "kannel": want one of africastalking, arkesel, generic, hubtel, madapi, nalo`},
		{"--url http://127.0.0.1:1/ussd/x --credential-env NOPE", "--credential-env: NOPE is not set"},
		{"--url http://192.0.2.1/ussd/x --duration 1s", "not on a loopback address"},
	} {
		var out strings.Builder
		err := run(context.Background(), append([]string{"loadgen"}, strings.Fields(c.args)...), strings.NewReader(""), &out, io.Discard,
			func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("loadgen %s: %v; want %q", c.args, err, c.want)
		}
	}
}

// TestLoadgenCmd runs the load generator briefly, with and without Redis:
// it walks the whole catalogue without a wrong screen, prints its table, and
// leaves none of its keys behind. It asserts nothing about speed.
func TestLoadgenCmd(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		var out strings.Builder
		err := run(context.Background(), []string{"loadgen", "--callers", "8", "--duration", "300ms", "--warmup", "0s", "--baseline"},
			strings.NewReader(""), &out, io.Discard, func(string) string { return "" })
		if err != nil {
			t.Fatalf("%v\n%s", err, &out)
		}
		for _, want := range []string{"| bare chi handler, constant screen |", "| gateway, sessions in memory |", "| gateway ÷ bare |", "0 errors"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("no %q in:\n%s", want, &out)
			}
		}
	})
	t.Run("redis", func(t *testing.T) {
		client, _ := sessionstest.Redis(t)
		u := os.Getenv("REDIS_URL")
		if u == "" {
			u = sessionstest.DefaultRedisURL
		}
		var out strings.Builder
		// Numbers of its own: a benchmark may be running on this Redis.
		const first = 98000
		err := run(context.Background(), []string{"loadgen", "--callers", "8", "--duration", "300ms", "--warmup", "0s", "--sessions", "20",
			"--first-phone", fmt.Sprint(first)},
			strings.NewReader(""), &out, io.Discard, func(k string) string { return map[string]string{"REDIS_URL": u}[k] })
		if err != nil {
			t.Fatalf("%v\n%s", err, &out)
		}
		for _, want := range []string{"| gateway, sessions in Redis |", "Redis memory of 20 live sessions", "MEMORY USAGE per session key"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("no %q in:\n%s", want, &out)
			}
		}
		s, l := sessionKeys(first, 8*10+20)
		if n, err := client.Exists(context.Background(), append(s, l...)...).Result(); err != nil || n > 0 {
			t.Errorf("%d keys left behind (%v)", n, err)
		}
	})
}

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
)

// syncBuffer is a log sink the server writes while the test reads. Made
// with phonetest.NewLog, as every gateway's output in these tests is, it
// fails its test if a line shows a phone number.
type syncBuffer = phonetest.Log

// bootServer runs serve with the operators of testdata/operators.yaml on a
// free loopback port, as main does, and stops it at the end of the test.
func bootServer(t *testing.T) (base string, logs *syncBuffer) {
	t.Helper()
	env := map[string]string{"MTN_KEY": "mtn-s3cret"}
	cfg, err := loadConfig([]string{"--config", "testdata/operators.yaml"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	base, logs, _ = serveTest(t, cfg)
	return base, logs
}

// serveTest runs serve with cfg on a free loopback port until the test
// ends (or stop, which waits for serve to return, is called), once it
// answers; its log is checked for phone numbers (phonetest.Log).
func serveTest(t *testing.T, cfg Config) (base string, logs *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = phonetest.NewLog(t)
	ln := freePort(t)
	base = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, logs) }()
	waitServing(t, base, done)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel() // as SIGTERM does
			if err := <-done; err != nil {
				t.Errorf("serve did not stop cleanly: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return base, logs, stop
}

// freePort opens a listener on a free loopback port, for serve.
func freePort(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// waitServing waits until the gateway at base answers /healthz, as a load
// balancer would before sending it traffic: it has then finished starting.
// It fails t if serve returns first.
func waitServing(t *testing.T, base string, done <-chan error) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve: %v", err)
		default:
		}
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatal("the gateway did not start in 10 s")
}

func post(t *testing.T, target, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, target string) (int, string) {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The whole program, booted from its configuration: each operator speaks
// its dialect at its path with its credential, and the gateway is watched.
func TestServe(t *testing.T) {
	base, logs := bootServer(t)

	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, body)
	}

	tests := []struct {
		name, path, ctype, body string
		header                  map[string]string
		status                  int
		contains                string
	}{
		{"madapi first hop", "/ussd/mtn-cm", "application/json",
			`{"sessionId":"m1","messageType":"0","msisdn":"237677123456","serviceCode":"*123#","ussdString":"*123#"}`,
			map[string]string{"X-Api-Key": "mtn-s3cret"}, 200, `Choisissez la langue`},
		{"madapi next hop", "/ussd/mtn-cm", "application/json",
			`{"sessionId":"m1","messageType":"1","msisdn":"237677123456","serviceCode":"*123#","ussdString":"2"}`,
			map[string]string{"X-Api-Key": "mtn-s3cret"}, 200, `Guichet: public services`},
		{"madapi timeout", "/ussd/mtn-cm", "application/json",
			`{"sessionId":"m1","messageType":"5","msisdn":"237677123456","serviceCode":"*123#","ussdString":""}`,
			map[string]string{"X-Api-Key": "mtn-s3cret"}, 200, `"statusCode":"0000"`},
		{"madapi without credential", "/ussd/mtn-cm", "application/json",
			`{"sessionId":"m2","messageType":"0","msisdn":"237677999888","serviceCode":"*123#","ussdString":"*123#"}`,
			nil, 401, ``},
		{"orange shortcut dial, a first-time caller", "/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"o1"}, "phoneNumber": {"+237699123456"}, "serviceCode": {"*123*4*10000057#"}, "text": {""}}.Encode(),
			map[string]string{"Authorization": "Bearer orange-s3cret"}, 200, "Choisissez la langue"},
		{"the shortcut plays once the language is chosen", "/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"o1"}, "phoneNumber": {"+237699123456"}, "serviceCode": {"*123*4*10000057#"}, "text": {"1"}}.Encode(),
			map[string]string{"Authorization": "Bearer orange-s3cret"}, 200, "END Dossier 10000057 (Entreprises): Disponible au guichet"},
		{"orange wrong credential", "/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"o2"}, "phoneNumber": {"+237699123457"}, "serviceCode": {"*123#"}}.Encode(),
			map[string]string{"Authorization": "Bearer nope"}, 401, ""},
		{"orange malformed number", "/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"o3"}, "phoneNumber": {"+23769912"}, "serviceCode": {"*123#"}}.Encode(),
			map[string]string{"X-Api-Key": "orange-s3cret"}, 400, "phone"},
		{"hubtel Ghana number", "/ussd/hubtel-gh", "application/json",
			`{"Type":"Initiation","Mobile":"0241234567","SessionId":"h1","ServiceCode":"*123#","Message":"*123#","Operator":"mtn","Sequence":1}`,
			map[string]string{"X-Api-Key": "hubtel-s3cret"}, 200, `"Type":"Response"`},
		{"the demo operator is not configured here", "/ussd/demo", "application/x-www-form-urlencoded", "", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := post(t, base+tt.path, tt.ctype, tt.body, tt.header)
			if code != tt.status || !strings.Contains(body, tt.contains) {
				t.Errorf("got %d %q, want %d containing %q", code, body, tt.status, tt.contains)
			}
		})
	}

	// The 160-character operator gets pages that fit 160.
	_, body := post(t, base+"/ussd/mtn-cm", "application/json",
		`{"sessionId":"m9","messageType":"0","msisdn":"237677123456","serviceCode":"*123*3*1*2#","ussdString":""}`,
		map[string]string{"X-Api-Key": "mtn-s3cret"})
	if !strings.Contains(body, "98 More") {
		t.Errorf("the slot list did not page: %s", body)
	}

	code, metrics := get(t, base+"/metrics")
	for _, want := range []string{
		`guichet_sessions_started_total{service="track"} 1`,
		`guichet_sessions_ended_total{outcome="completed",service="track"} 1`,
		`guichet_sessions_ended_total{outcome="timed_out",service="home"} 1`,
		`guichet_sessions_abandoned_total{node="home",service="home"} 1`,
		`guichet_hop_duration_seconds_count{dialect="madapi"} 4`,
		`guichet_hop_duration_seconds_count{dialect="africastalking"} 2`,
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// On the embedded default the gateway binds to its SMSC simulator.
	bound := false
	for deadline := time.Now().Add(5 * time.Second); !bound && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, st := get(t, base+"/status/smpp")
		bound = strings.Contains(st, `"operator":"simulator"`) && strings.Contains(st, `"state":"bound"`)
	}
	if !bound {
		t.Error("/status/smpp never showed the simulator bound")
	}
	if _, m := get(t, base+"/metrics"); !strings.Contains(m, `guichet_smpp_binds_bound{mode="transceiver",operator="simulator"} 1`) {
		t.Error("/metrics lacks the bound simulator")
	}

	// No phone number in clear in any log line, refusals included.
	if m := regexp.MustCompile(`(\+?237|0)?(677123456|699123456|677999888|699123457|241234567)`).FindString(logs.String()); m != "" {
		t.Errorf("a phone number reached the logs: %q in\n%s", m, logs.String())
	}
	if !strings.Contains(logs.String(), "refused a request without a valid credential") {
		t.Errorf("the 401 was not logged:\n%s", logs.String())
	}
}

// failingStore is a session store that no longer answers.
type failingStore struct{ sessionStore }

func (failingStore) Ping(context.Context) error { return errors.New("connection refused") }

func TestReadyzFollowsTheStore(t *testing.T) {
	g := newTestGateway(t, nil)
	g.sessions = failingStore{g.sessions}
	code, _ := get(t, g.url+"/readyz")
	if code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with a dead store = %d, want 503", code)
	}
}

// The demo is explicit. On the embedded default its operator takes no
// credential, from anywhere (nothing is granted for loopback: behind a
// proxy every request is). With a database it is off unless forced; then
// neither the demo's operator nor the simulator is mounted, even for a
// request that comes from loopback through a proxy.
func TestDemoIsExplicit(t *testing.T) {
	g := newTestGateway(t, nil)
	for _, remote := range []string{"127.0.0.1:5000", "198.51.100.7:443"} {
		req, _ := http.NewRequest(http.MethodPost, "/ussd/demo", strings.NewReader(url.Values{
			"sessionId": {"d1"}, "phoneNumber": {"+237677123456"}, "serviceCode": {"*123#"}, "text": {""}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = remote
		rec := newRecorder()
		g.handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Errorf("the embedded demo from %s: %d, want 200", remote, rec.Code)
		}
	}

	dir := t.TempDir()
	db := pgtest.DB(t)
	for _, tt := range []struct {
		name, yaml string
		refused    string // what the error says, if refused
		demo       bool
	}{
		{"a database, nothing else", "http: 127.0.0.1:0\n", "", false},
		{"a database and operators", "operators:\n  - {name: mtn, dialect: africastalking, credential: k}\n", "", false},
		{"a database asking a demo", "demo: true\n", "demo_force", false},
		{"a database forcing a demo", "demo: true\ndemo_force: true\n", "", true},
		{"no database, an operator", "operators:\n  - {name: mtn, dialect: africastalking, credential: k}\n", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := writeFile(file, tt.yaml); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			if strings.HasPrefix(tt.name, "a database") {
				env["DATABASE_URL"] = db
			}
			cfg, err := loadConfig([]string{"--config", file, "--migrate"}, func(k string) string { return env[k] })
			if tt.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("loadConfig: %v, want a refusal naming %s", err, tt.refused)
				}
				on := true
				cfg.Demo = &on
				if _, err := build(t.Context(), cfg, phonetest.NewLog(t).Logger(), true); err == nil || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("build: %v, want a refusal naming %s", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gw, err := build(t.Context(), cfg, phonetest.NewLog(t).Logger(), true)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.close()
			for _, path := range []string{"/ussd/demo", "/simulator/inject/sms", "/simulator/submitted"} {
				method := http.MethodPost
				if path == "/simulator/submitted" {
					method = http.MethodGet
				}
				req, _ := http.NewRequest(method, path, strings.NewReader(""))
				req.RemoteAddr = "127.0.0.1:40000" // a proxy on the same host
				req.Header.Set("X-Forwarded-For", "203.0.113.9")
				rec := newRecorder()
				gw.handler.ServeHTTP(rec, req)
				mounted := path == "/ussd/demo" && len(cfg.Operators) == 1 && cfg.Operators[0].Open || strings.HasPrefix(path, "/simulator")
				if !tt.demo && rec.Code != http.StatusNotFound {
					t.Errorf("%s %s: %d, want 404 outside a demo", method, path, rec.Code)
				}
				if tt.demo && mounted && rec.Code == http.StatusNotFound {
					t.Errorf("%s %s: 404 in a forced demo", method, path)
				}
			}
		})
	}
}

// smpp.policy names statuses by name or number; the dispatcher gets their
// numbers.
func TestConfigPolicy(t *testing.T) {
	file := t.TempDir() + "/c.yaml"
	if err := writeFile(file, "smpp:\n  policy: {esme_rsyserr: fail, ESME_RTHROTTLED: retry, 0x45: throttle}\n"); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.SMPP.policy()
	want := map[uint32]string{0x08: "fail", 0x58: "retry", 0x45: "throttle"}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("policy %v, %v; want %v", got, err, want)
	}
	if d := (&smscs{}).dispatcher(nil, nil, nil, cfg, slog.New(slog.DiscardHandler)); !maps.Equal(d.Policy, want) {
		t.Errorf("the dispatcher's policy is %v, want %v", d.Policy, want)
	}
}

func TestConfigRefusals(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown dialect", "operators: [{name: x, dialect: smoke, credential: k}]", `unknown dialect "smoke"`},
		{"no credential", "operators: [{name: x, dialect: hubtel}]", "needs a credential"},
		{"same path twice", "operators: [{name: x, dialect: hubtel, credential: k}, {name: y, dialect: hubtel, credential: k, path: /ussd/x}]", "path /ussd/x is taken"},
		{"limit out of range", "operators: [{name: x, dialect: hubtel, credential: k, screen_limit: 500}]", "outside 60…182"},
		{"unknown key", "operatorz: []", "field operatorz not found"},
		{"policy of an unknown status", "smpp: {policy: {ESME_RNOSUCH: retry}}", `"ESME_RNOSUCH" is no SMPP status`},
		{"policy of no action", "smpp: {policy: {ESME_RSYSERR: later}}", `ESME_RSYSERR: "later" is no action`},
		{"policy of success", "smpp: {policy: {0x00: fail}}", "0x00 is success"},
		{"retention not a period", "retention: {journal: 3 months}", `retention.journal: "3 months" is not a period`},
		{"a credential's variable unset", "operators: [{name: x, dialect: hubtel, credential_env: X_KEY}]", "credential_env X_KEY is not set"},
		{"an SMSC password's variable unset", "smpp: {operators: [{name: mtn, addr: '127.0.0.1:1', system_id: g, password_env: MTN_SMPP}]}", "password_env MTN_SMPP is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := t.TempDir() + "/c.yaml"
			if err := writeFile(file, tt.yaml); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestMenusCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"menus", "check", "--limit", "160"}, nil, &out, io.Discard, nil); err != nil {
		t.Fatalf("menus check of the built-in catalogue: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok: 6 services") {
		t.Errorf("menus check said %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"menus", "graph", "--format", "dot"}, nil, &out, io.Discard, nil); err != nil ||
		!strings.HasPrefix(out.String(), "digraph guichet {") || !strings.Contains(out.String(), "track/lookup: cases.track") {
		t.Errorf("menus graph: %v\n%.200s", err, out.String())
	}
	// Pictures, drawn by Graphviz (scripts/test-services.sh installs it):
	// the SVG holds the nodes' labels, the PNG is one.
	out.Reset()
	if err := run(context.Background(), []string{"menus", "graph", "--format", "svg", "--lang", "en"}, nil, &out, io.Discard, nil); err != nil ||
		!strings.Contains(out.String(), "<svg") || !strings.Contains(out.String(), "track/lookup: cases.track") {
		t.Errorf("menus graph --format svg: %v\n%.300s", err, out.String())
	}
	png := filepath.Join(t.TempDir(), "menus.png")
	out.Reset()
	if err := run(context.Background(), []string{"menus", "graph", "--format", "png", "--out", png}, nil, &out, io.Discard, nil); err != nil || out.Len() != 0 {
		t.Errorf("menus graph --format png --out: %v, printed %.100q", err, out.String())
	}
	if b, err := os.ReadFile(png); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 10_000 {
		t.Errorf("the PNG file: %d bytes, %v", len(b), err)
	}
	err := run(context.Background(), []string{"menus", "graph", "--format", "gif"}, nil, &out, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), `--format "gif": want mermaid, dot, svg or png`) {
		t.Errorf("an unknown format: %v", err)
	}
	t.Run("no graphviz", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		err := run(context.Background(), []string{"menus", "graph", "--format", "svg"}, nil, &out, io.Discard, nil)
		if err == nil || !strings.Contains(err.Error(), "needs Graphviz's dot, not found (apt-get install graphviz)") {
			t.Errorf("without dot: %v", err)
		}
	})

	// A service in one language passes, with a warning.
	one := t.TempDir()
	if err := os.CopyFS(one, os.DirFS("../../menus/catalogue")); err != nil {
		t.Fatal(err)
	}
	writeFile(one+"/courrier.yaml", "service: courrier\ncategory: G2C\nowner: mail\nlanguages: [fr]\ntitle: {fr: Courrier}\nstart: done\nnodes:\n  done:\n    end: {fr: \"Fait.\"}\n")
	out.Reset()
	if err := run(context.Background(), []string{"menus", "check", one}, nil, &out, io.Discard, nil); err != nil ||
		!strings.Contains(out.String(), `warning: courrier.yaml:1: service courrier is not written in "en": those callers get its screens in "fr"`) ||
		!strings.Contains(out.String(), "ok: 6 services") {
		t.Errorf("menus check of a French-only service: %v\n%s", err, out.String())
	}

	dir := t.TempDir()
	writeFile(dir+"/catalogue.yaml", "catalogue: x\ncode: \"*1#\"\n")
	err = run(context.Background(), []string{"menus", "check", dir}, nil, &out, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), `texts: missing "back"`) {
		t.Errorf("a broken catalogue passed: %v", err)
	}
}

// The phone in the terminal walks the menus in-process.
func TestDial(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("1\n4\n10000048\n")
	if err := run(context.Background(), []string{"dial", "*123#"}, in, &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Dossier 10000048 (Entreprises): En traitement") {
		t.Errorf("dial transcript:\n%s", out.String())
	}
}

// dial --lang starts the in-process caller in that language, past the
// question a new number is asked first; a running
// gateway keeps each number's language itself, so it is refused with --url.
func TestDialLanguage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dial", "--lang", "en", "*123#"}, strings.NewReader(""), &out, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Guichet: public services\n1 COVID-19") {
		t.Errorf("dial --lang en did not start in English:\n%s", out.String())
	}
	for _, args := range [][]string{{"dial", "--lang", "xx", "*123#"}, {"dial", "--url", "http://127.0.0.1:1/ussd/demo", "--lang", "en", "*123#"}} {
		if err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "--lang") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// On the embedded default a newcomer sees SMS leave and receipts come
// back: an application by USSD sends its confirmation through the outbox
// to the in-process SMSC simulator, whose receipt marks it delivered.
func TestSMSLeaveAndReceiptsComeBack(t *testing.T) {
	base, logs := bootServer(t)
	text := ""
	for _, in := range []string{"", "1", "2", "1", "Ngo Bassa", "01011990", "1"} {
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
		post(t, base+"/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"sms1"}, "phoneNumber": {"+237699555001"}, "serviceCode": {"*123#"}, "text": {text}}.Encode(),
			map[string]string{"X-Api-Key": "orange-s3cret"})
	}
	sent, delivered := false, false
	for deadline := time.Now().Add(10 * time.Second); !(sent && delivered) && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		l := logs.String()
		sent = strings.Contains(l, `msg="SMS sent"`) && strings.Contains(l, "kind=opened")
		delivered = strings.Contains(l, `msg="delivery receipt"`) && strings.Contains(l, "state=DELIVRD")
	}
	if !sent || !delivered {
		t.Errorf("sent %v, receipt %v; logs:\n%s", sent, delivered, logs.String())
	}

	// The newcomer texts the gateway through the simulator and reads the
	// answer it sent.
	code, body := post(t, base+"/simulator/inject/sms", "application/json",
		`{"from":"+237699555001","to":"8080","text":"aide"}`, nil)
	if code != 200 {
		t.Fatalf("inject: %d %s", code, body)
	}
	answered := false
	for deadline := time.Now().Add(5 * time.Second); !answered && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		_, subs := get(t, base+"/simulator/submitted")
		answered = strings.Contains(subs, "SUIVI <numero>: un dossier.")
	}
	if !answered {
		t.Error("the SMS AIDE got no answer in /simulator/submitted")
	}
	_, m := get(t, base+"/metrics")
	if regexp.MustCompile(`guichet_smpp_submit_duration_seconds_count\{operator="simulator"\} [1-9]`).FindString(m) == "" {
		t.Error("/metrics counts no answered submit_sm for the simulator")
	}
	if regexp.MustCompile(`guichet_sms_outcomes_total\{operator="simulator",result="sent"\} [1-9]`).FindString(m) == "" {
		t.Error("/metrics counts no SMS sent to the simulator")
	}
	for _, want := range []string{"guichet_sms_receipts_total ", "guichet_sms_unmatched_receipts_total 0",
		`guichet_sms_inbound_total{keyword="help"} 1`, "guichet_journal_dropped_total 0",
		`guichet_sms_inbound_total{keyword="track"} 0`, "guichet_sms_inbound_duplicate_total 0",
		`guichet_smpp_ussd_dropped_total{operator="simulator"} 0`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A configured operator's SMSC: an SMS keyword sent to the gateway is
// answered over SMPP, in the caller's language, whether the operator binds
// transceivers or transmitter + receiver pairs (the SMS comes in on the
// receiver, the answer leaves on a transmitter).
func TestSMSKeywordAnswered(t *testing.T) {
	for _, tc := range []struct {
		name             string
		binds, receivers int
		wantBinds        map[uint32]int // bind commands the SMSC saw
		answerOn         uint32
	}{
		{"transceiver", 1, 0, map[uint32]int{smpp.CmdBindTransceiver: 1}, smpp.CmdBindTransceiver},
		{"pair", 2, 1, map[uint32]int{smpp.CmdBindTransmitter: 2, smpp.CmdBindReceiver: 1}, smpp.CmdBindTransmitter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smsctest.NewServer(smsctest.Options{SystemID: "guichet", Password: "pw"})
			defer srv.Close()
			cfg := defaultConfig()
			cfg.HTTP = "127.0.0.1:0"
			cfg.Operators = []OperatorConfig{demoOperator}
			cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Password: "pw", Source: "8080",
				Binds: tc.binds, Receivers: tc.receivers}}}
			ctx, cancel := context.WithCancel(context.Background())
			ln := freePort(t)
			base := "http://" + ln.Addr().String()
			done := make(chan error, 1)
			logs := phonetest.NewLog(t)
			go func() { done <- serve(ctx, cfg, ln, logs) }()
			defer func() { cancel(); <-done }()
			waitServing(t, base, done)
			var err error
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if err = srv.Inject(ctx, smpp.Inbound{SourceAddr: "237677123456", DestAddr: "8080", ShortMessage: []byte("TRACK 10000048")}); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatalf("the gateway never took the SMS: %v", err)
			}
			var answer *smsctest.Submitted
			for deadline := time.Now().Add(10 * time.Second); answer == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				for _, s := range srv.Submitted() {
					if strings.Contains(string(s.Message.ShortMessage), "Case 10000048 (Businesses): Processing") && s.Message.DestAddr == "237677123456" {
						answer = &s
					}
				}
			}
			if answer == nil {
				t.Fatalf("no answer reached the SMSC; it got %+v", srv.Submitted())
			}
			// An SMS from a number libphonenumber judges invalid is ignored,
			// and logged with the number masked as any other (the log is
			// checked at the test's end).
			if err := srv.Inject(ctx, smpp.Inbound{SourceAddr: "23767755506", DestAddr: "8080", ShortMessage: []byte("AIDE")}); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, 5*time.Second, "the SMS from an invalid number logged", func() bool {
				return strings.Contains(logs.String(), "unusable number")
			}, logs)
			if answer.Bind != tc.answerOn {
				t.Errorf("the answer left on a bind %#x, want %#x", answer.Bind, tc.answerOn)
			}
			got := map[uint32]int{}
			for deadline := time.Now().Add(5 * time.Second); !maps.Equal(got, tc.wantBinds) && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				clear(got)
				for _, p := range srv.Received() {
					if p.ID == smpp.CmdBindTransceiver || p.ID == smpp.CmdBindTransmitter || p.ID == smpp.CmdBindReceiver {
						got[p.ID]++
					}
				}
			}
			if !maps.Equal(got, tc.wantBinds) {
				t.Errorf("binds seen by the SMSC %v, want %v", got, tc.wantBinds)
			}
			_, st := get(t, base+"/status/smpp")
			for mode, n := range map[string]int{"transceiver": tc.wantBinds[smpp.CmdBindTransceiver],
				"transmitter": tc.wantBinds[smpp.CmdBindTransmitter], "receiver": tc.wantBinds[smpp.CmdBindReceiver]} {
				if c := strings.Count(st, `"mode":"`+mode+`"`); c != n {
					t.Errorf("/status/smpp shows %d %s binds, want %d: %s", c, mode, n, st)
				}
			}
		})
	}
}

// With a database and no SMSC, citizens' SMS stay queued: nothing sends
// them, nothing marks them delivered; the log and /readyz say so.
func TestNoSMSCKeepsSMSQueued(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := writeFile(file, "http: 127.0.0.1:0\noperators:\n  - {name: orange, dialect: africastalking, credential: k}\n"); err != nil {
		t.Fatal(err)
	}
	db, pool := migrated(t)
	cfg, err := loadConfig([]string{"--config", file, "--seed"}, func(k string) string {
		return map[string]string{"DATABASE_URL": db}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	base, logs, _ := serveTest(t, cfg)

	const citizen = "+237699555002"
	text := ""
	for _, in := range []string{"", "1", "2", "1", "Ngo Bassa", "01011990", "1"} {
		text = strings.TrimPrefix(text+"*"+in, "*")
		post(t, base+"/ussd/orange", "application/x-www-form-urlencoded",
			url.Values{"sessionId": {"q1"}, "phoneNumber": {citizen}, "serviceCode": {"*123#"}, "text": {text}}.Encode(),
			map[string]string{"X-Api-Key": "k"})
	}
	time.Sleep(1500 * time.Millisecond) // a dispatcher, were there one, would have sent it by now
	msgs, err := postgres.New(pool).Outbox().Messages(t.Context(), citizen, 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("the citizen's SMS: %v, %v", msgs, err)
	}
	for _, m := range msgs {
		if m.Status != outbox.MessagePending {
			t.Errorf("message %d is %s with no SMSC, want %s", m.ID, m.Status, outbox.MessagePending)
		}
	}
	if code, body := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "no SMSC configured") {
		t.Errorf("/readyz = %d %q, want ready with a warning about the SMSC", code, body)
	}
	if !strings.Contains(logs.String(), "NO SMSC") {
		t.Errorf("start-up did not say there is no SMSC:\n%s", logs.String())
	}
	if code, _ := get(t, base+"/simulator/submitted"); code != http.StatusNotFound {
		t.Errorf("/simulator/submitted = %d, want 404 (no simulator outside a demo)", code)
	}
}

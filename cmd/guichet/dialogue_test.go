package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/postgres/pgtest"
)

var update = flag.Bool("update", false, "rewrite the golden dialogues in testdata/dialogues with what the gateway answers")

// dialogueStart is the clock of every dialogue: a Monday morning in Yaoundé.
var dialogueStart = time.Date(2026, time.November, 30, 7, 0, 0, 0, time.FixedZone("WAT", 3600))

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestDialogues plays every transcript in testdata/dialogues through the
// whole gateway, over HTTP in Africa's Talking's dialect, and compares each
// screen with the one written after it. A transcript is made of:
//
//	phone +237677100001   the caller from now on
//	dial *123#            a new session (the text starts empty)
//	> 1                   the caller's input
//	notice Incomplete     the operator's end-of-session notice
//	wait 30s              time passes
//	< CON …               the screen expected after the line above
//
// go test ./cmd/guichet -run TestDialogues -update rewrites the screens.
func TestDialogues(t *testing.T) { playAll(t, nil) }

// TestDialoguesOnPostgres plays the same transcripts with cases, offices and
// bookings in PostgreSQL (a database per dialogue): the built-in catalogue
// behaves the same on both stores.
func TestDialoguesOnPostgres(t *testing.T) {
	if *update {
		return // the transcripts are rewritten from the memory run
	}
	playAll(t, func(t *testing.T, c *Config) {
		c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true
		forceDemo(c)
	})
}

func playAll(t *testing.T, edit func(*testing.T, *Config)) {
	playGolden(t, "../../testdata/dialogues/*.txt", "answers", edit, playDialogue)
}

// playGolden plays each transcript of glob through a test gateway of its
// own (edit, if set, changes its configuration), in parallel, and holds
// it to what play records of the gateway's what: -update rewrites the
// transcripts from the run with no edit. It returns the transcripts'
// names.
func playGolden(t *testing.T, glob, what string, edit func(*testing.T, *Config), play func(*testing.T, string, *testGateway) string) []string {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts %s: %v", glob, err)
	}
	var names []string
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		names = append(names, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var g *testGateway
			if edit == nil {
				g = newTestGateway(t, nil)
			} else {
				g = newTestGateway(t, func(c *Config) { edit(t, c) })
			}
			got := play(t, string(want), g)
			if *update && edit == nil {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != string(want) {
				t.Errorf("%s differs from the gateway's %s (go test -update rewrites it):\n%s", file, what, firstDiff(string(want), got))
			}
		})
	}
	return names
}

// testGateway is a gateway on a loopback server with a test clock.
type testGateway struct {
	*gateway
	url   string
	clock *clock
}

func newTestGateway(t *testing.T, edit func(*Config)) *testGateway {
	t.Helper()
	c := &clock{now: dialogueStart}
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{demoOperator}
	cfg.Clock = c.Now
	if edit != nil {
		edit(&cfg)
	}
	g, err := build(context.Background(), cfg, phonetest.NewLog(t).Logger(), false)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.handler)
	t.Cleanup(func() { srv.Close(); g.close() })
	return &testGateway{gateway: g, url: srv.URL, clock: c}
}

func playDialogue(t *testing.T, script string, g *testGateway) string {
	t.Helper()
	var out strings.Builder
	phone, code, text, session := "+237677100001", "", "", ""
	n := 0
	send := func(path string, form url.Values) {
		resp, err := http.PostForm(g.url+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body := string(b)
		if resp.StatusCode != http.StatusOK {
			body = fmt.Sprintf("HTTP %d %s", resp.StatusCode, body)
		}
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			out.WriteString("< " + l + "\n")
		}
	}
	hop := func() {
		send("/ussd/demo", url.Values{"sessionId": {session}, "phoneNumber": {phone}, "networkCode": {"62401"},
			"serviceCode": {code}, "text": {text}})
	}
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if strings.HasPrefix(line, "<") {
			continue // expected output: rewritten below
		}
		out.WriteString(line + "\n")
		cmd, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cmd == "phone":
			phone = arg
		case cmd == "dial":
			n++
			code, text, session = arg, "", fmt.Sprintf("ATUid_%s_%d", t.Name(), n)
			hop()
		case cmd == ">":
			if text == "" {
				text = arg
			} else {
				text += "*" + arg
			}
			hop()
		case line == ">": // an empty input
			text += "*"
			hop()
		case cmd == "notice":
			send("/ussd/demo/end", url.Values{"sessionId": {session}, "phoneNumber": {phone}, "serviceCode": {code},
				"networkCode": {"62401"}, "status": {arg}})
		case cmd == "wait":
			d, err := time.ParseDuration(arg)
			if err != nil {
				t.Fatalf("bad wait %q", arg)
			}
			g.clock.Advance(d)
		default:
			t.Fatalf("unknown dialogue line %q", line)
		}
	}
	return out.String()
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "(no difference)"
}

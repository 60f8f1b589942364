package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/smpp"
	"github.com/guichet/guichet/smpp/smsctest"
	"github.com/guichet/guichet/sms"
)

// TestSMSDialogues plays every transcript in testdata/sms-dialogues
// through the whole gateway bound to the SMPP simulator, as a citizen who
// texts the short code: each "> TEXT" is a deliver_sm the simulator sends,
// each "< …" a line of the SMS the gateway submitted back (one per "< ---"
// when an SMS brings more than one), written after the SMS that caused
// it. A transcript is made of:
//
//	phone +237677200001   the citizen from now on
//	> MENU                an SMS they send, 15 s after the one before
//	wait 11m              time passes
//	< Guichet: …          the SMS expected after the line above
//
// go test ./cmd/guichet -run TestSMSDialogues -update rewrites the SMS.
// Each case opened and visit booked by a transcript's citizens must say it
// came by SMS.
func TestSMSDialogues(t *testing.T) {
	files, err := filepath.Glob("testdata/sms-dialogues/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no SMS dialogues found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			g := newSMSGateway(t)
			got, phones := g.play(t, string(want))
			if *update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if got != string(want) {
				t.Errorf("%s differs from the gateway's SMS (go test -update rewrites it):\n%s", file, firstDiff(string(want), got))
			}
			g.checkChannels(t, phones)
		})
	}
}

// runningClock starts at the dialogues' Monday morning and runs, so that
// the SMS side's timers move, plus what a transcript waits.
type runningClock struct {
	mu    sync.Mutex
	start time.Time
	extra time.Duration
}

func (c *runningClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return dialogueStart.Add(time.Since(c.start) + c.extra)
}

func (c *runningClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.extra += d
}

// smsGateway is a gateway bound to an SMPP simulator, its dispatcher
// running.
type smsGateway struct {
	*gateway
	smsc  *smsctest.Server
	clock *runningClock
}

func newSMSGateway(t *testing.T) *smsGateway {
	t.Helper()
	srv := smsctest.NewServer(smsctest.Options{SystemID: "guichet", Password: "pw"})
	t.Cleanup(srv.Close)
	c := &runningClock{start: time.Now()}
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{demoOperator}
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Password: "pw", Source: "8080"}}}
	cfg.Clock = c.Now
	g, err := build(context.Background(), cfg, phonetest.NewLog(t).Logger(), true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { g.sms.dispatcher.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); g.close() })
	return &smsGateway{gateway: g, smsc: srv, clock: c}
}

// play runs a transcript and returns it with the SMS the gateway sent, and
// the citizens it played.
func (g *smsGateway) play(t *testing.T, script string) (string, []string) {
	t.Helper()
	var out strings.Builder
	var phones []string
	from := "+237677200001"
	for _, line := range strings.Split(strings.TrimRight(script, "\n"), "\n") {
		if strings.HasPrefix(line, "<") {
			continue // expected output: rewritten below
		}
		out.WriteString(line + "\n")
		cmd, arg, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cmd == "phone":
			from = arg
			phones = append(phones, from)
		case cmd == ">":
			// A citizen takes a moment to answer: their SMS stay within
			// the flood limit (5 a minute).
			g.clock.Advance(15 * time.Second)
			for i, s := range g.text(t, from, arg) {
				if i > 0 {
					out.WriteString("< ---\n")
				}
				for _, l := range strings.Split(s, "\n") {
					out.WriteString("< " + l + "\n")
				}
			}
		case cmd == "wait":
			d, err := time.ParseDuration(arg)
			if err != nil {
				t.Fatalf("bad wait %q", arg)
			}
			g.clock.Advance(d)
		default:
			t.Fatalf("unknown SMS dialogue line %q", line)
		}
	}
	return out.String(), phones
}

// text sends one SMS from the citizen through the simulator and returns
// the SMS the gateway sent them because of it: once the simulator has
// taken the deliver_sm's answer the gateway has queued them all in its
// outbox, and each has come to the simulator when it holds as many as
// the outbox.
func (g *smsGateway) text(t *testing.T, from, body string) []string {
	t.Helper()
	ctx := t.Context()
	before := len(g.received(t, from))
	m, err := sms.Encode(body, sms.Options{MaxParts: 1})
	if err != nil {
		t.Fatal(err)
	}
	in := smpp.Inbound{SourceAddr: strings.TrimPrefix(from, "+"), DestAddr: "8080", DataCoding: m.DataCoding, ShortMessage: m.Parts[0]}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err = g.smsc.Inject(ctx, in); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatalf("the gateway did not take the SMS %q: %v", body, err)
	}
	queued, err := g.stores.outbox.Messages(ctx, from, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = g.received(t, from); len(got) >= len(queued) {
			break
		}
	}
	if len(got) < len(queued) {
		t.Fatalf("after %q the simulator got %d SMS for the citizen, the outbox holds %d", body, len(got), len(queued))
	}
	return got[before:]
}

// received returns the SMS the simulator got for a number, in order, each
// long one put back together from its parts.
func (g *smsGateway) received(t *testing.T, to string) []string {
	t.Helper()
	var out []string
	var parts []string
	for _, s := range g.smsc.Submitted() {
		if s.Message.DestAddr != strings.TrimPrefix(to, "+") || s.MessageID == "" {
			continue
		}
		udh, body, err := sms.SplitUDH(s.Message.ESMClass, s.Message.ShortMessage)
		if err != nil {
			t.Fatal(err)
		}
		text, err := sms.DecodeBody(s.Message.DataCoding, body)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, text)
		if udh == nil || int(udh.Seq) == int(udh.Total) {
			whole := strings.Join(parts, "")
			if len(parts) > 1 {
				whole = fmt.Sprintf("[%d parts] %s", len(parts), whole)
			}
			out = append(out, whole)
			parts = nil
		}
	}
	return out
}

// checkChannels requires every case and live booking of the citizens to
// say it came by SMS.
func (g *smsGateway) checkChannels(t *testing.T, phones []string) {
	t.Helper()
	for _, p := range phones {
		cs, err := g.cases.DB.Store().Cases.Cases(t.Context(), cases.CaseFilter{Phone: p, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Channel != "sms" {
				t.Errorf("case %s of %s came by %q, want sms", c.Ref, c.Service, c.Channel)
			}
		}
		bs, err := g.stores.replies.Bookings(t.Context(), p, dialogueStart)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if b.Channel != "sms" {
				t.Errorf("booking %s came by %q, want sms", b.Ref, b.Channel)
			}
		}
	}
}

// The SMS dialogue waits longer than a USSD screen: an idle time no
// longer than engine.idle_timeout is refused.
func TestSMSDialogueIdleChecked(t *testing.T) {
	cfg := defaultConfig()
	if err := cfg.validate(); err != nil {
		t.Fatalf("the default configuration: %v", err)
	}
	cfg.SMSDialogue.Idle = cfg.Engine.IdleTimeout
	if err := cfg.validate(); err == nil || !strings.Contains(err.Error(), "sms_dialogue.idle 1m0s: longer than engine.idle_timeout") {
		t.Errorf("sms_dialogue.idle as short as USSD's: %v", err)
	}
}

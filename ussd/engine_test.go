package ussd_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/reference"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/ussd"
)

// backend is a mock Backend: a struct of function fields.
type backend struct {
	do func(ctx context.Context, c menus.Call) (menus.Result, error)
}

var _ ussd.Backend = (*backend)(nil)

func (b *backend) Do(ctx context.Context, c menus.Call) (menus.Result, error) {
	return b.do(ctx, c)
}

// recorder keeps what the engine records.
type recorder struct {
	mu       sync.Mutex
	started  []string
	outcomes []ussd.Outcome
}

func (r *recorder) Started(_ context.Context, svc, _ string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started = append(r.started, svc)
}

func (r *recorder) Ended(_ context.Context, o ussd.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcomes = append(r.outcomes, o)
}

func (r *recorder) results() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, o := range r.outcomes {
		out = append(out, o.Service+"/"+o.Node+":"+o.Result)
	}
	return out
}

type fixture struct {
	eng   *ussd.Engine
	rec   *recorder
	now   time.Time
	cases *cases.Memory
}

// newFixture builds an engine over the built-in catalogue and the native
// adapter in memory; wrap, if set, wraps the native backend.
func newFixture(t *testing.T, store ussd.Store, cfg ussd.Config, wrap func(next ussd.Backend) ussd.Backend) *fixture {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{rec: &recorder{}, now: time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)}
	f.cases = cases.NewMemory(outbox.NewMemory())
	if err := f.cases.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	native := &cases.Service{DB: f.cases, Catalogue: cat, Now: func() time.Time { return f.now }}
	var b ussd.Backend = &backend{do: func(ctx context.Context, c menus.Call) (menus.Result, error) {
		return native.Do(ctx, c)
	}}
	if wrap != nil {
		b = wrap(b)
	}
	if store == nil {
		store = sessions.NewMemory(func() time.Time { return f.now })
	}
	f.eng = ussd.NewEngine(cat, store, b, f.rec, cfg, phonetest.NewLog(t).Logger())
	f.eng.Now = func() time.Time { return f.now }
	return f
}

// at is an Africa's Talking hop: text is the '*'-joined history.
func at(session, phone, text string) ussd.Request {
	return ussd.Request{SessionID: session, Phone: phone, ServiceCode: "*123#", Operator: "demo",
		Dialect: "africastalking", History: text, Cumulative: true}
}

func (f *fixture) step(t *testing.T, req ussd.Request) ussd.Reply {
	t.Helper()
	rep, err := f.eng.Step(context.Background(), req)
	if err != nil {
		t.Fatalf("step %q: %v", req.History+req.Input, err)
	}
	return rep
}

// walk plays AT hops of one session and returns the last reply.
func (f *fixture) walk(t *testing.T, session, phone string, inputs ...string) ussd.Reply {
	t.Helper()
	rep := f.step(t, at(session, phone, ""))
	text := ""
	for _, in := range inputs {
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
		rep = f.step(t, at(session, phone, text))
	}
	return rep
}

// requireOneCase fails unless exactly one case was opened: the next case
// gets the second serial of the store.
func (f *fixture) requireOneCase(t *testing.T, ph string) {
	t.Helper()
	c, err := f.cases.OpenCase(context.Background(), cases.Case{Service: "probe", Phone: ph}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := reference.FromNumber(cases.MemorySerials+2, 7); c.Ref != want {
		t.Errorf("the next case got %s, want %s: more than one case was opened", c.Ref, want)
	}
}

// Birth certificate in French up to the confirmation screen.
var toConfirm = []string{"1", "2", "1", "Ngo Bassa", "01011990"}

func TestRetriedHopGetsTheSameScreenAndActsOnce(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	const ph = "+237677000010"
	f.walk(t, "s1", ph, toConfirm...)
	text := strings.Join(append(toConfirm, "1"), "*")
	first := f.step(t, at("s1", ph, text))
	if !first.End || !strings.Contains(first.Text, "Dossier 2") {
		t.Fatalf("confirm gave %+v", first)
	}
	again := f.step(t, at("s1", ph, text))
	if again != first {
		t.Errorf("retry gave %q, first %q", again.Text, first.Text)
	}
	// Only one case exists: the next reference is still the second one.
	f.requireOneCase(t, ph)
}

// Two copies of the same hop racing (an operator retrying while the first
// is still running) open one case and give one screen.
func TestRacingRetriesOpenOneCase(t *testing.T) {
	var opens atomic.Int64
	release := make(chan struct{})
	f := newFixture(t, nil, ussd.Config{}, func(next ussd.Backend) ussd.Backend {
		return &backend{do: func(ctx context.Context, c menus.Call) (menus.Result, error) {
			if c.Op == "cases.open" {
				opens.Add(1)
				<-release
			}
			return next.Do(ctx, c)
		}}
	})
	const ph = "+237677000011"
	f.walk(t, "s1", ph, toConfirm...)
	text := strings.Join(append(toConfirm, "1"), "*")
	var wg sync.WaitGroup
	replies := make([]ussd.Reply, 2)
	for i := range replies {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = f.step(t, at("s1", ph, text)) }()
	}
	for deadline := time.Now().Add(10 * time.Second); opens.Load() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the two copies of the hop did not both reach the backend (%d did)", opens.Load())
		}
	}
	close(release)
	wg.Wait()
	if replies[0] != replies[1] || !strings.Contains(replies[0].Text, "20000011") {
		t.Errorf("replies differ or lack the first reference: %q / %q", replies[0].Text, replies[1].Text)
	}
	f.requireOneCase(t, ph)
}

// A slow backend yields a polite "try again" that keeps the caller's place;
// trying again after the backend recovered completes, with one case.
func TestSlowBackendKeepsTheSession(t *testing.T) {
	var slow atomic.Bool
	slow.Store(true)
	f := newFixture(t, nil, ussd.Config{Budget: 50 * time.Millisecond}, func(next ussd.Backend) ussd.Backend {
		return &backend{do: func(ctx context.Context, c menus.Call) (menus.Result, error) {
			if c.Op == "cases.open" && slow.Load() {
				// The work gets done, but too late for this hop.
				if _, err := next.Do(context.Background(), c); err != nil {
					return menus.Result{}, err
				}
				<-ctx.Done()
				return menus.Result{}, ctx.Err()
			}
			return next.Do(ctx, c)
		}}
	})
	const ph = "+237677000012"
	f.walk(t, "s1", ph, toConfirm...)
	text := strings.Join(append(toConfirm, "1"), "*")
	rep := f.step(t, at("s1", ph, text))
	if rep.End || !strings.Contains(rep.Text, "Le service met du temps") {
		t.Fatalf("slow backend gave %+v", rep)
	}
	slow.Store(false)
	f.now = f.now.Add(5 * time.Second)
	rep = f.step(t, at("s1", ph, text+"*1"))
	if !rep.End || !strings.Contains(rep.Text, "Dossier 20000011") {
		t.Fatalf("retry gave %+v", rep)
	}
	f.requireOneCase(t, ph)
}

// Over the in-flight limit, callers get a short busy screen at once.
func TestShedsLoad(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	f := newFixture(t, nil, ussd.Config{MaxInFlight: 1}, func(next ussd.Backend) ussd.Backend {
		return &backend{do: func(ctx context.Context, c menus.Call) (menus.Result, error) {
			if c.Op == "offices.list" {
				entered <- struct{}{}
				<-release
			}
			return next.Do(ctx, c)
		}}
	})
	f.walk(t, "s1", "+237677000013", "1")
	done := make(chan ussd.Reply)
	go func() { done <- f.step(t, at("s1", "+237677000013", "1*2")) }()
	<-entered
	rep := f.step(t, at("s2", "+237677000014", ""))
	if !rep.End || !strings.Contains(rep.Text, "Recomposez *123# dans une minute") || !strings.Contains(rep.Text, "Service busy") {
		t.Errorf("second caller got %+v, want the busy screen", rep)
	}
	if n, busy := f.eng.InFlight(), f.eng.Busy(); n != 1 || len(busy) != 1 || busy["demo"] != 1 {
		t.Errorf("while loaded: %d in flight, busy %v; want 1, demo: 1", n, busy)
	}
	close(release)
	if rep := <-done; rep.End || !strings.Contains(rep.Text, "Centre d'état civil") {
		t.Errorf("first caller got %+v", rep)
	}
	// Once the first is done, there is room again.
	if rep := f.step(t, at("s3", "+237677000014", "")); rep.End {
		t.Errorf("after the load, a caller got %+v", rep)
	}
	if n, busy := f.eng.InFlight(), f.eng.Busy(); n != 0 || busy["demo"] != 1 {
		t.Errorf("after the load: %d in flight, busy %v; want 0, demo: 1", n, busy)
	}
}

// A dialogue dropped before an answer worth keeping is not offered back:
// at the home menu, or on a service's first screen.
func TestNothingToResume(t *testing.T) {
	for _, tt := range []struct {
		name   string
		inputs []string
		resume bool
	}{
		{"at the home menu", []string{"1"}, false},
		{"on the service's first screen", []string{"1", "2"}, false},
		{"after the first answer", []string{"1", "2", "1"}, true},
		{"inside a menu of the service", []string{"1", "1", "2"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, ussd.Config{ResumeWindow: 120 * time.Second}, nil)
			const ph = "+237677000016"
			f.walk(t, "s1", ph, tt.inputs...)
			f.now = f.now.Add(10 * time.Second)
			rep := f.step(t, at("s2", ph, ""))
			if got := strings.Contains(rep.Text, "Reprendre"); got != tt.resume {
				t.Errorf("after %v: offered resume = %v: %q", tt.inputs, got, rep.Text)
			}
		})
	}
}

func TestResumeWindow(t *testing.T) {
	tests := []struct {
		name   string
		after  time.Duration
		resume bool
	}{
		{"within the window", 119 * time.Second, true},
		{"after the window", 121 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, ussd.Config{ResumeWindow: 120 * time.Second}, nil)
			const ph = "+237677000015"
			f.walk(t, "s1", ph, "1", "2", "1")
			f.now = f.now.Add(tt.after)
			rep := f.step(t, at("s2", ph, ""))
			if got := strings.Contains(rep.Text, "Reprendre"); got != tt.resume {
				t.Fatalf("redial after %v offered resume = %v: %q", tt.after, got, rep.Text)
			}
			if tt.resume {
				rep = f.step(t, at("s2", ph, "1"))
				if !strings.Contains(rep.Text, "Nom complet") {
					t.Errorf("resume went to %q", rep.Text)
				}
			}
			// The dropped session was recorded once, where it stopped.
			want := "birth-certificate/name:abandoned"
			if tt.after > 60*time.Second {
				want = "birth-certificate/name:timed_out"
			}
			if got := f.rec.results(); len(got) != 1 || got[0] != want {
				t.Errorf("outcomes = %v, want [%s]", got, want)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	f.walk(t, "s1", "+237677000016", "1", "1", "1")                // covid advice: an end screen
	f.walk(t, "s2", "+237677000017", "2", "4")                     // track: waits for the reference
	for _, kind := range []ussd.Kind{ussd.Timeout, ussd.Timeout} { // the second notice is a duplicate
		req := at("s2", "+237677000017", "")
		req.Kind = kind
		f.step(t, req)
	}
	want := []string{"covid/protect:completed", "track/ref:timed_out"}
	if got := f.rec.results(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("outcomes = %v, want %v", got, want)
	}
	if got := strings.Join(f.rec.started, ","); got != "covid,track" {
		t.Errorf("started = %s", got)
	}
}

// A '*' typed inside an input does not derail Africa's Talking's history.
func TestStarInsideInput(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	rep := f.walk(t, "s1", "+237677000018", "1", "2", "1", "Ngo*Bassa")
	if !strings.Contains(rep.Text, "Date de naissance") {
		t.Fatalf("after a name with '*': %q", rep.Text)
	}
	rep = f.step(t, at("s1", "+237677000018", "1*2*1*Ngo*Bassa*01011990"))
	if !strings.Contains(rep.Text, "Ngo*Bassa") {
		t.Errorf("confirmation lost the name: %q", rep.Text)
	}
}

func TestInvalidInputIsRefused(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	f.walk(t, "s1", "+237677000019", "1")
	_, err := f.eng.Step(context.Background(), at("s1", "+237677000019", "1*"+strings.Repeat("9", 183)))
	if guichet.ErrorCode(err) != guichet.EINVALID {
		t.Errorf("an input of 183 characters gave %v, want EINVALID", err)
	}
}

// The same dialogue through the Redis store: the contract suite proves the
// store, this proves the engine's use of it.
func TestEngineOnRedis(t *testing.T) {
	client, prefix := sessionstest.Redis(t)
	f := newFixture(t, sessions.NewRedis(client, prefix), ussd.Config{}, nil)
	rep := f.walk(t, "s1", "+237677000020", append(toConfirm, "1")...)
	if !rep.End || !strings.Contains(rep.Text, "Dossier 20000011") {
		t.Fatalf("dialogue on Redis ended with %+v", rep)
	}
	// The language is remembered per phone number.
	rep = f.step(t, at("s2", "+237677000020", ""))
	if !strings.Contains(rep.Text, "Guichet: services publics") {
		t.Errorf("redial did not remember the language: %q", rep.Text)
	}
}

func TestNormalizeRefusesControlCharacters(t *testing.T) {
	for _, id := range []string{"a\x00b", "tab\there", "ok-id-1"} {
		req := ussd.Request{SessionID: id, Phone: "+237677123456", ServiceCode: "*123#"}
		err := req.Normalize("CM")
		if want := id != "ok-id-1"; (err != nil) != want {
			t.Errorf("Normalize with session id %q: %v", id, err)
		}
	}
}

// A language set from outside (an SMS keyword) is the one the menus speak.
func TestSetLanguage(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	const ph = "+237677000031"
	if got := f.eng.Language(context.Background(), ph); got != "" {
		t.Fatalf("a new caller's language = %q", got)
	}
	if err := f.eng.SetLanguage(context.Background(), ph, "de"); err == nil {
		t.Error("German was accepted")
	}
	if err := f.eng.SetLanguage(context.Background(), ph, "en"); err != nil {
		t.Fatal(err)
	}
	if rep := f.step(t, at("s1", ph, "")); !strings.Contains(rep.Text, "Guichet: public services") {
		t.Errorf("after SetLanguage(en), the first screen is %q", rep.Text)
	}
	if got := f.eng.Language(context.Background(), ph); got != "en" {
		t.Errorf("Language = %q", got)
	}
}

// A dialogue in a slot of its own (the hotline walking the menus for a
// caller) neither resumes nor cuts the caller's live dialogue.
func TestSlotKeepsDialoguesApart(t *testing.T) {
	f := newFixture(t, nil, ussd.Config{}, nil)
	const ph = "+237677000016"
	f.walk(t, "caller", ph, "1", "2", "1") // the caller is at the name
	hot := ussd.Request{Kind: ussd.Begin, SessionID: "assist-1", Phone: ph, ServiceCode: "*123#", Operator: "hotline", Slot: "hotline:awa"}
	if rep := f.step(t, hot); strings.Contains(rep.Text, "Reprendre") || !strings.Contains(rep.Text, "1 ") {
		t.Errorf("the assisted dialogue was offered the caller's: %q", rep.Text)
	}
	// The caller goes on where they were.
	if rep := f.step(t, at("caller", ph, "1*2*1*Ngo Bassa")); !strings.Contains(rep.Text, "naissance") {
		t.Errorf("the caller's dialogue was cut: %q", rep.Text)
	}
	if got := f.rec.results(); len(got) != 0 {
		t.Errorf("outcomes recorded: %v, want none", got)
	}
}

// Whatever is dialled and typed, the engine takes no input over MaxInput
// characters, nor a NUL: on the first hop, where the text is what was
// dialled after the code (the whole of it within one input's limit), as on
// the next. It refuses such a hop as invalid (the handler's 400) whether
// Normalize saw it or not, and takes a first hop within the limits.
func FuzzInputLimit(f *testing.F) {
	f.Add("2*2*1*"+strings.Repeat("A", 1000), "1")
	f.Add(strings.Repeat("1*", 100), "")
	f.Add("1", strings.Repeat("9", ussd.MaxInput+1))
	f.Add("1", "Ngo*Bassa")
	f.Add("2*\x00", "1")
	f.Add("", "")
	cat, err := menus.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, next string) {
		if !utf8.ValidString(first) || !utf8.ValidString(next) {
			return // Normalize refuses those before anything else
		}
		store := sessions.NewMemory(nil)
		eng := ussd.NewEngine(cat, store, &backend{do: func(context.Context, menus.Call) (menus.Result, error) {
			return menus.Result{}, nil
		}}, nil, ussd.Config{}, slog.New(slog.DiscardHandler))
		bad := func(in string) bool {
			return utf8.RuneCountInString(in) > ussd.MaxInput || strings.Contains(in, "\x00")
		}
		for hop, text := range []string{first, strings.TrimPrefix(first+"*"+next, "*")} {
			req := at("s1", "+237677000041", text)
			over := slices.ContainsFunc(strings.Split(text, "*"), bad) || hop == 0 && bad(text)
			normalized := req
			nerr := normalized.Normalize("CM")
			_, err := eng.Step(context.Background(), req)
			if err != nil && guichet.ErrorCode(err) != guichet.EINVALID {
				t.Fatalf("hop %d %q: %v, want EINVALID or nothing", hop, text, err)
			}
			if over && err == nil {
				t.Fatalf("hop %d %q was taken with an input over %d characters or a NUL", hop, text, ussd.MaxInput)
			}
			if over && hop > 0 && nerr == nil {
				t.Fatalf("Normalize passed %q, an input over %d characters or a NUL", text, ussd.MaxInput)
			}
			if hop == 0 && !over && err != nil {
				t.Fatalf("first hop %q refused: %v", text, err)
			}
			if err != nil {
				return
			}
		}
	})
}

// A service written in one language shows its screens, footer included,
// in that language to callers of the other, who keep their own on the home
// menu.
func TestOneLanguageService(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	track := cat.Services["track"]
	track.Languages = []string{"fr"}
	for _, n := range track.Nodes {
		delete(n.Text, "en") // as a service file with fr: alone
	}
	if ps := menus.Check(cat, cases.Operations, menus.DefaultLimit); len(ps) > 0 {
		t.Fatalf("the French-only service fails the check: %v", ps)
	}
	if notes := menus.Notes(cat); len(notes) != 1 || !strings.Contains(notes[0].Msg, `service track is not written in "en": those callers get its screens in "fr"`) {
		t.Errorf("notes: %v", notes)
	}
	store := sessions.NewMemory(nil)
	eng := ussd.NewEngine(cat, store, &backend{do: func(context.Context, menus.Call) (menus.Result, error) {
		return menus.Result{}, nil
	}}, &recorder{}, ussd.Config{}, phonetest.NewLog(t).Logger())
	step := func(text string) string {
		rep, err := eng.Step(context.Background(), at("one-lang", "+237677000123", text))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Text
	}
	step("")
	if home := step("2"); !strings.Contains(home, "4 Track a case") {
		t.Fatalf("the English home menu: %q", home)
	}
	if got, want := step("2*4"), "Numéro du dossier ?\n0 Retour 00 Accueil"; got != want {
		t.Errorf("an English caller in the French-only service saw %q, want %q", got, want)
	}
}

// A service is offered only on the channels its file names: the home menu
// and the shortcuts of a channel leave the others out.
func TestChannels(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	cat.Services["covid"].Channels = []string{"hotline"}
	cat.Services["track"].Channels = []string{"ussd", "sms"}
	eng := ussd.NewEngine(cat, sessions.NewMemory(nil), &backend{do: func(context.Context, menus.Call) (menus.Result, error) {
		return menus.Result{}, nil
	}}, &recorder{}, ussd.Config{}, phonetest.NewLog(t).Logger())
	hop := func(channel, session, text string) string {
		req := at(session, "+237677000124", text)
		req.Channel = channel
		if channel == "hotline" {
			req.Slot = "hotline:awa"
		}
		rep, err := eng.Step(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return rep.Text
	}
	hop("", "u1", "")
	home := hop("", "u1", "1")
	if strings.Contains(home, "COVID") || !strings.HasPrefix(home, "Guichet: services publics\n1 Acte de naissance") {
		t.Errorf("the USSD home menu: %q", home)
	}
	if got := hop("", "u1", "1*1"); strings.Contains(got, "Se protéger") {
		t.Errorf("option 1 on USSD is the first service offered there, not COVID-19: %q", got)
	}
	if got := hop("hotline", "h1", ""); !strings.Contains(got, "1 COVID-19") || strings.Contains(got, "Suivre un dossier") {
		t.Errorf("the hotline's home menu: %q", got)
	}
	// *123*4*REF# tracks on USSD; the hotline has no tracking service.
	req := at("h2", "+237677000125", "")
	req.ServiceCode, req.Channel, req.Slot = "*123*4*10000048#", "hotline", "hotline:awa"
	if rep, _ := eng.Step(context.Background(), req); strings.Contains(rep.Text, "10000048") && !strings.Contains(rep.Text, "Saisie invalide") {
		t.Errorf("a shortcut to a service the hotline does not offer: %q", rep.Text)
	}
}

// Package ussd is the session engine — one step takes a session and an input
// to the next screen — and the HTTP handler that serves operators' dialects
// (each in its own folder: ussd/africastalking, ussd/madapi…).
package ussd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/phone"
)

// Store is what the engine needs of a session store (sessions.Memory and
// sessions.Redis are two).
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	Update(ctx context.Context, key string, ttl time.Duration, fn func(old []byte) ([]byte, error)) ([]byte, error)
}

// Backend runs the named operations that menus call (cases.Service is one).
type Backend interface {
	Do(ctx context.Context, c menus.Call) (menus.Result, error)
}

// Outcome results.
const (
	Completed = "completed" // reached an end screen
	Abandoned = "abandoned" // the caller left while a screen waited
	TimedOut  = "timed_out" // the network timed the session out
	Errored   = "error"     // the gateway or a backend failed it
)

// Outcome is how one session ended, and where.
type Outcome struct {
	SessionID string
	Operator  string
	Phone     string // E.164; mask it before logging
	Service   string // "home" when it ended before entering a service
	Node      string // the node it stopped at
	Result    string // Completed, Abandoned, TimedOut or Errored
	Hops      int
	Duration  time.Duration
}

// Recorder is told when a caller enters a service and how each session ends
// (the metrics, and later the hotline's drop-off charts).
type Recorder interface {
	Started(ctx context.Context, service, operator string)
	Ended(ctx context.Context, o Outcome)
}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	Budget       time.Duration    // a step's time, adapters included (2 s)
	ResumeWindow time.Duration    // a dropped session can be resumed this long (120 s)
	RetryWindow  time.Duration    // for dialects without a hop id: same input this soon is a retry (3 s)
	IdleTimeout  time.Duration    // a session idle this long was timed out, not abandoned (60 s)
	WebIdle      time.Duration    // a web page's dialogue is kept this long between pages (30 min)
	MaxInFlight  int              // steps at once before shedding load (2000)
	Limit        int              // screen limit in septets (182)
	Limits       map[string]int   // per operator
	Now          func() time.Time // the clock (time.Now)
	// Languages keeps callers' language choices for good, with the
	// citizen's other data (postgres.Cases); the Store is then only their
	// cache, so that a Redis restarted empty asks no caller again. nil:
	// the Store alone keeps them, for LangTTL.
	Languages Languages
}

// Languages is where callers' language choices are kept for good.
type Languages interface {
	// Language returns phone's choice, "" when it never chose.
	Language(ctx context.Context, phone string) (string, error)
	SetLanguage(ctx context.Context, phone, lang string) error
}

func (c *Config) defaults() {
	if c.Budget <= 0 {
		c.Budget = 2 * time.Second
	}
	if c.ResumeWindow <= 0 {
		c.ResumeWindow = 120 * time.Second
	}
	if c.RetryWindow <= 0 {
		c.RetryWindow = 3 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.WebIdle <= 0 {
		c.WebIdle = 30 * time.Minute
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 2000
	}
	if c.Limit <= 0 {
		c.Limit = menus.DefaultLimit
	}
}

// Engine walks callers through a catalogue. It keeps nothing between hops
// itself: every hop loads the caller's session, moves it, and stores it back
// atomically, so any number of gateways can share one store.
type Engine struct {
	cat      *menus.Catalogue
	store    Store
	backend  Backend
	rec      Recorder
	cfg      Config
	log      *slog.Logger
	inflight atomic.Int64
	// busy counts the hops turned away, by operator: read without a lock,
	// copied to add an operator (a handful, each once).
	busy   atomic.Pointer[map[string]*atomic.Uint64]
	busyMu sync.Mutex
	base   []string // the catalogue code's parts: *123# → ["123"]

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// NewEngine returns an engine over a validated catalogue.
func NewEngine(cat *menus.Catalogue, store Store, backend Backend, rec Recorder, cfg Config, log *slog.Logger) *Engine {
	cfg.defaults()
	if rec == nil {
		rec = nopRecorder{}
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Engine{cat: cat, store: store, backend: backend, rec: rec, cfg: cfg, log: log,
		base: codeParts(cat.Code), Now: now}
}

type nopRecorder struct{}

func (nopRecorder) Started(context.Context, string, string) {}
func (nopRecorder) Ended(context.Context, Outcome)          {}

// InFlight is the hops being answered now.
func (e *Engine) InFlight() int { return int(e.inflight.Load()) }

// Busy is the hops turned away with the busy screen since start (over
// Config.MaxInFlight), by operator.
func (e *Engine) Busy() map[string]uint64 {
	out := map[string]uint64{}
	if m := e.busy.Load(); m != nil {
		for op, n := range *m {
			out[op] = n.Load()
		}
	}
	return out
}

func (e *Engine) countBusy(operator string) {
	if m := e.busy.Load(); m != nil {
		if n := (*m)[operator]; n != nil {
			n.Add(1)
			return
		}
	}
	e.busyMu.Lock()
	defer e.busyMu.Unlock()
	next := map[string]*atomic.Uint64{}
	if m := e.busy.Load(); m != nil {
		for op, n := range *m {
			next[op] = n
		}
	}
	n := next[operator]
	if n == nil {
		n = new(atomic.Uint64)
		next[operator] = n
	}
	n.Add(1)
	e.busy.Store(&next)
}

// SessionKey and LanguageKey are the keys under which the engine keeps a
// caller's session and language choice in its Store (a store may prefix
// them): what a load generator clears between runs, and an erasure
// deletes. SlotKey is the key of a dialogue walked for the caller in
// Request.Slot.
func SessionKey(phone string) string    { return sessionKey("", phone) }
func LanguageKey(phone string) string   { return langKey(phone) }
func SlotKey(slot, phone string) string { return sessionKey(slot, phone) }

func sessionKey(slot, phone string) string {
	if slot != "" {
		return "s:" + slot + ":" + phone
	}
	return "s:" + phone
}
func langKey(phone string) string { return "l:" + phone }

// LangTTL is how long a caller's language choice is remembered in the
// Store when it is the only place that keeps it.
const LangTTL = 365 * 24 * time.Hour

// How long the Store caches a choice kept in Config.Languages, and the
// fact that a caller never chose (so that each of their hops does not ask
// the database again).
const (
	langCacheTTL = 30 * 24 * time.Hour
	noLangTTL    = time.Hour
)

var errUnchanged = errors.New("session unchanged")

// effects are what a hop does beyond its session, applied once it is stored.
type effects struct {
	lang    string // a language to remember
	started []string
	ended   []Outcome
}

// Step runs one hop: the caller's input in, the next screen out.
func (e *Engine) Step(ctx context.Context, req Request) (Reply, error) {
	if e.inflight.Add(1) > int64(e.cfg.MaxInFlight) {
		e.inflight.Add(-1)
		e.countBusy(req.Operator)
		return Reply{Text: e.bilingual("busy"), End: true, Busy: true}, nil
	}
	defer e.inflight.Add(-1)

	budget, cancel := context.WithTimeout(ctx, e.cfg.Budget)
	defer cancel()
	now := e.Now()
	var rep Reply
	var fx effects
	ttl := e.cfg.ResumeWindow + e.cfg.IdleTimeout
	if req.Channel == "web" {
		// A page is read and typed at a person's pace, not a handset's
		// timer: its dialogue waits longer for the next page.
		ttl = max(ttl, e.cfg.WebIdle)
	}
	_, err := e.store.Update(ctx, sessionKey(req.Slot, req.Phone), ttl, func(old []byte) ([]byte, error) {
		fx = effects{}
		prev, err := decodeSession(old)
		if err != nil {
			e.log.Warn("dropping an unreadable session", "phone", phone.Mask(req.Phone), "err", err)
			prev = nil
		}
		var s *session
		switch req.Kind {
		case Release, Abort, Timeout, Failed:
			s, rep = e.notice(req, prev, now, &fx)
		default:
			s, rep, err = e.hop(ctx, budget, req, prev, now, &fx)
			if err != nil {
				return nil, err
			}
		}
		if s == nil {
			return nil, errUnchanged
		}
		return s.encode()
	})
	if err != nil && !errors.Is(err, errUnchanged) {
		return Reply{}, fmt.Errorf("stepping session %s: %w", req.SessionID, err)
	}
	e.apply(ctx, req.Phone, fx)
	return rep, nil
}

func (e *Engine) apply(ctx context.Context, ph string, fx effects) {
	if fx.lang != "" {
		if err := e.remember(ctx, ph, fx.lang); err != nil {
			e.log.Warn("could not remember a language", "phone", phone.Mask(ph), "err", err)
		}
	}
	for _, svc := range fx.started {
		e.rec.Started(ctx, svc, "")
	}
	for _, o := range fx.ended {
		e.rec.Ended(ctx, o)
	}
}

// notice records how the network says a session ended. The session stays
// for a redial to resume it.
func (e *Engine) notice(req Request, prev *session, now time.Time, fx *effects) (*session, Reply) {
	if prev == nil || prev.ID != req.SessionID || prev.Outcome != "" {
		return nil, Reply{End: true}
	}
	var result string
	switch req.Kind {
	case Release:
		result = Abandoned
		if prev.End {
			result = Completed
		}
	case Abort:
		result = Abandoned
	case Timeout:
		result = TimedOut
	case Failed:
		result = Errored
	}
	prev.Outcome = result
	fx.ended = append(fx.ended, e.outcome(req, prev, now, result))
	return prev, Reply{End: true}
}

func (e *Engine) outcome(req Request, s *session, now time.Time, result string) Outcome {
	svc := s.Svc
	if svc == "" {
		svc = "home"
	}
	return Outcome{SessionID: s.ID, Operator: req.Operator, Phone: req.Phone, Service: svc, Node: s.Node,
		Result: result, Hops: s.Hops, Duration: now.Sub(time.UnixMilli(s.Started))}
}

// hop moves the caller's session by one input and returns it with its screen;
// a nil session means the stored one stays as it is (a retried request).
func (e *Engine) hop(ctx, budget context.Context, req Request, prev *session, now time.Time, fx *effects) (*session, Reply, error) {
	var input, key string
	if req.Cumulative {
		key = "h:" + req.History
	} else {
		key, input = req.HopKey, req.Input
	}

	if prev != nil && prev.ID == req.SessionID {
		if req.Cumulative {
			input = derive(prev.Hist, req.History)
		}
		if err := checkInput(input); err != nil {
			return nil, Reply{}, err
		}
		retry := key == prev.LastKey && key != ""
		if key == "" {
			retry = input == prev.LastIn && now.UnixMilli()-prev.LastAt < e.cfg.RetryWindow.Milliseconds()
		}
		if retry || prev.End {
			return nil, Reply{Text: prev.Screen, End: prev.End}, nil
		}
		s := prev
		s.Hist, s.LastKey, s.LastIn = req.History, key, input
		t := &turn{e: e, ctx: budget, req: req, s: s, now: now, fx: fx}
		t.input(strings.TrimSpace(input))
		return t.finish()
	}

	// A new dialogue for this phone.
	if prev != nil && !prev.End && prev.Outcome == "" {
		result := Abandoned
		if now.UnixMilli()-prev.LastAt > e.cfg.IdleTimeout.Milliseconds() {
			result = TimedOut
		}
		fx.ended = append(fx.ended, e.outcome(req, prev, now, result))
	}
	// What is dialled with the code is one USSD string, within the limit
	// of an input, and so is each of its parts; an engine that is handed
	// requests Normalize did not check holds it too.
	if req.Cumulative {
		if err := checkInput(req.History); err != nil {
			return nil, Reply{}, err
		}
	}
	extras := e.shortcut(req)
	for _, in := range extras {
		if err := checkInput(in); err != nil {
			return nil, Reply{}, err
		}
	}
	var s *session
	if prev != nil && !prev.End && e.worthResuming(prev) && len(extras) == 0 &&
		now.UnixMilli()-prev.LastAt <= e.cfg.ResumeWindow.Milliseconds() {
		s = prev.clone()
		s.Mode = modeResume
	} else {
		s = &session{Vars: map[string]string{}}
		if prev != nil {
			s.Lang = prev.Lang
		} else {
			s.Lang = e.lookup(ctx, budget, req.Phone)
		}
		if !contains(menus.Languages, s.Lang) {
			s.Lang = ""
			s.Mode = modeLang
		}
	}
	s.ID, s.Op, s.Started, s.Hops, s.Outcome, s.End = req.SessionID, req.Operator, now.UnixMilli(), 0, "", false
	s.Hist, s.LastKey, s.LastIn = req.History, key, ""
	t := &turn{e: e, ctx: budget, req: req, s: s, now: now, fx: fx}
	if len(extras) > 0 {
		t.shortcut(extras)
	}
	return t.finish()
}

// worthResuming reports whether a dropped dialogue holds an answer worth
// keeping: the caller went past the service's first screen. Dropped at
// the home menu, or on the first screen before typing anything, there is
// nothing to continue, and asking would only cost a screen.
func (e *Engine) worthResuming(prev *session) bool {
	svc := e.cat.Services[prev.Svc]
	return svc != nil && (len(prev.Vars) > 0 || prev.Node != svc.Start)
}

// derive returns the latest input from a cumulative text, given the text of
// the previous hop: Africa's Talking joins all inputs with '*', so a '*'
// typed inside an input only shows up against the previous text.
func derive(prev, text string) string {
	if prev == "" {
		return text
	}
	if rest, ok := strings.CutPrefix(text, prev+"*"); ok {
		return rest
	}
	// Not an extension of what we saw (a gateway that restarted the text):
	// take the last part, the best guess there is.
	return text[strings.LastIndexByte(text, '*')+1:]
}

// shortcut returns the inputs dialled with the code (*123*4*12345678# →
// ["4", "12345678"]), from the service code or, for cumulative dialects,
// the first hop's text.
func (e *Engine) shortcut(req Request) []string {
	if req.Cumulative && req.History != "" {
		return strings.Split(req.History, "*")
	}
	parts := codeParts(req.ServiceCode)
	if len(parts) <= len(e.base) {
		return nil
	}
	for i, p := range e.base {
		if parts[i] != p {
			return nil
		}
	}
	return parts[len(e.base):]
}

func codeParts(code string) []string {
	code = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(code), "*"), "#")
	if code == "" {
		return nil
	}
	return strings.Split(code, "*")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (e *Engine) bilingual(key string) string {
	t := e.cat.Texts[key]
	parts := make([]string, 0, len(menus.Languages))
	for _, l := range menus.Languages {
		parts = append(parts, t[l])
	}
	return strings.Join(parts, "\n")
}

func (e *Engine) limit(operator string) int {
	if l, ok := e.cfg.Limits[operator]; ok && l > 0 {
		return l
	}
	return e.cfg.Limit
}

// Language returns the language a caller chose ("" when never asked).
func (e *Engine) Language(ctx context.Context, phone string) string {
	return e.lookup(ctx, ctx, phone)
}

// SetLanguage remembers a caller's language, as choosing it on the menu
// does (an SMS keyword sets it too).
func (e *Engine) SetLanguage(ctx context.Context, phone, lang string) error {
	if !contains(menus.Languages, lang) {
		return guichet.Errorf(guichet.EINVALID, "unknown language %q", lang)
	}
	if err := e.remember(ctx, phone, lang); err != nil {
		return fmt.Errorf("remembering a language: %w", err)
	}
	return nil
}

// lookup returns phone's language from the Store's cache or, when the
// cache has not heard of it, from Config.Languages (asked within budget),
// caching what it says; "" when the caller never chose or it could not
// be told.
func (e *Engine) lookup(ctx, budget context.Context, ph string) string {
	b, err := e.store.Get(ctx, langKey(ph))
	if err == nil || e.cfg.Languages == nil {
		if err != nil || !contains(menus.Languages, string(b)) {
			return ""
		}
		return string(b)
	}
	l, err := e.cfg.Languages.Language(budget, ph)
	if err != nil {
		e.log.Warn("could not read a caller's language", "phone", phone.Mask(ph), "err", err)
		return ""
	}
	if !contains(menus.Languages, l) {
		l = ""
	}
	ttl := langCacheTTL
	if l == "" {
		ttl = noLangTTL
	}
	if err := e.store.Set(ctx, langKey(ph), []byte(l), ttl); err != nil {
		e.log.Warn("could not cache a caller's language", "phone", phone.Mask(ph), "err", err)
	}
	return l
}

// remember keeps phone's choice: in Config.Languages first, then in the
// Store's cache, or in the Store alone without Config.Languages.
func (e *Engine) remember(ctx context.Context, ph, lang string) error {
	if e.cfg.Languages == nil {
		return e.store.Set(ctx, langKey(ph), []byte(lang), LangTTL)
	}
	if err := e.cfg.Languages.SetLanguage(ctx, ph, lang); err != nil {
		return err
	}
	return e.store.Set(ctx, langKey(ph), []byte(lang), langCacheTTL)
}

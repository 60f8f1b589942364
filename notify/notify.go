// Package notify is how an administration tells citizens something by SMS
// through the API (POST /api/v1/messages): one number or a list, a text per
// language or a template of one of its services, each citizen in the
// language the gateway knows for them, numbers that sent STOP skipped, the
// whole written to the outbox at once and once per idempotency key. A list
// is bulk: it leaves after every transactional message due.
package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/sms"
)

// Limits of a request.
const (
	MaxNumbers = 1000 // numbers in one request
	MaxParts   = 6    // SMS parts a text may take (the outbox's limit)
	MaxVars    = 20
)

// Request is what an administration asks to send.
type Request struct {
	To []string
	// Text per language ("fr", "en"), or Template: one of them.
	Text     map[string]string
	Template *Template
	// Lang is the language of the citizens the gateway knows nothing of
	// ("fr" if empty).
	Lang string
}

// Template names a message of one of the administration's services
// (messages: in its file) and its variables.
type Template struct {
	Service, Name string
	Vars          map[string]string
}

// Sent is a message written to the outbox for one number of the request.
type Sent struct {
	Index    int    `json:"index"`
	To       string `json:"to"` // E.164
	ID       string `json:"id"`
	Lang     string `json:"lang"`
	Parts    int    `json:"parts"`
	Alphabet string `json:"alphabet"` // "GSM-7" or "UCS-2"
}

// Skipped is a number of the request that gets nothing, and why.
type Skipped struct {
	Index  int    `json:"index"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// Answer is what became of a request: the messages written, the numbers
// that sent STOP, the numbers refused.
type Answer struct {
	Messages []Sent    `json:"messages"`
	OptedOut []Skipped `json:"opted_out"`
	Refused  []Skipped `json:"refused"`
	// Replayed says the request was sent before under its key: nothing was
	// written this time.
	Replayed bool `json:"-"`
}

// Store is where the messages go, and what knows the citizens.
type Store interface {
	// SendOnce writes s to the outbox (its numbers that sent STOP
	// skipped, the others each in their language, see outbox.Send) and
	// records answer (given what became of each number) under owner's
	// key, in one transaction; a key already recorded writes nothing and
	// returns what was recorded. An empty key sends every time.
	SendOnce(ctx context.Context, owner, key string, s outbox.Send, answer func(placed []outbox.Placed) ([]byte, error)) ([]byte, error)
}

// Stores is a Store made of two: one that knows the citizens, one that
// writes messages, asked one after the other (the gateway in memory).
type Stores struct {
	Citizens interface {
		// Citizens returns those of phones that sent STOP and the
		// language of the latest case of those that opened one.
		Citizens(ctx context.Context, phones []string) (optedOut map[string]bool, langs map[string]string, err error)
	}
	Outbox interface {
		SendOnce(ctx context.Context, owner, key string, msgs []outbox.Message, answer func(ids []int64) ([]byte, error)) ([]byte, error)
	}
	Now func() time.Time // nil: time.Now
}

// SendOnce looks the citizens up, then writes.
func (st Stores) SendOnce(ctx context.Context, owner, key string, s outbox.Send, answer func(placed []outbox.Placed) ([]byte, error)) ([]byte, error) {
	if err := outbox.CheckSend(s); err != nil {
		return nil, err
	}
	out, langs, err := st.Citizens.Citizens(ctx, s.To)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	if st.Now != nil {
		now = st.Now()
	}
	msgs, placed := s.Messages(out, langs, now)
	return st.Outbox.SendOnce(ctx, owner, key, msgs, func(ids []int64) ([]byte, error) {
		n := 0
		for i := range placed {
			if !placed[i].OptedOut {
				placed[i].ID = ids[n]
				n++
			}
		}
		return answer(placed)
	})
}

// Languages is the gateway's memory of each citizen's language: their USSD
// or SMS choice ("" when it knows nothing).
type Languages interface {
	Language(ctx context.Context, phone string) string
}

// Catalogue is what notify reads of the services.
type Catalogue interface {
	Owner(service string) string
	Template(service, key, lang string) (string, bool)
	Transliterated(service, key string) bool
}

// Sender composes and writes the messages of requests.
type Sender struct {
	Catalogue Catalogue
	Store     Store
	Languages Languages
	Region    string           // numbers without a country code (CM)
	Now       func() time.Time // nil: time.Now
}

// Check refuses a request that cannot be sent as a whole (EINVALID, with
// what is wrong): no number or too many, no text or both a text and a
// template, a text empty or over MaxParts, a template or a variable that
// owner's service lacks.
func (s *Sender) Check(owner string, r Request) error {
	switch {
	case len(r.To) == 0:
		return guichet.Errorf(guichet.EINVALID, "to: give a number or a list of numbers")
	case len(r.To) > MaxNumbers:
		return guichet.Errorf(guichet.EINVALID, "to: %d numbers, at most %d a request", len(r.To), MaxNumbers)
	case r.Lang != "" && r.Lang != "fr" && r.Lang != "en":
		return guichet.Errorf(guichet.EINVALID, "lang: %q, fr or en", r.Lang)
	case (len(r.Text) == 0) == (r.Template == nil):
		return guichet.Errorf(guichet.EINVALID, "give text (a text per language) or template, one of them")
	}
	if r.Template != nil {
		return s.checkTemplate(owner, *r.Template)
	}
	for lang, text := range r.Text {
		if lang != "fr" && lang != "en" {
			return guichet.Errorf(guichet.EINVALID, "text: language %q, fr or en", lang)
		}
		if err := checkText("text."+lang, text); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sender) checkTemplate(owner string, t Template) error {
	if t.Service == "" || t.Name == "" {
		return guichet.Errorf(guichet.EINVALID, "template: give its service and name")
	}
	if s.Catalogue.Owner(t.Service) != owner {
		return guichet.Errorf(guichet.EINVALID, "template: no service %q of yours", t.Service)
	}
	if len(t.Vars) > MaxVars {
		return guichet.Errorf(guichet.EINVALID, "template: %d variables, at most %d", len(t.Vars), MaxVars)
	}
	found := false
	var uses []string
	for _, lang := range []string{"fr", "en"} {
		tpl, ok := s.Catalogue.Template(t.Service, t.Name, lang)
		if !ok || tpl == "" {
			continue
		}
		found = true
		uses = append(uses, menus.Placeholders(tpl)...)
		if err := checkText("template "+t.Name+" ("+lang+")", menus.Fill(tpl, t.Vars)); err != nil {
			return err
		}
	}
	if !found {
		return guichet.Errorf(guichet.EINVALID, "template: service %s has no message %q", t.Service, t.Name)
	}
	for name, v := range t.Vars {
		if !slices.Contains(uses, name) {
			return guichet.Errorf(guichet.EINVALID, "template: message %q of %s has no variable %q", t.Name, t.Service, name)
		}
		if !utf8.ValidString(v) {
			return guichet.Errorf(guichet.EINVALID, "template: variable %q is not UTF-8", name)
		}
	}
	for _, name := range uses {
		if _, ok := t.Vars[name]; !ok {
			return guichet.Errorf(guichet.EINVALID, "template: variable %q is missing", name)
		}
	}
	return nil
}

func checkText(field, text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return guichet.Errorf(guichet.EINVALID, "%s is empty", field)
	case !utf8.ValidString(text):
		return guichet.Errorf(guichet.EINVALID, "%s is not UTF-8", field)
	}
	if _, err := sms.Encode(text, sms.Options{MaxParts: MaxParts}); err != nil {
		return guichet.Errorf(guichet.EINVALID, "%s: %s", field, guichet.ErrorMessage(err))
	}
	return nil
}

// Send checks r, normalises its numbers (a bad one is refused with its
// index, the others go), skips those that sent STOP, writes one message to
// each of the others in their language, and answers what became of each:
// all of it once per key, a key repeated answering as the first time.
func (s *Sender) Send(ctx context.Context, owner, keyID, idem string, r Request) (Answer, []byte, error) {
	if err := s.Check(owner, r); err != nil {
		return Answer{}, nil, err
	}
	var a Answer
	seen := map[string]bool{}
	type target struct {
		index int
		to    string
	}
	var targets []target
	for i, raw := range r.To {
		p, err := phone.Normalize(raw, s.Region)
		switch {
		case err != nil:
			a.Refused = append(a.Refused, Skipped{Index: i, To: raw, Reason: guichet.ErrorMessage(err)})
		case seen[p]:
			a.Refused = append(a.Refused, Skipped{Index: i, To: p, Reason: "already in this request"})
		default:
			seen[p] = true
			targets = append(targets, target{i, p})
		}
	}
	if len(targets) == 0 {
		return a, nil, guichet.Errorf(guichet.EINVALID, "to: no number of the request is usable (%s: %s)", a.Refused[0].To, a.Refused[0].Reason)
	}
	def := r.Lang
	if def == "" {
		def = "fr"
	}
	// The text in each language, and what it takes: the same for every
	// number, encoded once.
	send := outbox.Send{To: make([]string, len(targets)), Default: def, Body: map[string]string{}, KeyID: keyID,
		Owner: owner, Kind: KindAPI, Bulk: len(r.To) > 1, Created: s.now()}
	type form struct {
		parts    int
		alphabet string
	}
	forms := map[string]form{}
	for _, lang := range []string{"fr", "en"} {
		body, translit := s.text(r, lang)
		send.Body[lang], send.Transliterate = body, translit
		if lang == "en" && body == send.Body["fr"] { // a text in one language only
			forms[lang] = forms["fr"]
			continue
		}
		enc, err := sms.Encode(body, sms.Options{MaxParts: MaxParts, Transliterate: translit})
		if err != nil { // checked: cannot happen
			return Answer{}, nil, err
		}
		alphabet := "GSM-7"
		if enc.DataCoding == sms.CodingUCS2 {
			alphabet = "UCS-2"
		}
		forms[lang] = form{len(enc.Parts), alphabet}
	}
	for i, t := range targets {
		send.To[i] = t.to
		// Their choice on the phone; the store knows their cases.
		if s.Languages != nil {
			if l := s.Languages.Language(ctx, t.to); l == "fr" || l == "en" {
				if send.Known == nil {
					send.Known = make([]string, len(targets))
				}
				send.Known[i] = l
			}
		}
	}
	var fresh []byte
	body, err := s.Store.SendOnce(ctx, owner, idem, send, func(placed []outbox.Placed) ([]byte, error) {
		a.Messages, a.OptedOut = nil, nil
		for i, p := range placed {
			t := targets[i]
			if p.OptedOut {
				a.OptedOut = append(a.OptedOut, Skipped{Index: t.index, To: t.to, Reason: "sent STOP"})
				continue
			}
			f := forms[p.Lang]
			a.Messages = append(a.Messages, Sent{Index: t.index, To: t.to, ID: strconv.FormatInt(p.ID, 10), Lang: p.Lang,
				Parts: f.parts, Alphabet: f.alphabet})
		}
		b, err := encode(a)
		fresh = b
		return b, err
	})
	if err != nil {
		if guichet.ErrorCode(err) == guichet.EUNAUTHORIZED {
			return Answer{}, nil, err
		}
		return Answer{}, nil, fmt.Errorf("notify: writing the messages: %w", err)
	}
	if fresh != nil {
		return a, fresh, nil
	}
	// A request sent before answers what was recorded then, encoded as
	// the first answer was.
	var was Answer
	if err := json.Unmarshal(body, &was); err != nil {
		return Answer{}, nil, fmt.Errorf("notify: reading the answer recorded: %w", err)
	}
	if body, err = encode(was); err != nil {
		return Answer{}, nil, err
	}
	was.Replayed = true
	return was, body, nil
}

// KindAPI is the kind of the messages an administration sends.
const KindAPI = "api"

// text is the request's text in lang (or the other language when it has
// only one), and whether to spell it in GSM-7.
func (s *Sender) text(r Request, lang string) (string, bool) {
	if t := r.Template; t != nil {
		tpl, ok := s.Catalogue.Template(t.Service, t.Name, lang)
		if !ok || tpl == "" {
			other := map[string]string{"fr": "en", "en": "fr"}[lang]
			tpl, _ = s.Catalogue.Template(t.Service, t.Name, other)
		}
		return menus.Fill(tpl, t.Vars), s.Catalogue.Transliterated(t.Service, t.Name)
	}
	text, _ := menus.Text(r.Text).In(lang)
	return text, false
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// encode is the answer as the API gives it: empty lists as [], not null.
func encode(a Answer) ([]byte, error) {
	for _, l := range []*[]Skipped{&a.OptedOut, &a.Refused} {
		if *l == nil {
			*l = []Skipped{}
		}
	}
	if a.Messages == nil {
		a.Messages = []Sent{}
	}
	return json.Marshal(a)
}

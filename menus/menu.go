// Package menus is the menu language: service files in YAML (one file tells
// everything about a service, French and English side by side), the loader,
// the validator, the screen renderer with its paging and GSM-7 arithmetic,
// the graph printer and the built-in catalogue.
//
// The language is documented in docs/MENUS.md.
package menus

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Languages the catalogue speaks; the first is the default.
var Languages = []string{"fr", "en"}

// Text is a string per language ("fr", "en").
type Text map[string]string

// Get returns the text in lang, falling back to the first of Languages it
// has: a one-language service's texts are in that language alone.
func (t Text) Get(lang string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	s, _ := t.In(lang)
	return s
}

// In returns the text in lang, else in the first of Languages it has, with
// the language it is in ("" and lang when it has none).
func (t Text) In(lang string) (string, string) {
	if s, ok := t[lang]; ok {
		return s, lang
	}
	for _, l := range Languages {
		if s, ok := t[l]; ok {
			return s, l
		}
	}
	return "", lang
}

// Kinds of nodes, each told apart by the key that carries its screen.
const (
	KindMenu    = "menu"    // numbered options
	KindInput   = "input"   // free input with validation
	KindChoose  = "choose"  // a choice among options an adapter lists at run time
	KindConfirm = "confirm" // yes or no
	KindAction  = "action"  // a named adapter operation; no screen
	KindEnd     = "end"     // the last screen
)

// Kinds lists every node kind; tests require a fixture for each.
var Kinds = []string{KindMenu, KindInput, KindChoose, KindConfirm, KindAction, KindEnd}

// Catalogue is every service behind one USSD code, with the home menu and
// the gateway's own screens.
type Catalogue struct {
	Name      string
	Code      string // the USSD code: "*123#"
	Title     Text
	Order     []string          // services as numbered on the home menu
	Shortcuts map[string]string // a dialled digit → "service" or "service/node"
	Texts     map[string]Text   // the gateway's own screens (see SystemTexts)
	Services  map[string]*Service
	File      string
	Line      int
}

// SystemTexts are the gateway's own words, each required in every language.
var SystemTexts = []string{
	"back", "home", "more", "yes", "no", "language", "choose_language",
	"invalid", "too_many", "slow", "retry", "failed", "empty", "busy", "resume",
	"resume_yes", "resume_no", "error",
}

// OptionalTexts are the gateway's own words a catalogue may leave out, and
// what is said then.
var OptionalTexts = map[string]Text{
	// A number that asked too much this hour (cases opened, bookings,
	// callbacks: cases.Limits).
	"limited": {"fr": "Trop de demandes depuis ce numero cette heure-ci. Reessayez plus tard.",
		"en": "Too many requests from this number this hour. Please try again later."},
}

// Service is one service file.
type Service struct {
	ID       string
	Category string // G2C, G2B or G2G
	Critical bool
	Owner    string // the administration that moves its cases
	Channels []string
	// Languages are those its texts are written in, in order of
	// preference (languages: in the file); empty: every one of Languages.
	// Callers of another language get its screens in the first.
	Languages []string
	Title     Text
	Start     string
	Nodes     map[string]*Node
	Order     []string // node names in file order
	Statuses  map[string]*Status
	Messages  map[string]Text
	// Transliterate names the messages to spell in GSM-7 (ê → e) whatever
	// the operator: 160 characters a part instead of UCS-2's 70.
	Transliterate []string
	// Retention is how long the service's data is kept (retention: in the
	// file); zero values leave it to the gateway's defaults.
	Retention Retention
	// Backend, when set, is the ministry system that serves the service's
	// operations instead of the native store (REST or SOAP). Its shape
	// belongs to the connectors (adapters/backend), which decode it.
	Backend *yaml.Node
	File    string
	Line    int
}

// Channels a service can be offered on (channels: in its file): USSD, the
// hotline's assisted sessions, the SMS dialogue and the web page.
var Channels = []string{"ussd", "hotline", "sms", "web"}

// DefaultChannels are those of a service whose file names none: USSD and
// the hotline, where every service was before channels: existed. The SMS
// dialogue and the web page are offered by naming them.
var DefaultChannels = []string{"ussd", "hotline"}

// Offers reports whether the service is offered on a channel.
func (s *Service) Offers(channel string) bool {
	if len(s.Channels) == 0 {
		return contains(DefaultChannels, channel)
	}
	return contains(s.Channels, channel)
}

// Offered lists the home menu's services on a channel, in order; every
// service for "".
func (c *Catalogue) Offered(channel string) []string {
	if channel == "" {
		return c.Order
	}
	var out []string
	for _, id := range c.Order {
		if s := c.Services[id]; s != nil && s.Offers(channel) {
			out = append(out, id)
		}
	}
	return out
}

// Speaks returns the language the service's screens are shown in to a
// caller of lang: lang when the service is written in it, else its first
// language.
func (s *Service) Speaks(lang string) string {
	if len(s.Languages) == 0 || contains(s.Languages, lang) {
		return lang
	}
	return s.Languages[0]
}

// languages are those the service's texts must be written in.
func (s *Service) languages() []string {
	if len(s.Languages) == 0 {
		return Languages
	}
	return s.Languages
}

// Node is one step of a service.
type Node struct {
	Name string
	Kind string
	Line int

	Text    Text     // menu header, input/choose prompt, confirm question, end screen
	Options []Option // menu
	Input   *Input   // input
	Choose  *Choose  // choose
	Action  string   // action: the operation's name
	Args    map[string]string
	Save    string            // action: prefix for the result's variables ("" = as they come)
	Next    string            // input, choose, action
	Yes, No string            // confirm
	Fail    map[string]string // action, choose: error code → node
}

// Option is one entry of a menu.
type Option struct {
	Label Text
	Next  string
	Line  int
}

// Input says what a free input accepts and where it goes.
type Input struct {
	Type    string // see InputTypes
	Save    string
	Min     int
	Max     int
	Pattern string // pattern
	Format  string // date: DDMMYYYY
	When    string // date: past or future
	Retries int
	Error   Text // the re-prompt, instead of the gateway's "invalid"
}

// Choose says which operation lists the options and where the choice goes:
// the option's label in the variable Save, its id in Save+"_id".
type Choose struct {
	From string
	Save string
	Args map[string]string
}

// Status is one step of a service's case life cycle.
type Status struct {
	Label Text
	Next  []string
	Line  int
}

// Targets beyond a service's own nodes.
const (
	TargetHome = "@home" // the catalogue's home menu
	// "@service" goes to another service's start.
)

// ServiceTitle returns a service's title in lang, or its id if unknown.
func (c *Catalogue) ServiceTitle(service, lang string) string {
	if s := c.Services[service]; s != nil {
		return s.Title.Get(lang)
	}
	return service
}

// ScreenText returns the words of a service's screen in lang, "" if it has
// no such screen: what the console shows of where a session stopped. The
// home menu's are the catalogue's title.
func (c *Catalogue) ScreenText(service, node, lang string) string {
	if s := c.Services[service]; s != nil {
		if n := s.Nodes[node]; n != nil {
			return n.Text.Get(lang)
		}
		return ""
	}
	if service == "home" {
		return c.Title.Get(lang)
	}
	return ""
}

// StatusLabel returns the label of a service's case status in lang, or the
// status code if unknown.
func (c *Catalogue) StatusLabel(service, status, lang string) string {
	if s := c.Services[service]; s != nil {
		if st := s.Statuses[status]; st != nil {
			return st.Label.Get(lang)
		}
	}
	return status
}

// Owner returns the administration that moves a service's cases.
func (c *Catalogue) Owner(service string) string {
	if s := c.Services[service]; s != nil {
		return s.Owner
	}
	return ""
}

// CanMove reports whether a service's life cycle allows a case to move from
// one status to another.
func (c *Catalogue) CanMove(service, from, to string) bool {
	s := c.Services[service]
	if s == nil || s.Statuses[to] == nil {
		return false
	}
	st := s.Statuses[from]
	if st == nil {
		return false
	}
	for _, n := range st.Next {
		if n == to {
			return true
		}
	}
	return false
}

// Template returns a service's message template (messages: in its file) in
// lang, and whether there is one.
func (c *Catalogue) Template(service, key, lang string) (string, bool) {
	s := c.Services[service]
	if s == nil {
		return "", false
	}
	t, ok := s.Messages[key]
	if !ok {
		return "", false
	}
	return t.Get(lang), true
}

// Transliterated reports whether a service asks for its message key to be
// spelt in GSM-7 (transliterate: in its file).
func (c *Catalogue) Transliterated(service, key string) bool {
	s := c.Services[service]
	return s != nil && slices.Contains(s.Transliterate, key)
}

// HasStatus reports whether status is in a service's case life cycle.
func (c *Catalogue) HasStatus(service, status string) bool {
	s := c.Services[service]
	return s != nil && s.Statuses[status] != nil
}

// ServiceIDs lists the catalogue's services, sorted.
func (c *Catalogue) ServiceIDs() []string {
	ids := make([]string, 0, len(c.Services))
	for id := range c.Services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Retention is how long a service's data is kept. Closed is the time a
// case in a closed status (one that moves nowhere) keeps its applicant's
// personal fields (phone, what they typed) before they are pseudonymised;
// the case and its history stay. Zero: the gateway's default.
type Retention struct {
	Closed time.Duration
	Line   int
}

// Closed lists the closed statuses of a service: those that move nowhere.
func (c *Catalogue) Closed(service string) []string {
	s := c.Services[service]
	if s == nil {
		return nil
	}
	var out []string
	for name, st := range s.Statuses {
		if len(st.Next) == 0 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// ParsePeriod reads a retention period: a number of days (90d), weeks (8w)
// or years of 365 days (2y).
func ParsePeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("%q is not a period such as 90d, 8w or 2y", s)
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil || n <= 0 || n > 100*366 {
		return 0, fmt.Errorf("%q is not a period such as 90d, 8w or 2y", s)
	}
	day := 24 * time.Hour
	switch s[len(s)-1] {
	case 'd':
		return time.Duration(n) * day, nil
	case 'w':
		return time.Duration(n) * 7 * day, nil
	case 'y':
		if n > 100 {
			break
		}
		return time.Duration(n) * 365 * day, nil
	}
	return 0, fmt.Errorf("%q is not a period such as 90d, 8w or 2y", s)
}

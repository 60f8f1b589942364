package ussd

import (
	"encoding/json"

	"github.com/guichet/guichet/menus"
)

// session is what the engine keeps between hops, as compact JSON (the store
// only keeps bytes with a TTL). One per phone number: a phone is in at most
// one USSD dialogue at a time, and keying by number is what lets a caller
// whose session dropped pick it up again on redial.
type session struct {
	ID      string            `json:"id"`           // the operator's session id
	Op      string            `json:"op,omitempty"` // operator
	Lang    string            `json:"l,omitempty"`
	Mode    string            `json:"m,omitempty"` // modeLang, modeResume, modeSlow or ""
	Svc     string            `json:"s,omitempty"` // current service; "" is home
	Node    string            `json:"n,omitempty"` // current node
	Page    int               `json:"p,omitempty"`
	Tries   int               `json:"t,omitempty"` // bad inputs on this screen
	Bad     bool              `json:"b,omitempty"` // the last input was refused
	Vars    map[string]string `json:"v,omitempty"`
	Stack   []string          `json:"k,omitempty"` // screens to go back to, "svc/node"
	Opts    []menus.Choice    `json:"o,omitempty"` // a choose node's options
	Queue   []string          `json:"q,omitempty"` // shortcut inputs still to play
	ActKey  string            `json:"ak,omitempty"`
	Hist    string            `json:"h,omitempty"` // cumulative dialects: the last text
	LastKey string            `json:"lk,omitempty"`
	LastIn  string            `json:"li,omitempty"`
	LastAt  int64             `json:"la"` // unix ms
	Started int64             `json:"st"` // unix ms
	Hops    int               `json:"c"`
	Screen  string            `json:"sc"`
	End     bool              `json:"e,omitempty"`
	Outcome string            `json:"oc,omitempty"` // recorded outcome
}

const (
	modeLang   = "lang"
	modeResume = "resume"
	modeSlow   = "slow"
)

func decodeSession(b []byte) (*session, error) {
	if b == nil {
		return nil, nil
	}
	s := new(session)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, err
	}
	if s.Vars == nil {
		s.Vars = map[string]string{}
	}
	return s, nil
}

func (s *session) encode() ([]byte, error) { return json.Marshal(s) }

// clone copies what a resumed session takes from the dropped one.
func (s *session) clone() *session {
	c := *s
	c.Vars = make(map[string]string, len(s.Vars))
	for k, v := range s.Vars {
		c.Vars[k] = v
	}
	c.Stack = append([]string(nil), s.Stack...)
	c.Opts = append([]menus.Choice(nil), s.Opts...)
	c.Queue = nil
	return &c
}

package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/notify"
	"github.com/guichet/guichet/outbox"
)

type langs map[string]string

func (l langs) Language(_ context.Context, p string) string { return l[p] }

var now = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func rig(t *testing.T) (*notify.Sender, *outbox.Memory, *cases.Memory) {
	t.Helper()
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	out := outbox.NewMemory()
	cs := cases.NewMemory(out)
	cs.Now = func() time.Time { return now }
	if err := cs.Seed(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &notify.Sender{Catalogue: cat, Store: notify.Stores{Citizens: cs, Outbox: out}, Languages: langs{"+237699000002": "en"}, Region: "CM",
		Now: func() time.Time { return now }}, out, cs
}

// A request that cannot be sent as a whole is refused, saying why, and
// nothing is written.
func TestRefusals(t *testing.T) {
	long := strings.Repeat("Vaccination gratuite samedi au centre de sante. ", 30)
	many := make([]string, notify.MaxNumbers+1)
	for i := range many {
		many[i] = "677000001"
	}
	tpl := func(service, name string, vars map[string]string) *notify.Template {
		return &notify.Template{Service: service, Name: name, Vars: vars}
	}
	tests := []struct {
		name string
		r    notify.Request
		want string
	}{
		{"no number", notify.Request{Text: map[string]string{"fr": "x"}}, "to: give a number"},
		{"too many", notify.Request{To: many, Text: map[string]string{"fr": "x"}}, "at most 1000"},
		{"no text", notify.Request{To: []string{"677000001"}}, "give text"},
		{"both", notify.Request{To: []string{"677000001"}, Text: map[string]string{"fr": "x"}, Template: tpl("birth-certificate", "opened", nil)}, "one of them"},
		{"unknown language", notify.Request{To: []string{"677000001"}, Text: map[string]string{"de": "x"}}, `language "de"`},
		{"bad default language", notify.Request{To: []string{"677000001"}, Text: map[string]string{"fr": "x"}, Lang: "es"}, `lang: "es"`},
		{"empty text", notify.Request{To: []string{"677000001"}, Text: map[string]string{"fr": "  "}}, "text.fr is empty"},
		{"over six parts", notify.Request{To: []string{"677000001"}, Text: map[string]string{"fr": long}}, "text.fr"},
		{"not UTF-8", notify.Request{To: []string{"677000001"}, Text: map[string]string{"fr": "caf\xe9"}}, "not UTF-8"},
		{"another's service", notify.Request{To: []string{"677000001"}, Template: tpl("company", "opened", map[string]string{"ref": "1"})}, `no service "company" of yours`},
		{"unknown message", notify.Request{To: []string{"677000001"}, Template: tpl("birth-certificate", "nope", nil)}, `no message "nope"`},
		{"missing variable", notify.Request{To: []string{"677000001"}, Template: tpl("birth-certificate", "opened", nil)}, `variable "ref" is missing`},
		{"unknown variable", notify.Request{To: []string{"677000001"}, Template: tpl("birth-certificate", "opened", map[string]string{"ref": "1", "x": "y"})}, `no variable "x"`},
		{"no usable number", notify.Request{To: []string{"12", "abc"}, Text: map[string]string{"fr": "x"}}, "no number of the request is usable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out, _ := rig(t)
			_, _, err := s.Send(t.Context(), "civil-status", "key_1", "", tt.r)
			if guichet.ErrorCode(err) != guichet.EINVALID || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want invalid: %q", err, tt.want)
			}
			if msgs, _ := out.OwnMessages(t.Context(), "civil-status", nil, 0, 100); len(msgs) != 0 {
				t.Errorf("%d messages written by a refused request", len(msgs))
			}
		})
	}
}

// A list: bad numbers refused with their index, the others normalised,
// those that sent STOP skipped; each citizen in their language (their
// phone's choice, else their latest case's, else the request's), the
// parts and alphabet of each told; all of it bulk, owned by the key's
// administration.
func TestSendList(t *testing.T) {
	s, out, cs := rig(t)
	ctx := t.Context()
	if err := cs.SetOptOut(ctx, "+237677000003", true); err != nil {
		t.Fatal(err)
	}
	cased, err := cs.Cases(ctx, cases.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var english string // a seeded citizen whose latest case is in English
	for _, c := range cased {
		if c.Lang == "en" && c.Phone != "+237699000002" {
			english = c.Phone
			break
		}
	}
	if english == "" {
		t.Fatal("setup: no seeded case in English")
	}
	r := notify.Request{To: []string{"677 00 07 01", "12", "+237699000002", "237677000003", english, "677000701"},
		Text: map[string]string{"fr": "Vos documents sont prêts.", "en": "Your documents are ready."}}
	a, body, err := s.Send(ctx, "civil-status", "key_1", "", r)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		index    int
		to, lang string
		alphabet string
	}
	want := []row{{0, "+237677000701", "fr", "UCS-2"}, {2, "+237699000002", "en", "GSM-7"}, {4, english, "en", "GSM-7"}}
	if len(a.Messages) != len(want) {
		t.Fatalf("messages %+v, want %d", a.Messages, len(want))
	}
	for i, w := range want {
		m := a.Messages[i]
		if m.Index != w.index || m.To != w.to || m.Lang != w.lang || m.Alphabet != w.alphabet || m.Parts != 1 || m.ID == "" {
			t.Errorf("message %d: %+v, want %+v", i, m, w)
		}
	}
	if len(a.Refused) != 2 || a.Refused[0].Index != 1 || a.Refused[1].Index != 5 || !strings.Contains(a.Refused[1].Reason, "already") {
		t.Errorf("refused %+v, want index 1 (not a number) and 5 (twice)", a.Refused)
	}
	if len(a.OptedOut) != 1 || a.OptedOut[0].Index != 3 || a.OptedOut[0].To != "+237677000003" {
		t.Errorf("opted out %+v, want index 3", a.OptedOut)
	}
	var back notify.Answer
	if err := json.Unmarshal(body, &back); err != nil || len(back.Messages) != 3 {
		t.Errorf("the answer's bytes %s, %v", body, err)
	}
	msgs, _ := out.OwnMessages(ctx, "civil-status", nil, 0, 100)
	if len(msgs) != 3 {
		t.Fatalf("%d messages in the outbox, want 3", len(msgs))
	}
	for _, m := range msgs {
		if !m.Bulk || m.Owner != "civil-status" || m.KeyID != "key_1" || m.Kind != notify.KindAPI || m.Status != outbox.MessagePending {
			t.Errorf("message %+v: want bulk, civil-status's, pending", m)
		}
	}
	if msgs[1].Body != "Your documents are ready." || msgs[0].Body != "Vos documents sont prêts." {
		t.Errorf("bodies %q, %q", msgs[0].Body, msgs[1].Body)
	}
}

// One number is transactional; a template is filled in the citizen's
// language; a key repeated sends nothing again and answers the same.
func TestSendOnceWithTemplate(t *testing.T) {
	s, out, _ := rig(t)
	ctx := t.Context()
	r := notify.Request{To: []string{"+237699000002"}, Template: &notify.Template{Service: "birth-certificate", Name: "opened", Vars: map[string]string{"ref": "20000011"}}}
	_, first, err := s.Send(ctx, "civil-status", "key_1", "retry-1", r)
	if err != nil {
		t.Fatal(err)
	}
	_, again, err := s.Send(ctx, "civil-status", "key_1", "retry-1", r)
	if err != nil || string(again) != string(first) {
		t.Errorf("a repeated key answered %s, %v; want %s", again, err, first)
	}
	if _, other, _ := s.Send(ctx, "commerce", "key_2", "retry-1", notify.Request{To: []string{"677000009"}, Text: map[string]string{"fr": "x"}}); string(other) == string(first) {
		t.Error("another administration's request with the same key got the first's answer")
	}
	msgs, _ := out.OwnMessages(ctx, "civil-status", nil, 0, 100)
	if len(msgs) != 1 || msgs[0].Bulk || msgs[0].Body != "Case 20000011 received. Track: *123*4*20000011#" {
		t.Fatalf("messages %+v: want one, transactional, in English", msgs)
	}
}

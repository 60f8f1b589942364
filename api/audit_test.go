package api_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/staff"
)

type failingAudit struct{}

func (failingAudit) Audit(context.Context, staff.AuditEntry) error { return errors.New("disk full") }

// Each read of citizens' data through the API is in the audit log: one
// entry a request, the key's owner its actor, the numbers and references
// it returned its subjects (so that a search for a number finds it); an
// empty page records nothing; a read that cannot be recorded is refused.
func TestReadsAudited(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	const key = "cs-key-1"
	other := sample("20000022", "received")
	other.Phone = "+237677123457"
	mock := &caseMock{t: t,
		caseFn: func(ref, owner string) (cases.Case, error) { return sample(ref, "received"), nil },
		casesFn: func(f cases.CaseFilter, owner string) ([]cases.Case, error) {
			if f.Status == "ready" {
				return nil, nil
			}
			return []cases.Case{sample("20000011", "received"), other, sample("20000033", "received")}, nil
		}}
	out := outbox.NewMemory()
	for _, p := range []string{"+237677123456", "+237677123457", "+237677123456"} {
		if err := out.Enqueue(t.Context(), []outbox.Message{{Phone: p, Lang: "fr", Body: "Bonjour", Kind: "api", Owner: "civil-status",
			Created: opened, Status: outbox.MessagePending}}); err != nil {
			t.Fatal(err)
		}
	}
	log := staff.NewMemory()
	srv := &api.Server{Catalogue: cat, Cases: mock, Keys: testKeys(t, key), Messages: out, Audit: log, Now: func() time.Time { return opened },
		Log: phonetest.NewLog(t).Logger()}
	r := chi.NewRouter()
	srv.Routes(r)
	get := func(path string) int {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		return rec.Code
	}
	id := apikey.ID(apikey.Hash(key))
	for _, tt := range []struct {
		path string
		want string // the entry written, "" for none
	}{
		{"/api/v1/cases/20000011", "api:civil-status api.case 20000011 [+237677123456] key " + id},
		{"/api/v1/cases?service=birth-certificate&limit=3", "api:civil-status api.cases  [20000011 +237677123456 20000022 +237677123457 20000033] key " + id +
			" 3 cases service=birth-certificate limit=3"},
		{"/api/v1/cases?status=ready", ""},
		{"/api/v1/messages/2", "api:civil-status api.message message:2 [+237677123457] key " + id},
		{"/api/v1/messages?limit=10", "api:civil-status api.messages  [+237677123456 +237677123457] key " + id + " 3 messages limit=10"},
		{"/api/v1/messages?state=delivered", ""},
	} {
		before, _ := log.AuditLog(t.Context(), staff.AuditFilter{})
		if code := get(tt.path); code != 200 {
			t.Fatalf("%s: %d", tt.path, code)
		}
		after, _ := log.AuditLog(t.Context(), staff.AuditFilter{})
		var got []string
		for _, e := range after[:len(after)-len(before)] {
			got = append(got, e.User+" "+e.Action+" "+e.Subject+" ["+strings.Join(e.Shown, " ")+"] "+e.Detail)
		}
		if want := []string{tt.want}; tt.want == "" && len(got) != 0 || tt.want != "" && !slices.Equal(got, want) {
			t.Errorf("%s wrote %q, want %q", tt.path, got, tt.want)
		}
	}
	if es, _ := log.AuditLog(t.Context(), staff.AuditFilter{Subject: "+237677123457"}); len(es) != 3 {
		t.Errorf("the reads of +237677123457's data: %+v, want the list of cases, the message and the list of messages", es)
	}

	srv.Audit = failingAudit{}
	for _, path := range []string{"/api/v1/cases/20000011", "/api/v1/cases", "/api/v1/messages/1", "/api/v1/messages"} {
		if code := get(path); code != 500 {
			t.Errorf("%s with an audit log that fails: %d, want 500", path, code)
		}
	}
}

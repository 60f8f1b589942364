package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/guichet/guichet"
	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/menus"
	"github.com/guichet/guichet/phone/phonetest"
)

// caseMock is a mock of api.Cases: a struct of function fields; a call to one
// left nil fails the test.
type caseMock struct {
	t        *testing.T
	caseFn   func(ref, owner string) (cases.Case, error)
	casesFn  func(f cases.CaseFilter, owner string) ([]cases.Case, error)
	moveFn   func(ref string, m cases.Move, owner string) (cases.Case, error)
	lastMove cases.Move
	lastKey  string
}

var _ api.Cases = (*caseMock)(nil)

func (c *caseMock) Case(_ context.Context, ref, owner string) (cases.Case, error) {
	if c.caseFn == nil {
		c.t.Fatalf("Case(%s) was not expected", ref)
	}
	return c.caseFn(ref, owner)
}

func (c *caseMock) Cases(_ context.Context, f cases.CaseFilter, owner string) ([]cases.Case, error) {
	if c.casesFn == nil {
		c.t.Fatalf("Cases was not expected")
	}
	return c.casesFn(f, owner)
}

func (c *caseMock) MoveCaseOnce(_ context.Context, ref string, m cases.Move, owner, key string) (cases.Case, error) {
	if c.moveFn == nil {
		c.t.Fatalf("MoveCase(%s) was not expected", ref)
	}
	c.lastMove, c.lastKey = m, key
	return c.moveFn(ref, m, owner)
}

// testKeys holds key (civil-status's), a revoked one and an expired one.
func testKeys(t *testing.T, key string) *apikey.Memory {
	keys := &apikey.Memory{}
	made := opened.Add(-24 * time.Hour)
	for k, v := range map[string]apikey.Key{
		key:         {Owner: "civil-status", Created: made, Expires: made.AddDate(1, 0, 0)},
		"revoked-1": {Owner: "civil-status", Created: made},
		"expired-1": {Owner: "civil-status", Created: made, Expires: made.Add(time.Hour)},
	} {
		if err := keys.AddAPIKey(t.Context(), v, apikey.Hash(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := keys.RevokeAPIKey(t.Context(), apikey.ID(apikey.Hash("revoked-1")), made.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return keys
}

var opened = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func sample(ref, status string) cases.Case {
	return cases.Case{Ref: ref, Service: "birth-certificate", Status: status, Phone: "+237677123456", Lang: "fr",
		Channel: "ussd", Data: map[string]string{"name": "Ngo Bassa"}, Opened: opened, Updated: opened,
		History: []cases.Event{{Status: "received", At: opened, Channel: "ussd", Who: "+237677123456"}}}
}

func TestAPI(t *testing.T) {
	cat, err := menus.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	const key = "cs-key-1"
	tests := []struct {
		name, method, path, ctype, body string
		noKey                           bool
		key                             string
		mock                            func(*caseMock)
		status                          int
		contains                        []string
		problem                         bool
		wantMove                        *cases.Move
		header                          map[string]string
	}{
		{name: "services are public", method: "GET", path: "/api/v1/services", noKey: true, status: 200,
			contains: []string{`"id":"birth-certificate"`, `"category":"G2G"`, `"owner":"civil-status"`, `"critical":true`,
				`"received":{"label":{"en":"Received","fr":"Déposé"},"next":["processing","rejected"]}`}},
		{name: "no key", method: "GET", path: "/api/v1/cases/20000011", noKey: true, status: 401, problem: true,
			contains: []string{`"detail":"an API key is required`}},
		{name: "unknown key", method: "GET", path: "/api/v1/cases/20000011", key: "guess", status: 401, problem: true},
		{name: "revoked key", method: "GET", path: "/api/v1/cases/20000011", key: "revoked-1", status: 401, problem: true,
			contains: []string{`"detail":"this API key was revoked on 2026-11-19"`}},
		{name: "expired key", method: "GET", path: "/api/v1/cases/20000011", key: "expired-1", status: 401, problem: true,
			contains: []string{`"detail":"this API key expired on 2026-11-19"`}},
		{name: "get a case", method: "GET", path: "/api/v1/cases/20000011", status: 200,
			mock: func(c *caseMock) {
				c.caseFn = func(ref, owner string) (cases.Case, error) {
					if ref != "20000011" || owner != "civil-status" {
						t.Errorf("Case(%q, %q)", ref, owner)
					}
					return sample(ref, "received"), nil
				}
			},
			contains: []string{`"ref":"20000011"`, `"status_label":{"en":"Received","fr":"Déposé"}`, `"next":["processing","rejected"]`,
				`"data":{"name":"Ngo Bassa"}`, `"history":[{"status":"received"`}},
		{name: "unknown case", method: "GET", path: "/api/v1/cases/20000020", status: 404, problem: true,
			mock: func(c *caseMock) {
				c.caseFn = func(string, string) (cases.Case, error) {
					return cases.Case{}, guichet.Errorf(guichet.ENOTFOUND, "no case 20000020")
				}
			},
			contains: []string{`"type":"https://guichet.cm/problems/not-found"`, `"detail":"no case 20000020"`, `"instance":"/api/v1/cases/20000020"`}},
		{name: "a store failure says nothing of itself", method: "GET", path: "/api/v1/cases/20000011", status: 500, problem: true,
			mock: func(c *caseMock) {
				c.caseFn = func(string, string) (cases.Case, error) {
					return cases.Case{}, errors.New("pq: password authentication failed for user guichet")
				}
			},
			contains: []string{`"detail":"internal error"`}},
		{name: "move a case", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing","note":"  Dossier complet.  "}`, status: 201,
			mock: func(c *caseMock) {
				c.moveFn = func(ref string, m cases.Move, owner string) (cases.Case, error) {
					return sample(ref, m.Status), nil
				}
			},
			wantMove: &cases.Move{Status: "processing", Note: "Dossier complet.", Who: "api:civil-status", Channel: "api"},
			contains: []string{`"status":"processing"`, `"next":["ready","rejected"]`}},
		{name: "an illegal move", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"collected"}`, status: 409, problem: true,
			mock: func(c *caseMock) {
				c.moveFn = func(string, cases.Move, string) (cases.Case, error) {
					return cases.Case{}, guichet.Errorf(guichet.ECONFLICT, "cannot move from received to collected")
				}
			},
			contains: []string{`"detail":"cannot move from received to collected"`}},
		{name: "a bad check digit", method: "POST", path: "/api/v1/cases/20000012/events", ctype: "application/json",
			body: `{"status":"processing"}`, status: 400, problem: true,
			mock: func(c *caseMock) {
				c.moveFn = func(string, cases.Move, string) (cases.Case, error) {
					return cases.Case{}, guichet.Errorf(guichet.EINVALID, "invalid reference")
				}
			}},
		{name: "malformed JSON", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":`, status: 400, problem: true, contains: []string{"malformed JSON body"}},
		{name: "unknown field", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing","stauts":"x"}`, status: 400, problem: true, contains: []string{`unknown field \"stauts\"`}},
		{name: "two objects", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing"}{"status":"ready"}`, status: 400, problem: true},
		{name: "missing status", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"note":"x"}`, status: 400, problem: true, contains: []string{"status is required"}},
		{name: "note too long", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing","note":"` + strings.Repeat("a", 301) + `"}`, status: 400, problem: true},
		{name: "not UTF-8", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: "{\"status\":\"processing\",\"note\":\"\xff\"}", status: 400, problem: true},
		{name: "wrong media type", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "text/plain",
			body: `{"status":"processing"}`, status: 415, problem: true},
		{name: "too large", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing","note":"` + strings.Repeat("a", 70<<10) + `"}`, status: 413, problem: true},
		{name: "an over-long idempotency key", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing"}`, header: map[string]string{"Idempotency-Key": strings.Repeat("k", 201)}, status: 400, problem: true},
		{name: "the idempotency key goes to the store", method: "POST", path: "/api/v1/cases/20000011/events", ctype: "application/json",
			body: `{"status":"processing"}`, header: map[string]string{"Idempotency-Key": "batch-7/42"}, status: 201,
			mock: func(c *caseMock) {
				c.moveFn = func(ref string, m cases.Move, owner string) (cases.Case, error) {
					if c.lastKey != "batch-7/42" {
						t.Errorf("key %q reached the store", c.lastKey)
					}
					return sample(ref, m.Status), nil
				}
			}},
		{name: "list with a bad limit", method: "GET", path: "/api/v1/cases?limit=0", status: 400, problem: true},
		{name: "list a page", method: "GET", path: "/api/v1/cases?service=birth-certificate&status=received&limit=2&after=10000012", status: 200,
			mock: func(c *caseMock) {
				c.casesFn = func(f cases.CaseFilter, owner string) ([]cases.Case, error) {
					if f.Limit != 2 || f.After != "10000012" || f.Status != "received" || len(f.Services) != 1 || owner != "civil-status" {
						t.Errorf("Cases(%+v, %q)", f, owner)
					}
					return []cases.Case{sample("20000011", "received"), sample("20000022", "received")}, nil
				}
			},
			contains: []string{`"next":"20000022"`, `"ref":"20000011"`}},
	}
	doc := loadOpenAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mock := &caseMock{t: t}
			if tt.mock != nil {
				tt.mock(mock)
			}
			keys := testKeys(t, key)
			srv := &api.Server{Catalogue: cat, Cases: mock, Keys: keys, Now: func() time.Time { return opened },
				Log: phonetest.NewLog(t).Logger()}
			r := chi.NewRouter()
			srv.Routes(r)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if !tt.noKey {
				k := key
				if tt.key != "" {
					k = tt.key
				}
				req.Header.Set("Authorization", "Bearer "+k)
			}
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, body)
			}
			doc.checkResponse(t, tt.method, strings.Split(tt.path, "?")[0], rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
			if k, _ := keys.APIKey(t.Context(), apikey.Hash(key)); (tt.key == "" && !tt.noKey) != k.LastUsed.Equal(opened) {
				t.Errorf("the key's last use is %v after this request", k.LastUsed)
			}
			if tt.problem {
				var p api.Problem
				if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("content type %q", ct)
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != tt.status || p.Title == "" || p.Type == "" {
					t.Errorf("not a problem document: %s (%v)", body, err)
				}
			}
			for _, want := range tt.contains {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %s:\n%s", want, body)
				}
			}
			if tt.wantMove != nil {
				got := mock.lastMove
				got.At = time.Time{}
				if got != *tt.wantMove {
					t.Errorf("move %+v, want %+v", got, *tt.wantMove)
				}
				if mock.lastMove.At.IsZero() {
					t.Error("the move has no time")
				}
			}
		})
	}
}

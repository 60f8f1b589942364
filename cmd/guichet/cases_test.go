package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/api"
	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres/pgtest"
)

// The whole path on PostgreSQL: a citizen applies by USSD, the ministry
// moves the case through the API, and each step leaves its SMS in the
// outbox, in the citizen's language; refused moves write nothing.
func TestCaseLifeCycleOnPostgres(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Migrate, c.Seed = pgtest.DB(t), true, true; forceDemo(c) })
	ctx := context.Background()
	keys := map[string]string{"civil-status": apikey.New(), "commerce": apikey.New()}
	for owner, k := range keys {
		if err := g.stores.keys.AddAPIKey(ctx, apikey.Key{Owner: owner, Label: "test", Created: time.Now()}, apikey.Hash(k)); err != nil {
			t.Fatal(err)
		}
	}

	// The citizen applies, in English.
	const citizen = "+237699400001"
	text := ""
	for _, in := range []string{"", "2", "2", "1", "Ekane Fon", "01011985", "1"} {
		if text == "" {
			text = in
		} else {
			text += "*" + in
		}
		resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {"pg1"}, "phoneNumber": {citizen},
			"serviceCode": {"*123#"}, "text": {text}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	const ref = "20000011"

	call := func(method, path, key, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, g.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	snapshot := func() (cases.Case, []outbox.Message) {
		t.Helper()
		c, err := g.cases.Case(ctx, ref, "")
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := g.stores.outbox.Messages(ctx, citizen, 50)
		if err != nil {
			t.Fatal(err)
		}
		return c, msgs
	}

	cs := keys["civil-status"]
	tests := []struct {
		name, method, path, key, body string
		status                        int
		contains                      string
		writes                        bool // the case and the outbox change
	}{
		{"the case as its ministry sees it", "GET", "/api/v1/cases/" + ref, cs, "", 200, `"name":"Ekane Fon"`, false},
		{"another administration cannot see it", "GET", "/api/v1/cases/" + ref, keys["commerce"], "", 404, "", false},
		{"a mistyped reference", "GET", "/api/v1/cases/20000012", cs, "", 400, "invalid reference", false},
		{"a reference that exists nowhere", "GET", "/api/v1/cases/20000022", cs, "", 404, "", false},
		{"an illegal move", "POST", "/api/v1/cases/" + ref + "/events", cs, `{"status":"collected"}`, 409, "cannot move", false},
		{"an unknown status", "POST", "/api/v1/cases/" + ref + "/events", cs, `{"status":"lost"}`, 400, "", false},
		{"another administration cannot move it", "POST", "/api/v1/cases/" + ref + "/events", keys["commerce"], `{"status":"processing"}`, 404, "", false},
		{"a malformed body", "POST", "/api/v1/cases/" + ref + "/events", cs, `{"status":`, 400, "", false},
		{"a legal move with a note", "POST", "/api/v1/cases/" + ref + "/events", cs, `{"status":"processing","note":"All documents received."}`, 201, `"status":"processing"`, true},
		{"the next one", "POST", "/api/v1/cases/" + ref + "/events", cs, `{"status":"ready"}`, 201, `"next":["collected"]`, true},
		{"the list, filtered", "GET", "/api/v1/cases?service=birth-certificate&status=ready", cs, "", 200, `"ref":"` + ref + `"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, beforeMsgs := snapshot()
			status, body := call(tt.method, tt.path, tt.key, tt.body)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Fatalf("%d %s, want %d containing %q", status, body, tt.status, tt.contains)
			}
			after, afterMsgs := snapshot()
			changed := len(after.History) != len(before.History) || len(afterMsgs) != len(beforeMsgs) || after.Status != before.Status
			if changed != tt.writes {
				t.Errorf("wrote %v (history %d→%d, outbox %d→%d), want %v", changed,
					len(before.History), len(after.History), len(beforeMsgs), len(afterMsgs), tt.writes)
			}
		})
	}

	// A back office retrying the same move with its Idempotency-Key moves
	// once; the key cannot be reused for another case.
	retry := func(path string) (int, string) {
		req, _ := http.NewRequest("POST", g.url+path, strings.NewReader(`{"status":"collected"}`))
		req.Header.Set("Authorization", "Bearer "+cs)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "pickup-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	before, beforeMsgs := snapshot()
	for i := 0; i < 2; i++ {
		if status, body := retry("/api/v1/cases/" + ref + "/events"); status != 201 || !strings.Contains(body, `"status":"collected"`) {
			t.Fatalf("attempt %d: %d %s", i+1, status, body)
		}
	}
	if after, afterMsgs := snapshot(); len(after.History) != len(before.History)+1 || len(afterMsgs) != len(beforeMsgs)+1 {
		t.Errorf("two attempts with one key: history %d→%d, outbox %d→%d; want one move", len(before.History),
			len(after.History), len(beforeMsgs), len(afterMsgs))
	}
	if status, _ := retry("/api/v1/cases/10000057/events"); status != 409 {
		t.Errorf("a key reused for another case: %d, want 409", status)
	}

	c, msgs := snapshot()
	if got := c.History[len(c.History)-2]; got.Channel != "api" || got.Who != "api:civil-status" || got.Status != "ready" {
		t.Errorf("last event %+v", got)
	}
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, m.Body)
		if m.Lang != "en" {
			t.Errorf("message in %q, the citizen chose English: %q", m.Lang, m.Body)
		}
	}
	for _, want := range []string{"Case 20000011 received. Track: *123*4*20000011#", "Case 20000011: Processing.", "Case 20000011: Ready for pickup.", "Case 20000011: Collected."} {
		if !strings.Contains(strings.Join(bodies, "\n"), want) {
			t.Errorf("outbox lacks %q:\n%s", want, strings.Join(bodies, "\n"))
		}
	}

	// The catalogue is public.
	resp, err := http.Get(g.url + "/api/v1/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Services []api.Service }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Services) != 6 {
		t.Fatalf("services: %v, %d", err, len(out.Services))
	}
}

// guichet migrate, then guichet apikey add: the key it prints opens the API
// of its administration.
func TestMigrateAndAPIKeyCommands(t *testing.T) {
	db := pgtest.DB(t)
	env := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	var out strings.Builder
	if err := run(t.Context(), []string{"migrate"}, nil, &out, io.Discard, env); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := run(t.Context(), []string{"apikey", "add", "--owner", "nobody"}, nil, &out, io.Discard, env); err == nil {
		t.Error("a key for an administration that owns no service was made")
	}
	out.Reset()
	if err := run(t.Context(), []string{"apikey", "add", "--owner", "commerce", "--label", "registry", "--per-day", "500"}, nil, &out, io.Discard, env); err != nil {
		t.Fatalf("apikey add: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	key := lines[len(lines)-1]
	if !strings.HasPrefix(key, "gk_") {
		t.Fatalf("apikey add printed %q", out.String())
	}
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Seed = db, true })
	req, _ := http.NewRequest("GET", g.url+"/api/v1/cases/10000048", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("the new key got %d for its own administration's case", resp.StatusCode)
	}

	// list shows it, used; revoke ends it at once.
	id := strings.Fields(lines[0])[2]
	out.Reset()
	if err := run(t.Context(), []string{"apikey", "list"}, nil, &out, io.Discard, env); err != nil {
		t.Fatalf("apikey list: %v", err)
	}
	listed := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(listed) != 2 || !strings.HasPrefix(listed[1], id+" ") || !strings.Contains(listed[1], "commerce") ||
		!strings.Contains(listed[1], "registry") || !strings.HasSuffix(listed[1], "in force") || strings.Count(listed[1], " - ") != 1 ||
		!strings.Contains(listed[1], "500/day 20/s") {
		t.Errorf("apikey list:\n%s\nwant %s of commerce, in force, used, never expiring", out.String(), id)
	}
	if err := run(t.Context(), []string{"apikey", "revoke", "key_000000000000"}, nil, &out, io.Discard, env); err == nil {
		t.Error("revoking an unknown key said nothing")
	}
	if err := run(t.Context(), []string{"apikey", "revoke", id}, nil, &out, io.Discard, env); err != nil {
		t.Fatalf("apikey revoke: %v", err)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a revoked key got %d, want 401", resp.StatusCode)
	}
	for _, bad := range [][]string{{"add", "--owner", "commerce", "--expires", "30/06/2027"}, {"add", "--owner", "commerce", "--days", "-3"},
		{"add", "--owner", "commerce", "--expires", "2020-01-01"}, {"revoke"}, {"remove", id}} {
		if err := run(t.Context(), append([]string{"apikey"}, bad...), nil, &out, io.Discard, env); err == nil {
			t.Errorf("apikey %v was accepted", bad)
		}
	}
}

// One number opening case after case hears, past its hourly limit, a
// polite "try again later" instead of a new case (and no SMS is written).
func TestCasesPerNumberLimited(t *testing.T) {
	g := newTestGateway(t, func(c *Config) { c.Limits.CasesPerHour = 2 })
	const citizen = "+237677400009"
	apply := func(session string) string {
		text, last := "", ""
		inputs := []string{"", "1", "2", "1", "Ngo Bassa", "01011990", "1"}
		if session != "lim0" {
			inputs = slices.Delete(inputs, 1, 2) // the language is known
		}
		for _, in := range inputs {
			text = strings.TrimPrefix(text+"*"+in, "*")
			resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {session}, "phoneNumber": {citizen},
				"serviceCode": {"*123#"}, "text": {text}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
		}
		return last
	}
	for i := range 2 {
		if got := apply(fmt.Sprint("lim", i)); !strings.Contains(got, "END Dossier") {
			t.Fatalf("application %d: %q, want a case", i, got)
		}
	}
	if got := apply("lim2"); !strings.HasPrefix(got, "END Trop de demandes") {
		t.Errorf("the third application in the hour: %q, want the polite limit", got)
	}
	msgs, err := g.stores.outbox.(interface {
		Messages(ctx context.Context, phone string, limit int) ([]outbox.Message, error)
	}).Messages(t.Context(), citizen, 10)
	if err != nil || len(msgs) != 2 {
		t.Errorf("%d SMS to the citizen, %v; want 2 (one a case)", len(msgs), err)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/smpp/smsctest"
	"github.com/guichet/guichet/staff"
)

type stringer func() string

func (f stringer) String() string { return f() }

// middayClock runs from noon in Douala today, whatever the time the test
// runs at: a campaign's window is open.
func middayClock() func() time.Time {
	y, m, d := time.Now().In(cases.Cameroon).Date()
	offset := time.Until(time.Date(y, m, d, 12, 0, 0, 0, cases.Cameroon))
	return func() time.Time { return time.Now().Add(offset) }
}

// A campaign through the API, on PostgreSQL, to a real SMPP peer: a CSV
// with two bad lines (reported by line), a number that sent STOP skipped;
// started, paused (nothing more queued), resumed, and every message
// delivered, counted per operator; a done campaign cannot start again;
// another administration sees none of it.
func TestCampaignAPI(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	t.Cleanup(srv.Close)
	db := postgres.New(pool)
	secret := map[string]string{}
	for _, owner := range []string{"civil-status", "commerce"} {
		secret[owner] = apikey.New()
		if err := db.Keys().AddAPIKey(ctx, apikey.Key{Owner: owner, Created: time.Now(), PerSecond: 1000}, apikey.Hash(secret[owner])); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Cases().SetOptOut(ctx, "+237677400005", true); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL, cfg.Clock = "127.0.0.1:0", url, middayClock()
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Source: "8080", Rate: 50}}}
	base, logs, _ := serveTest(t, cfg)
	call := func(method, path, owner, body string) (int, map[string]any) {
		t.Helper()
		code, b := apiCall(t, method, base+path, secret[owner], body)
		var out map[string]any
		json.Unmarshal([]byte(b), &out)
		return code, out
	}
	var csv strings.Builder
	csv.WriteString("numero,nom\n")
	for i := range 40 {
		fmt.Fprintf(&csv, "6774%05d,Citoyen %d\n", i, i)
		if i == 10 {
			csv.WriteString("pas un numero,x\n")
		}
		if i == 20 {
			csv.WriteString("12,trop court\n")
		}
	}
	body, _ := json.Marshal(map[string]any{"name": "Vaccination Wouri", "rate": 20,
		"text":     map[string]string{"fr": "Vaccination gratuite samedi.", "en": "Free vaccination on Saturday."},
		"audience": map[string]string{"csv": csv.String()}})
	code, c := call("POST", "/api/v1/campaigns", "civil-status", string(body))
	if code != http.StatusCreated || c["state"] != "draft" || c["audience"] != float64(40) {
		t.Fatalf("POST /api/v1/campaigns: %d %v", code, c)
	}
	bad, _ := c["bad_lines"].([]any)
	if len(bad) != 2 || bad[0].(map[string]any)["line"] != float64(13) || bad[1].(map[string]any)["line"] != float64(24) {
		t.Errorf("bad lines %v, want lines 13 and 24", c["bad_lines"])
	}
	id := c["id"].(string)
	if code, _ := call("GET", "/api/v1/campaigns/"+id, "commerce", ""); code != http.StatusNotFound {
		t.Errorf("another administration read the campaign: %d", code)
	}
	if code, c := call("POST", "/api/v1/campaigns/"+id+"/start", "civil-status", ""); code != 200 || c["state"] != "running" {
		t.Fatalf("start: %d %v", code, c)
	}
	waiting := func() float64 {
		_, c := call("GET", "/api/v1/campaigns/"+id, "civil-status", "")
		return c["waiting"].(float64)
	}
	waitUntil(t, 20*time.Second, "some numbers queued", func() bool { return waiting() < 40 }, &syncBuffer{})
	if code, c := call("POST", "/api/v1/campaigns/"+id+"/pause", "civil-status", ""); code != 200 || c["state"] != "paused" {
		t.Fatalf("pause: %d %v", code, c)
	}
	held := waiting()
	time.Sleep(1500 * time.Millisecond) // a runner's step and more
	if w := waiting(); w != held {
		t.Errorf("a paused campaign went from %v to %v numbers waiting", held, w)
	}
	if code, _ := call("POST", "/api/v1/campaigns/"+id+"/resume", "civil-status", ""); code != 200 {
		t.Fatalf("resume: %d", code)
	}
	var final map[string]any
	waitUntil(t, 30*time.Second, "every message delivered", func() bool {
		_, final = call("GET", "/api/v1/campaigns/"+id, "civil-status", "")
		mtn, _ := final["operators"].(map[string]any)["mtn"].(map[string]any)
		return final["state"] == "done" && mtn != nil && mtn["Delivered"] == float64(39)
	}, stringer(func() string { return fmt.Sprint(final) + "\n" + tail(logs.String(), 3000) }))
	if final["opted_out"] != float64(1) {
		t.Errorf("opted out %v, want the one who sent STOP", final["opted_out"])
	}
	if code, _ := call("POST", "/api/v1/campaigns/"+id+"/start", "civil-status", ""); code != http.StatusConflict {
		t.Errorf("starting a done campaign: %d, want 409", code)
	}
	es, err := db.Console().AuditLog(ctx, staff.AuditFilter{Subject: "campaign:" + id, Limit: 10})
	var steps []string
	for _, e := range es {
		if strings.HasPrefix(e.User, "api:key_") {
			steps = append(steps, e.Action)
		}
	}
	if err != nil || strings.Join(steps, " ") != "campaign.resume campaign.pause campaign.start campaign.create" {
		t.Errorf("the campaign's history in the audit log: %v, %v", steps, err)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE campaign = $1 AND bulk`, id).Scan(&n)
	if n != 39 {
		t.Errorf("%d bulk messages of the campaign, want 39 (each number once, STOP skipped)", n)
	}
}

// A campaign through the API counts against its key's messages of the
// day, with the key's own sends: a key of 25 a day that sent 5 gets 20 of
// its campaign's 40 out, then the campaign is paused saying why, cannot be
// resumed (429 until midnight in Douala) and the key's sends are refused
// too.
func TestCampaignChargedToItsKeysDay(t *testing.T) {
	ctx := t.Context()
	url, pool := migrated(t)
	srv := smsctest.NewServer(smsctest.Options{Receipts: true})
	t.Cleanup(srv.Close)
	key := apikey.New()
	if err := postgres.New(pool).Keys().AddAPIKey(ctx, apikey.Key{Owner: "civil-status", Created: time.Now(), PerDay: 25, PerSecond: 1000}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL, cfg.Clock = "127.0.0.1:0", url, middayClock()
	cfg.SMPP = SMPPConfig{Operators: []SMSCConfig{{Name: "mtn", Addr: srv.Addr(), SystemID: "guichet", Source: "8080"}}}
	base, logs, _ := serveTest(t, cfg)
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		code, b := apiCall(t, method, base+path, key, body)
		var out map[string]any
		json.Unmarshal([]byte(b), &out)
		return code, out
	}
	numbers := func(from, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("+2376776%05d", from+i))
		}
		return out
	}
	five, _ := json.Marshal(map[string]any{"to": numbers(0, 5), "text": map[string]string{"fr": "Vos documents sont prêts."}})
	if code, a := call("POST", "/api/v1/messages", string(five)); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/messages: %d %v", code, a)
	}
	body, _ := json.Marshal(map[string]any{"name": "Vaccination Wouri", "text": map[string]string{"fr": "Vaccination gratuite samedi."},
		"audience": map[string]any{"numbers": numbers(100, 40)}})
	code, c := call("POST", "/api/v1/campaigns", string(body))
	if code != http.StatusCreated {
		t.Fatalf("POST /api/v1/campaigns: %d %v", code, c)
	}
	id := c["id"].(string)
	if code, c := call("POST", "/api/v1/campaigns/"+id+"/start", ""); code != http.StatusOK {
		t.Fatalf("start: %d %v", code, c)
	}
	waitUntil(t, 20*time.Second, "the campaign to stop running", func() bool {
		_, c = call("GET", "/api/v1/campaigns/"+id, "")
		return c["state"] != "running"
	}, stringer(func() string { return fmt.Sprint(c) + "\n" + tail(logs.String(), 2000) }))
	why, _ := c["paused_because"].(string)
	if c["state"] != "paused" || c["waiting"] != float64(20) || !strings.Contains(why, "25 messages a day") {
		t.Errorf("the campaign after its key's day: %v; want paused with 20 numbers waiting, saying why", c)
	}
	var n int
	pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE campaign = $1`, id).Scan(&n)
	if n != 20 {
		t.Errorf("%d messages of the campaign, want 20 (25 a day, 5 sent before)", n)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/campaigns/"+id+"/resume", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if retry, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || retry <= 0 {
		t.Errorf("resuming with the day spent: %d, Retry-After %q; want 429 until midnight", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	one, _ := json.Marshal(map[string]any{"to": numbers(200, 1), "text": map[string]string{"fr": "Vos documents sont prêts."}})
	if code, a := call("POST", "/api/v1/messages", string(one)); code != http.StatusTooManyRequests {
		t.Errorf("a send after the campaign took the day: %d %v, want 429", code, a)
	}
}

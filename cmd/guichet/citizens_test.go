package main

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/campaigns"
	"github.com/guichet/guichet/cases"
	"github.com/guichet/guichet/citizens"
	"github.com/guichet/guichet/outbox"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/sessions/sessionstest"
	"github.com/guichet/guichet/staff"
)

// atHop sends one hop in Africa's Talking's dialect to the demo operator
// and returns the screen.
func atHop(t *testing.T, g *testGateway, session, phone, text string) string {
	t.Helper()
	resp, err := http.PostForm(g.url+"/ussd/demo", url.Values{"sessionId": {session}, "phoneNumber": {phone},
		"networkCode": {"62401"}, "serviceCode": {"*123#"}, "text": {text}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hop %q: HTTP %d %s", text, resp.StatusCode, b)
	}
	return string(b)
}

// TestLanguageOutlivesRedis: a caller's choice of language is kept with
// their data in PostgreSQL, Redis only caching it: once Redis has lost
// every key, the caller is not asked again, and the SMS of the case they
// open goes out in the language they chose.
func TestLanguageOutlivesRedis(t *testing.T) {
	dbURL := pgtest.DB(t)
	client, prefix := sessionstest.Redis(t)
	redisURL := cmp.Or(os.Getenv("REDIS_URL"), sessionstest.DefaultRedisURL)
	g := newTestGateway(t, func(c *Config) {
		c.DatabaseURL, c.Migrate, c.Seed = dbURL, true, true
		c.RedisURL, c.RedisPrefix = redisURL, prefix
		forceDemo(c)
	})
	const caller = "+237699100077"
	if s := atHop(t, g, "lang-1", caller, ""); !strings.Contains(s, "Choose language") {
		t.Fatalf("first dial: %q, want the language question", s)
	}
	if s := atHop(t, g, "lang-1", caller, "2"); !strings.Contains(s, "public services") {
		t.Fatalf("after choosing English: %q", s)
	}

	// Redis restarted empty: every key of the gateway's is gone.
	keys, err := client.Keys(t.Context(), prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("the gateway's keys in Redis: %v %v", keys, err)
	}
	if err := client.Del(t.Context(), keys...).Err(); err != nil {
		t.Fatal(err)
	}

	if s := atHop(t, g, "lang-2", caller, ""); !strings.HasPrefix(s, "CON Guichet: public services") {
		t.Fatalf("dialling again after Redis lost its keys: %q, want the English menu, not the question", s)
	}
	if s := atHop(t, g, "lang-3", caller, "2*3*John Ekane Fon*01011985*1"); !strings.Contains(s, "recorded") {
		t.Fatalf("opening a case: %q", s)
	}
	pool, err := pgxpool.New(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var lang, body string
	if err := pool.QueryRow(t.Context(), `SELECT lang, body FROM outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1`, caller).Scan(&lang, &body); err != nil {
		t.Fatal(err)
	}
	if lang != "en" || !strings.HasPrefix(body, "Case ") {
		t.Errorf("the case's SMS: lang %q, %q; want it in English", lang, body)
	}
	// And a gateway on a Redis of its own (a failover to an empty
	// replica) knows it too, as the SMS keywords and the API see it.
	_, other := sessionstest.Redis(t)
	g2 := newTestGateway(t, func(c *Config) {
		c.DatabaseURL, c.RedisURL, c.RedisPrefix = dbURL, redisURL, other
		forceDemo(c)
	})
	if got := g2.engine.Language(t.Context(), caller); got != "en" {
		t.Errorf("another gateway on an empty Redis: language %q, want en", got)
	}
}

// TestRetentionCountsOnMetrics: the gateway's purge applies the
// configured periods on its clock, and /metrics counts what it purged.
func TestRetentionCountsOnMetrics(t *testing.T) {
	dbURL := pgtest.DB(t)
	g := newTestGateway(t, func(c *Config) {
		c.DatabaseURL, c.Migrate = dbURL, true
		c.Retention.Journal = "10d"
		forceDemo(c)
	})
	now := g.clock.Now()
	if err := g.stores.trail.RecordSessions(t.Context(), []staff.SessionRecord{
		{At: now.AddDate(0, 0, -11), Phone: "+237699100078", Service: "home", Result: "completed"},
		{At: now.AddDate(0, 0, -9), Phone: "+237699100078", Service: "home", Result: "completed"},
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := g.purger.Once(t.Context()); err != nil || n.Journal != 1 {
		t.Fatalf("purge: %+v %v, want the session of 11 days ago", n, err)
	}
	code, body := get(t, g.url+"/metrics")
	if code != http.StatusOK || !strings.Contains(body, `guichet_retention_purged_total{kind="journal"} 1`) ||
		!strings.Contains(body, `guichet_retention_purged_total{kind="sms_bodies"} 0`) {
		t.Errorf("/metrics (%d) does not count the purge:\n%s", code, grepLines(body, "guichet_retention"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// citizenData writes, on a database of its own, a citizen's case (with
// its SMS), booking, callback, USSD sessions, language and opt-out, and a
// neighbour's case, on a fixed clock; both numbers are in the audiences of
// two campaigns, one that queued their SMS and a draft where they wait. It
// returns the database's URL.
func citizenData(t *testing.T, now time.Time) (string, *pgxpool.Pool) {
	t.Helper()
	dbURL, pool := migrated(t)
	db := postgres.New(pool)
	db.Now = func() time.Time { return now }
	ctx := t.Context()
	cs := db.Cases()
	if err := cs.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	at := now.Add(-48 * time.Hour)
	for _, p := range []string{citizenPhone, neighbourPhone} {
		c, err := cs.OpenCase(ctx, cases.Case{Service: "birth-certificate", Status: "received", Phone: p, Lang: "en", Channel: "ussd",
			Data: map[string]string{"name": "John Ekane Fon", "born": "01011985", "office": "yaounde-1"}, Opened: at, Updated: at,
			History: []cases.Event{{Status: "received", At: at, Channel: "ussd", Who: p}}},
			func(c cases.Case) []outbox.Message {
				return []outbox.Message{{Phone: c.Phone, Lang: "en", Kind: "opened", CaseRef: c.Ref, Body: "Case " + c.Ref + " received."}}
			})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.MoveCase(ctx, c.Ref, cases.Move{Status: "processing", Note: "Call " + p + " back", Who: "civil-status", Channel: "api", At: at.Add(time.Hour)}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.Book(ctx, cases.Booking{Office: "yaounde-1", Start: now.Add(24 * time.Hour), Service: "visit", Phone: citizenPhone,
		Lang: "en", Channel: "ussd", Booked: at}, 50, now, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RequestCallback(ctx, cases.Callback{Phone: citizenPhone, Reason: "covid", Lang: "en", Channel: "ussd", Requested: at}); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetLanguage(ctx, citizenPhone, "en"); err != nil {
		t.Fatal(err)
	}
	if err := cs.SetOptOut(ctx, citizenPhone, true); err != nil {
		t.Fatal(err)
	}
	// A web sign-in code: the export says it was sent, not the code.
	if err := db.Outbox().Enqueue(ctx, []outbox.Message{{Phone: citizenPhone, Lang: "en", Kind: outbox.KindSignIn,
		Body: "Guichet code: 482913. Valid 5 minutes.", Created: at}}); err != nil {
		t.Fatal(err)
	}
	console := db.Console()
	if err := console.RecordSessions(ctx, []staff.SessionRecord{{At: at, Phone: citizenPhone, Operator: "mtn", Service: "birth-certificate",
		Node: "done", Result: "completed", Hops: 6, Duration: 40 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	if err := console.Audit(ctx, staff.AuditEntry{At: at, User: "op1", Action: "view.caller", Subject: citizenPhone, Detail: "1 case"}); err != nil {
		t.Fatal(err)
	}
	cps := db.Campaigns()
	for _, name := range []string{"Vaccination", "Measles"} {
		c, err := cps.CreateCampaign(ctx, campaigns.Campaign{Owner: "health", Name: name, Text: map[string]string{"en": name + " on Saturday."},
			From: campaigns.DefaultFrom, To: campaigns.DefaultTo, By: "alice"}, []string{citizenPhone, neighbourPhone})
		if err != nil {
			t.Fatal(err)
		}
		if name == "Measles" {
			continue // a draft: both wait
		}
		if _, err := cps.SetState(ctx, c.ID, []string{campaigns.Draft}, campaigns.Running, now); err != nil {
			t.Fatal(err)
		}
		if _, err := cps.QueueNext(ctx, c.ID, 10, nil, func(_ context.Context, phones []string) ([]campaigns.Queued, error) {
			q := make([]campaigns.Queued, len(phones))
			for i, p := range phones {
				q[i] = campaigns.Queued{Phone: p, Lang: "en", Body: c.Text["en"]}
			}
			return q, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return dbURL, pool
}

const citizenPhone, neighbourPhone = "+237699100079", "+237699100080"

// TestCitizenExportAndErase: `guichet citizen export` gives everything
// held about a number (testdata/citizen-export.json, go test -update
// rewrites it); `erase` leaves no trace of the number but the opt-out it
// sent, keeps its case and history and its places in campaigns' audiences
// under a pseudonym (the campaigns' figures unchanged but for the SMS
// that will now never go), deletes its cached language, its session and
// the sessions the hotline assisted in Redis, leaves the neighbour as
// they were; both are audited.
func TestCitizenExportAndErase(t *testing.T) {
	now := time.Date(2026, time.December, 1, 9, 0, 0, 0, time.UTC)
	dbURL, pool := citizenData(t, now)
	client, prefix := sessionstest.Redis(t)
	redisURL := cmp.Or(os.Getenv("REDIS_URL"), sessionstest.DefaultRedisURL)
	ctx := t.Context()
	env := func(string) string { return "" }
	clock := func() time.Time { return now }

	var out strings.Builder
	if err := citizenCmd(ctx, []string{"export", "699100079", "--database", dbURL, "--by", "admin"}, &out, env, clock); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/citizen-export.json"
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("the export differs from %s (go test -update rewrites it):\n%s", golden, firstDiff(string(want), out.String()))
	}

	if err := citizenCmd(ctx, []string{"erase", citizenPhone, "--database", dbURL}, io.Discard, env, clock); err == nil {
		t.Error("erase without --yes went ahead")
	}
	// The session store: the cached language, the caller's own dialogue,
	// the one awa walked for them on the hotline, their SMS dialogue and
	// web sign-in code; and awa's for the neighbour, which stays.
	awa, err := staff.NewUser("awa", "Awa", staff.Operator, "fr", "correct horse battery", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.New(pool).Console().AddUser(ctx, awa); err != nil {
		t.Fatal(err)
	}
	cached := []string{"l:" + citizenPhone, "s:" + citizenPhone, "s:hotline:awa:" + citizenPhone,
		"s:sms:" + citizenPhone, "sms:dialogue:" + citizenPhone, "web:code:" + citizenPhone} // the SMS dialogue's and the web's too
	for _, k := range append(cached, "s:hotline:awa:"+neighbourPhone) {
		if err := client.Set(ctx, prefix+k, "{}", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}
	progress := func(name string) campaigns.Progress {
		t.Helper()
		var id int64
		if err := pool.QueryRow(ctx, `SELECT id FROM campaigns WHERE name = $1`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		p, err := postgres.New(pool).Campaigns().Progress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	sent, waiting := progress("Vaccination"), progress("Measles")
	if sent.Audience != 2 || sent.Waiting != 0 || sent.Counts[""].Queued != 2 || waiting.Audience != 2 || waiting.Waiting != 2 {
		t.Fatalf("the campaigns before the erasure: %+v, %+v", sent, waiting)
	}
	// A view of the callback queue showed the number among others.
	if err := postgres.New(pool).Console().Audit(ctx, staff.AuditEntry{At: now, User: "awa", Action: "view.callbacks",
		Shown: []string{neighbourPhone, citizenPhone}}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := citizenCmd(ctx, []string{"erase", citizenPhone, "--yes", "--database", dbURL, "--redis", redisURL,
		"--redis-prefix", prefix, "--by", "admin"}, &out, env, clock); err != nil {
		t.Fatal(err)
	}
	var e citizens.Erasure
	if err := json.Unmarshal([]byte(out.String()), &e); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Pseudonym, postgres.Pseudonym) || e != (citizens.Erasure{Pseudonym: e.Pseudonym, Cases: 1, Bookings: 1,
		Messages: 3, Sessions: 1, Callbacks: 1, Campaigns: 2, Audit: 3, Language: true, OptedOut: true}) { // the sign-in code's SMS erased too
		t.Errorf("erasure %+v", e)
	}
	for _, k := range cached {
		if n, _ := client.Exists(ctx, prefix+k).Result(); n != 0 {
			t.Errorf("%s outlived the erasure in Redis", strings.ReplaceAll(k, citizenPhone, "PHONE"))
		}
	}
	if n, _ := client.Exists(ctx, prefix+"s:hotline:awa:"+neighbourPhone).Result(); n != 1 {
		t.Error("the neighbour's assisted session went with the erasure")
	}

	// The campaigns still count what was uploaded and the SMS they
	// queued, the number's failed (erased before it went); the draft's
	// SMS to the number will never go.
	if p := progress("Vaccination"); p.Audience != 2 || p.Waiting != 0 || p.Skipped != 0 || p.Counts[""] != (campaigns.Row{Queued: 1, Failed: 1}) {
		t.Errorf("the campaign that had queued, after the erasure: %+v, want its 2 numbers, the neighbour's SMS queued and the number's failed", p)
	}
	if p := progress("Measles"); p.Audience != 2 || p.Waiting != 1 || p.Skipped != 0 {
		t.Errorf("the draft after the erasure: %+v, want 2 numbers, the neighbour waiting, none opted out", p)
	}
	var places []string
	rows, _ := pool.Query(ctx, `SELECT c.name || ' ' || n.skipped || ' ' || coalesce(o.phone, '-') FROM campaign_numbers n JOIN campaigns c ON c.id = n.campaign_id
		LEFT JOIN outbox o ON o.id = n.message_id WHERE n.phone = $1 ORDER BY c.id`, e.Pseudonym)
	places, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if want := []string{"Vaccination  " + e.Pseudonym, "Measles erased -"}; err != nil || !slices.Equal(places, want) {
		t.Errorf("the number's places in the audiences: %q %v, want %q", places, err, want)
	}

	// The number is nowhere but in its opt-out; its case and history are
	// there under the pseudonym.
	var where []string
	rows, err = pool.Query(ctx, `SELECT 'cases' FROM cases WHERE phone = $1 OR data::text LIKE '%John%' AND phone NOT IN ($2)
		UNION ALL SELECT 'case_events' FROM case_events e JOIN cases c USING (ref) WHERE c.phone <> $2 AND (e.who = $1 OR e.note LIKE '%' || $1 || '%')
		UNION ALL SELECT 'bookings' FROM bookings WHERE phone = $1
		UNION ALL SELECT 'outbox' FROM outbox WHERE phone = $1 OR body LIKE '%' || $1 || '%'
		UNION ALL SELECT 'ussd_sessions' FROM ussd_sessions WHERE phone = $1
		UNION ALL SELECT 'callbacks' FROM callbacks WHERE phone = $1
		UNION ALL SELECT 'languages' FROM languages WHERE phone = $1
		UNION ALL SELECT 'campaign_numbers' FROM campaign_numbers WHERE phone = $1
		UNION ALL SELECT 'audit_log' FROM audit_log WHERE subject = $1 OR detail LIKE '%' || $1 || '%' OR $1 = ANY(shown)`, citizenPhone, neighbourPhone)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		where = append(where, s)
	}
	if rows.Err() != nil || len(where) > 0 {
		t.Errorf("the erased number is still in %v (%v)", where, rows.Err())
	}
	var status, data, note string
	var events int
	if err := pool.QueryRow(ctx, `SELECT c.status, c.data::text, (SELECT count(*) FROM case_events e WHERE e.ref = c.ref),
			(SELECT note FROM case_events e WHERE e.ref = c.ref ORDER BY id DESC LIMIT 1) FROM cases c WHERE c.phone = $1`, e.Pseudonym).Scan(&status, &data, &events, &note); err != nil {
		t.Fatal(err)
	}
	if status != "processing" || events != 2 || strings.Contains(data, "John") || !strings.Contains(data, postgres.Erased) {
		t.Errorf("the case under its pseudonym: %s, %d events, data %s", status, events, data)
	}
	var audited []string
	rows, _ = pool.Query(ctx, `SELECT action || ' ' || username || ' ' || subject FROM audit_log WHERE action LIKE 'citizen.%' ORDER BY id`)
	audited, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(audited) != 2 || audited[0] != "citizen.export admin "+e.Pseudonym || audited[1] != "citizen.erase admin "+e.Pseudonym {
		t.Errorf("audit log: %q %v, want the export and the erasure, under the pseudonym", audited, err)
	}
	var shown []string
	if err := pool.QueryRow(ctx, `SELECT shown FROM audit_log WHERE action = 'view.callbacks'`).Scan(&shown); err != nil ||
		!slices.Equal(shown, []string{neighbourPhone, e.Pseudonym}) {
		t.Errorf("the queue's view showed %v (%v), want the neighbour and the pseudonym", shown, err)
	}
	var neighbour int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE phone = $1 AND data->>'name' = 'John Ekane Fon'`, neighbourPhone).Scan(&neighbour); err != nil || neighbour != 1 {
		t.Errorf("the neighbour's case: %d %v", neighbour, err)
	}

	// Exported again, the number has nothing left but its objection.
	out.Reset()
	if err := citizenCmd(ctx, []string{"export", citizenPhone, "--database", dbURL}, &out, env, clock); err != nil {
		t.Fatal(err)
	}
	var r citizens.Record
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatal(err)
	}
	if r.OptedOut == nil || r.Language != "" || len(r.Cases)+len(r.Bookings)+len(r.Messages)+len(r.Sessions)+len(r.Callbacks)+len(r.Campaigns) != 0 {
		t.Errorf("exported after the erasure: %s", out.String())
	}
}

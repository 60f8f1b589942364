package main

import (
	"cmp"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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

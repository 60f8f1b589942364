package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	neturl "net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/staff"
)

var oneTime = regexp.MustCompile(`name: admin\n  password: (\S+)`)

// On the embedded default the first start prints the first
// administrator's one-time password, once; signing in with it leads to the
// password page.
func TestServePrintsFirstAdmin(t *testing.T) {
	base, logs := bootServer(t)
	m := oneTime.FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no one-time password in the output:\n%s", logs.String())
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/hotline/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatal("no form token on the sign-in page")
	}
	resp, err = c.PostForm(base+"/hotline/signin", neturl.Values{"name": {"admin"}, "password": {m[1]}, "csrf": {string(csrf[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/hotline/password" {
		t.Errorf("after signing in with the one-time password the browser is on %s, want /hotline/password", resp.Request.URL.Path)
	}
	if strings.Count(logs.String(), "first administrator") != 1 {
		t.Error("the first administrator was announced more than once")
	}
}

// On PostgreSQL, serve makes no account and writes no password: it says
// how to make the first administrator, `guichet users add admin --role
// admin`, which prints a one-time password on its own output; that
// password leads to the password page, and is refused a day later.
func TestFirstAdminOnPostgres(t *testing.T) {
	url, pool := migrated(t)
	cfg := defaultConfig()
	cfg.HTTP, cfg.DatabaseURL, cfg.Hotline.InsecureCookies = "127.0.0.1:0", url, true
	base, logs, _ := serveTest(t, cfg)

	store := postgres.New(pool).Console()
	if us, err := store.Users(t.Context()); err != nil || len(us) != 0 {
		t.Errorf("serve on PostgreSQL made accounts: %+v %v", us, err)
	}
	if out := logs.String(); strings.Contains(out, "password:") || !strings.Contains(out, "guichet users add admin --role admin") {
		t.Errorf("serve's output, want no password but how to add the first administrator:\n%s", out)
	}

	var stdout strings.Builder
	env := map[string]string{"DATABASE_URL": url}
	if err := run(t.Context(), []string{"users", "add", "admin", "--role", "admin"}, strings.NewReader(""), &stdout, io.Discard,
		func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)one-time password.*: (\S+)$`).FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("users add printed no one-time password: %q", stdout.String())
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/hotline/signin")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatal("no form token on the sign-in page")
	}
	if resp, err = c.PostForm(base+"/hotline/signin", neturl.Values{"name": {"admin"}, "password": {m[1]}, "csrf": {string(csrf[1])}}); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/hotline/password" {
		t.Errorf("after signing in with the one-time password the browser is on %s, want /hotline/password", resp.Request.URL.Path)
	}
	later := &hotline.Console{Accounts: store, Trail: store, Now: func() time.Time { return time.Now().Add(25 * time.Hour) }}
	if _, _, _, err := later.SignIn(t.Context(), "admin", m[1], netip.MustParseAddr("198.51.100.7")); err == nil {
		t.Error("the one-time password still signs in 25 hours later")
	}
	// An expired one-time password is given again, and the account's
	// sessions end.
	stdout.Reset()
	if err := run(t.Context(), []string{"users", "password", "admin"}, strings.NewReader(""), &stdout, io.Discard,
		func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	again := regexp.MustCompile(`(?m)one-time password.*: (\S+)$`).FindStringSubmatch(stdout.String())
	if again == nil || again[1] == m[1] {
		t.Fatalf("users password printed no new one-time password: %q", stdout.String())
	}
	if resp, err = c.Get(base + "/hotline/password"); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/hotline/signin" {
		t.Errorf("the session of the old one-time password is still open: on %s", resp.Request.URL.Path)
	}
	if _, _, _, err := (&hotline.Console{Accounts: store, Trail: store}).SignIn(t.Context(), "admin", again[1], netip.MustParseAddr("198.51.100.7")); err != nil {
		t.Errorf("the new one-time password: %v", err)
	}
}

// Sign-in failures are the fleet's: guesses spread over two gateways on
// one database wait as if they came to one, and what one gateway counted
// another sees; the right password from another address still signs in.
func TestSignInBackoffIsTheFleets(t *testing.T) {
	_, pool := migrated(t)
	db := postgres.New(pool)
	store := db.Console()
	u, err := staff.NewUser("awa", "", staff.Operator, "fr", "kiwi rhubarb lantern", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AddUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	a := &hotline.Console{Accounts: db.Console(), Trail: store, Now: clock}
	b := &hotline.Console{Accounts: postgres.New(pool).Console(), Trail: store, Now: clock}
	attacker := netip.MustParseAddr("203.0.113.9")
	checked := 0
	for i := range 12 {
		g := a
		if i%2 == 1 {
			g = b
		}
		_, _, _, err := g.SignIn(t.Context(), "awa", "wrong guess!", attacker)
		if err != nil && strings.Contains(err.Error(), "wrong name") {
			checked++
		}
	}
	if checked != hotline.DefaultTryBackoff.Free {
		t.Errorf("%d guesses over two gateways were checked, want %d in all", checked, hotline.DefaultTryBackoff.Free)
	}
	if _, _, _, err := b.SignIn(t.Context(), "awa", "kiwi rhubarb lantern", attacker); err == nil || !strings.Contains(err.Error(), "too many tries") {
		t.Errorf("the right password from the guessing address: %v, want to wait", err)
	}
	if _, _, _, err := a.SignIn(t.Context(), "awa", "kiwi rhubarb lantern", netip.MustParseAddr("198.51.100.7")); err != nil {
		t.Errorf("the right password from another address: %v", err)
	}
	es, err := store.AuditLog(t.Context(), staff.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) > 2 {
		t.Errorf("12 guesses wrote %d audit entries, want one for the failures and one for the wait: %+v", len(es), es)
	}
}

// `guichet users add` adds accounts that can sign in.
func TestUsersOnPostgres(t *testing.T) {
	db := pgtest.DB(t)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	pool, err := postgres.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := postgres.New(pool).Console()

	env := map[string]string{"DATABASE_URL": db}
	for _, tc := range []struct {
		args    []string
		stdin   string
		wantErr string
		wantOut string
	}{
		{[]string{"users", "add", "awa", "--role", "operator", "--full-name", "Awa Ndiaye"}, "a long password\n", "", "account awa (operator) added"},
		{[]string{"users", "add", "eric", "--role", "supervisor", "--lang", "en"}, "", "", "one-time password"},
		{[]string{"users", "add", "awa", "--role", "operator"}, "a long password\n", "user exists", ""},
		{[]string{"users", "add", "zoe", "--role", "chief"}, "a long password\n", "role: one of operator, supervisor, admin", ""},
		{[]string{"users", "add", "zoe", "--role", "operator"}, "short\n", "password: at least 10 characters", ""},
		{[]string{"users", "add", "zoe", "--role", "operator"}, "aaaaaaaaaaaa\n", "password: not one character", ""},
		{[]string{"users", "add", "zoe", "--role", "operator"}, "motdepasse2026\n", "password: not a common password", ""},
		{[]string{"users", "password", "awa"}, "a long password\n", "password: not the current password", ""},
		{[]string{"users", "password", "nobody"}, "a long password\n", "not found", ""},
		{[]string{"users", "add"}, "", "usage: guichet users add", ""},
	} {
		var stdout strings.Builder
		err := run(ctx, tc.args, strings.NewReader(tc.stdin), &stdout, io.Discard, func(k string) string { return env[k] })
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) || !strings.Contains(stdout.String(), tc.wantOut) {
			t.Errorf("%v: %v %q; want error %q, output %q", tc.args, err, stdout.String(), tc.wantErr, tc.wantOut)
		}
	}
	u, err := store.User(ctx, "awa")
	if err != nil || u.Role != staff.Operator || u.FullName != "Awa Ndiaye" || u.MustChange {
		t.Errorf("awa: %+v %v", u, err)
	}
	c := &hotline.Console{Accounts: store, Trail: store}
	if _, _, _, err := c.SignIn(ctx, "awa", "a long password", netip.MustParseAddr("198.51.100.7")); err != nil {
		t.Errorf("awa cannot sign in: %v", err)
	}
	if e, err := store.User(ctx, "eric"); err != nil || !e.MustChange {
		t.Errorf("eric with a generated password must change it: %+v %v", e, err)
	}
	// Without a database, users add says why.
	err = run(ctx, []string{"users", "add", "zoe"}, strings.NewReader(""), io.Discard, io.Discard, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "Accounts page") {
		t.Errorf("users add without a database: %v", err)
	}
}

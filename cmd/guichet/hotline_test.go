package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
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
	resp, err = c.PostForm(base+"/hotline/signin", url.Values{"name": {"admin"}, "password": {m[1]}, "csrf": {string(csrf[1])}})
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

// On PostgreSQL the first administrator is created once, across restarts,
// and `guichet users add` adds accounts that can sign in.
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
	var out strings.Builder
	for range 2 {
		if err := firstAdmin(ctx, store, time.Now(), &out, "http://x/hotline/"); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(out.String(), "first administrator"); n != 1 {
		t.Errorf("first administrator created %d times", n)
	}

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
	if _, _, _, err := c.SignIn(ctx, "awa", "a long password"); err != nil {
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

// Package pgtest gives each test a database of its own on the PostgreSQL
// server the tests use, so that tests and test runs never collide.
//
// The server is DATABASE_URL's, or DefaultURL. When it cannot be reached, a
// test is skipped, unless CI is "true": then it fails, so that a broken CI
// never passes by skipping everything.
package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/citest"
)

// DefaultURL is the server the tests use when DATABASE_URL is unset: the
// local one that `make services` starts.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the URL of the server's administrative database: DATABASE_URL
// or DefaultURL.
func URL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// DB creates an empty database for tb, named guichet_test_<random>, drops
// it when tb ends (closing any connection left to it) and returns its URL.
func DB(tb testing.TB) string {
	tb.Helper()
	admin := URL()
	u, err := url.Parse(admin)
	if err != nil || u.Scheme != "postgres" && u.Scheme != "postgresql" {
		tb.Fatalf("pgtest: DATABASE_URL must be a postgres:// URL (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		unreachable(tb, u, err)
	}
	defer conn.Close(ctx)

	name := "guichet_test_" + random()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	tb.Cleanup(func() { drop(tb, admin, name) })
	u.Path = "/" + name
	return u.String()
}

// drop drops the database name, closing its connections.
func drop(tb testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		tb.Errorf("pgtest: dropping database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("pgtest: dropping database %s: %v", name, err)
	}
}

// unreachable skips tb, or fails it on CI.
func unreachable(tb testing.TB, u *url.URL, err error) {
	tb.Helper()
	citest.Missing(tb, fmt.Sprintf("pgtest: PostgreSQL is unreachable at %s (run `make services`, or set DATABASE_URL): %v", u.Redacted(), err))
}

// random is a database name's suffix: letters only, since the gateway
// logs the database's name and the tests' logs are checked for runs of
// digits, which a hexadecimal suffix holds now and then.
func random() string {
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/guichet/guichet/postgres/pgtest"
)

// /readyz checks every store the gateway was configured with: on
// PostgreSQL, a database that goes away makes it 503 naming PostgreSQL,
// at once rather than after the pool's connect timeout.
func TestReadyzFollowsPostgreSQL(t *testing.T) {
	db := pgtest.DB(t)
	g := newTestGateway(t, func(c *Config) { c.DatabaseURL, c.Migrate = db, true; forceDemo(c) })
	if code, body := get(t, g.url+"/readyz"); code != http.StatusOK || !strings.HasPrefix(body, "ready\n") {
		t.Fatalf("/readyz on a live database = %d %q, want 200 ready", code, body)
	}

	u, _ := url.Parse(db)
	name := strings.TrimPrefix(u.Path, "/")
	conn, err := pgx.Connect(t.Context(), pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, body := get(t, g.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "PostgreSQL") || strings.Contains(body, "session store") {
		t.Errorf("/readyz with the database gone = %d %q, want 503 naming PostgreSQL alone", code, body)
	}
	if took := time.Since(start); took > readyCheckTimeout+time.Second {
		t.Errorf("/readyz took %v with the database gone, want about %v at most", took, readyCheckTimeout)
	}
}

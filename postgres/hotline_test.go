package postgres_test

import (
	"context"
	neturl "net/url"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
	"github.com/guichet/guichet/staff/stafftest"
)

// TestHotline runs the contract suite on connections whose time zone is
// half an hour off UTC's hours, so that counts per hour must be per UTC
// hour whatever the server's setting.
func TestHotline(t *testing.T) {
	stafftest.Run(t, func(t *testing.T) stafftest.Store {
		ctx := t.Context()
		u, err := neturl.Parse(pgtest.DB(t))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("timezone", "Asia/Kolkata")
		u.RawQuery = q.Encode()
		if err := postgres.Migrate(ctx, u.String()); err != nil {
			t.Fatal(err)
		}
		pool, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		c := postgres.New(pool).Console()
		return stafftest.Store{Accounts: c, Trail: c}
	})
}

// hotlineTables are the tables of migration 5.
var hotlineTables = []string{"audit_log", "console_sessions", "console_users", "ussd_sessions"}

// tables returns which of hotlineTables the database at url has.
func tables(t *testing.T, url string) []string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY 1`, hotlineTables)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// Migration 5 (the hotline console) goes down and up again.
func TestMigrateHotlineDownAndUp(t *testing.T) {
	url := pgtest.DB(t)
	ctx := t.Context()
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, url); !slices.Equal(got, hotlineTables) {
		t.Fatalf("tables after migrating: %v, want %v", got, hotlineTables)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatalf("migrating down to 4: %v", err)
	}
	if got := tables(t, url); len(got) != 0 {
		t.Errorf("tables left after migrating down: %v", got)
	}
	if err := postgres.Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, url); !slices.Equal(got, hotlineTables) {
		t.Errorf("tables after migrating up again: %v, want %v", got, hotlineTables)
	}
}

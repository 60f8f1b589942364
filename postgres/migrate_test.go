package postgres

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/guichet/guichet/postgres/pgtest"
)

// snapshot tells a database's schema, its goose version and its offices,
// to compare before and after a migration.
func snapshot(t *testing.T, url string) string {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var b strings.Builder
	for _, q := range []string{
		`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable
			FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
		`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`,
		`SELECT 'goose ' || version_id || ' ' || is_applied FROM goose_db_version ORDER BY id`,
		`SELECT 'office ' || id FROM offices ORDER BY 1`,
	} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

// withBroken returns the embedded migrations and, after them, the one in
// testdata/broken_migration that fails half-way.
func withBroken(t *testing.T) fs.FS {
	t.Helper()
	all := fstest.MapFS{}
	for _, fsys := range []fs.FS{migrations, os.DirFS("testdata/broken_migration")} {
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil || len(names) == 0 {
			t.Fatalf("no migrations: %v", err)
		}
		for _, name := range names {
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			all[name] = &fstest.MapFile{Data: data}
		}
	}
	return all
}

// A migration that fails leaves the database as it was: its table, column,
// index and row are gone, and goose's version has not moved.
func TestMigrateFailureChangesNothing(t *testing.T) {
	url := pgtest.DB(t)
	ctx := t.Context()
	if err := Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	pool, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := New(pool).Cases().Seed(ctx); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, url)
	if !strings.Contains(before, "goose 1 true") || !strings.Contains(before, "office wouri") {
		t.Fatalf("the schema was not migrated and seeded:\n%s", before)
	}
	err = migrate(ctx, url, withBroken(t))
	if err == nil || !strings.Contains(err.Error(), "no_such_function") {
		t.Fatalf("migrating with a broken migration = %v, want its failure", err)
	}
	if after := snapshot(t, url); after != before {
		t.Errorf("a failed migration changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// The good migrations still apply: nothing is pending.
	if err := Migrate(ctx, url); err != nil {
		t.Errorf("migrating again: %v", err)
	}
}

// Several instances starting at once migrate once: goose's session lock
// makes the others wait.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.DB(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := Migrate(t.Context(), url); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if s := snapshot(t, url); strings.Count(s, "goose 1 ") != 1 {
		t.Errorf("migration 1 recorded %d times:\n%s", strings.Count(s, "goose 1 "), s)
	}
}

// Migration 3 (opt-outs) goes down and up again, leaving the schema as it
// was.
func TestMigrateOptOutsDownAndUp(t *testing.T) {
	downAndUp(t, 2, "optouts.phone text NO", "optouts", "bookings_phone")
}

// Migration 7 (the index of the claim's order by number, since moved to
// the queue's table by migration 22) goes down and up again, leaving the
// schema as it was.
func TestMigrateClaimOrderDownAndUp(t *testing.T) {
	downAndUp(t, 6, "CREATE INDEX outbox_queue_phone ON public.outbox_queue USING btree (phone, id)", "outbox_unsent", "outbox_queue")
}

// Migration 22 (the queue in a table of its own) goes down and up again;
// down, the queue's state is back in the outbox's rows, under its partial
// indexes.
func TestMigrateQueueDownAndUp(t *testing.T) {
	downAndUp(t, 21, "outbox_queue_due", "outbox_queue")
}

// Migrations 8 (the outbox's rows in place) and 9 (keys that expire, are
// revoked, say their last use) go down and up again.
func TestMigrateHotAndKeysDownAndUp(t *testing.T) {
	downAndUp(t, 7, "outbox.queued", "queued", "api_keys.revoked", "last_used")
}

// Migration 19 (the subjects an audit entry showed) goes down and up
// again.
func TestMigrateAuditShownDownAndUp(t *testing.T) {
	downAndUp(t, 18, "audit_log_shown", "audit_log_shown", "shown text[]")
}

// Migration 20 (campaigns' audiences by number, for a citizen's export
// and erasure) goes down and up again.
func TestMigrateCampaignPhonesDownAndUp(t *testing.T) {
	downAndUp(t, 19, "CREATE INDEX campaign_numbers_phone ON public.campaign_numbers USING btree (phone)", "campaign_numbers_phone")
}

// downAndUp migrates a database of its own up, checks that its schema
// tells want, migrates it down to version to, checks that none of gone is
// left, then up again, and checks that the schema is as it was.
func downAndUp(t *testing.T, to int64, want string, gone ...string) {
	t.Helper()
	url := pgtest.DB(t)
	ctx := t.Context()
	if err := Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, url)
	if !strings.Contains(before, want) {
		t.Fatalf("no %q in the schema:\n%s", want, before)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	p, err := provider(db, migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, to); err != nil {
		t.Fatalf("migrating down to %d: %v", to, err)
	}
	down := snapshot(t, url)
	for _, g := range gone {
		if strings.Contains(down, g) {
			t.Errorf("%s left after migrating down to %d:\n%s", g, to, down)
		}
	}
	if err := Migrate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, url); after != before {
		t.Errorf("schema after down and up:\n%s\nwant:\n%s", after, before)
	}
}

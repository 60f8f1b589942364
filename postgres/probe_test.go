package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
)

// A probe answers while every connection of the pool is at work, finds the
// database again after its connection was cut, and says so when the
// database is not there.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	url := pgtest.DB(t)
	pool, err := postgres.Open(ctx, url+sep(url)+"pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	probe := postgres.NewProbe(pool)
	defer probe.Close()

	busy, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, 500*time.Millisecond) }
	pctx, cancel := short()
	if err := pool.Ping(pctx); err == nil {
		t.Fatal("the pool answered a ping with its one connection taken: the test shows nothing")
	}
	cancel()
	pctx, cancel = short()
	if err := probe.Ping(pctx); err != nil {
		t.Fatalf("with the pool busy: %v", err)
	}
	cancel()

	// The server ends the probe's connection (a restart, an idle timeout).
	tag, err := busy.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'guichet-probe' AND datname = current_database()`)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("cutting the probe's connection: %v, %d rows", err, tag.RowsAffected())
	}
	busy.Release()
	pctx, cancel = short()
	if err := probe.Ping(pctx); err != nil {
		t.Errorf("after its connection was cut: %v", err)
	}
	cancel()

	down, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:1/test") // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	gone := postgres.NewProbe(down)
	pctx, cancel = short()
	defer cancel()
	if err := gone.Ping(pctx); err == nil {
		t.Error("a probe of a port where nothing listens answered")
	}
}

func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}

package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/guichet/guichet/postgres"
	"github.com/guichet/guichet/postgres/pgtest"
)

// The baselines the store's figures are read against, measured in the same
// run on the same server: a bare round trip (what a lookup cannot beat) and
// a one-row durable write (what an open or a booking cannot beat).
func BenchmarkBaseline(b *testing.B) {
	ctx := context.Background()
	pool, err := postgres.Open(ctx, pgtest.DB(b))
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE t (id bigserial PRIMARY KEY, v text)`); err != nil {
		b.Fatal(err)
	}
	b.Run("select-1", func(b *testing.B) {
		var l latencies
		for b.Loop() {
			start := time.Now()
			var one int
			if err := pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
				b.Fatal(err)
			}
			l.add(time.Since(start))
		}
		l.report(b)
	})
	b.Run("insert-commit", func(b *testing.B) {
		var l latencies
		for b.Loop() {
			start := time.Now()
			if _, err := pool.Exec(ctx, `INSERT INTO t (v) VALUES ('x')`); err != nil {
				b.Fatal(err)
			}
			l.add(time.Since(start))
		}
		l.report(b)
	})
}

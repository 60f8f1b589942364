package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/guichet/guichet/hotline"
	"github.com/guichet/guichet/phone"
	"github.com/guichet/guichet/postgres"
)

// citizenCmd is `guichet citizen export|erase PHONE`: everything held
// about a number as JSON, or its erasure (what the law requires to keep
// stays, pseudonymised), each recorded in the audit log under --by.
func citizenCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string, now func() time.Time) error {
	const usage = "usage: guichet citizen export PHONE [--database URL] [--by NAME]\n" +
		"       guichet citizen erase PHONE --yes [--database URL] [--redis URL] [--redis-prefix P] [--by NAME]\n\n" +
		"Everything held about a number as JSON, or its erasure (what must be kept stays, pseudonymised); both audited"
	if len(args) == 0 || isHelp(args[0]) {
		return groupHelp(args, usage, stdout)
	}
	if args[0] != "export" && args[0] != "erase" {
		return errors.New(usage)
	}
	fs := newFlags("citizen "+args[0], usage, stdout)
	dbURL := fs.String("database", getenv("DATABASE_URL"), "PostgreSQL `URL` (default: $DATABASE_URL)")
	redisURL := fs.String("redis", getenv("REDIS_URL"), "Redis `URL` whose cached language and sessions of the number (assisted ones too) an erasure deletes (default: $REDIS_URL)")
	prefix := fs.String("redis-prefix", sessionPrefix, "the gateway's key `prefix` in Redis (redis_prefix)")
	by := fs.String("by", "cli:"+cmp.Or(getenv("USER"), "unknown"), "who asks, for the audit log")
	yes := fs.Bool("yes", false, "erase: yes, erase this number's personal data")
	if len(args) < 2 || isHelp(args[1]) { // citizen erase --help
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return errors.New(usage)
	}
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	ph, err := phone.Normalize(args[1], "CM")
	if err != nil {
		return fmt.Errorf("%s is not a phone number", phone.Mask(args[1]))
	}
	if *dbURL == "" {
		return errors.New("citizen needs a database (--database or DATABASE_URL): the embedded default keeps nothing past its process")
	}
	if args[0] == "erase" && !*yes {
		return errors.New("erase removes the personal data of " + phone.Mask(ph) + " for good: add --yes")
	}
	pool, err := postgres.Open(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	db := postgres.New(pool)
	db.Now = now
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if args[0] == "export" {
		r, err := db.Citizens().Export(ctx, ph, *by)
		if err != nil {
			return err
		}
		return enc.Encode(r)
	}
	e, err := db.Citizens().Erase(ctx, ph, *by)
	if err != nil {
		return err
	}
	if *redisURL != "" {
		if err := forgetCached(ctx, db, *redisURL, *prefix, ph); err != nil {
			return fmt.Errorf("erased in the database (%s), but Redis may still hold the number's language and sessions: %w", e.Pseudonym, err)
		}
	}
	return enc.Encode(e)
}

// forgetCached deletes what the session store holds of ph: its cached
// language, its session, and the sessions the hotline's accounts of db
// assisted (hotline.CachedKeys).
func forgetCached(ctx context.Context, db *postgres.DB, url, prefix, ph string) error {
	users, err := db.Console().Users(ctx)
	if err != nil {
		return err
	}
	client, _, err := openRedis(ctx, url, 0)
	if err != nil {
		return err
	}
	defer client.Close()
	// One DEL a key, pipelined: on a Cluster the keys sit in different
	// slots, which one multi-key DEL refuses (CROSSSLOT).
	_, err = client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range hotline.CachedKeys(ph, users, channelKeys(ph)...) {
			p.Del(ctx, prefix+k)
		}
		return nil
	})
	return err
}

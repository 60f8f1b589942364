package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kinds of Redis deployment a redis_url names.
const (
	redisSingle   = "single"
	redisSentinel = "sentinel"
	redisCluster  = "cluster"
)

// redisTarget is what a redis_url names, read by go-redis's own parsers:
// one of simple, failover or cluster is set, as kind says.
//
//   - redis://[user:password@]host:port/db (rediss:// over TLS, unix:///path):
//     one server (redis.ParseURL).
//   - redis://[user:password@]sentinel:26379/db?master_name=NAME&addr=sentinel2:26379&password=P:
//     the master that Sentinel watches (redis.ParseFailoverURL); the userinfo
//     is the sentinels' login, the master's password is the password
//     parameter. redis+sentinel:// is the same URL, saying it outright.
//   - redis://[user:password@]node1:6379?addr=node2:6379&addr=node3:6379: a
//     Redis Cluster found from these seeds (redis.ParseClusterURL);
//     redis+cluster://node1:6379 for a single seed.
type redisTarget struct {
	kind     string
	simple   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// parseRedisURL reads raw. Its errors show the URL with its passwords
// masked.
func parseRedisURL(raw string) (redisTarget, error) {
	fail := func(err error) (redisTarget, error) {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			// url.Parse's errors quote the URL, or a piece of it that may
			// be the password: say what to do instead.
			err = fmt.Errorf("%s: not a URL (a password holding / ? # or @ must be percent-encoded)", uerr.Op)
		}
		return redisTarget{}, fmt.Errorf("redis URL %s: %w", maskURL(raw), err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fail(err)
	}
	kind := redisSingle
	scheme, mode, forced := strings.Cut(u.Scheme, "+")
	switch {
	case forced && mode == redisCluster:
		kind = redisCluster
	case forced && mode == redisSentinel:
		kind = redisSentinel
	case forced:
		return fail(fmt.Errorf("unknown scheme %s (redis, rediss, redis+sentinel, redis+cluster, unix)", u.Scheme))
	case u.Query().Has("master_name"):
		kind = redisSentinel
	case u.Query().Has("addr"):
		kind = redisCluster
	}
	if forced {
		if scheme != "redis" && scheme != "rediss" {
			return fail(fmt.Errorf("unknown scheme %s (redis, rediss, redis+sentinel, redis+cluster, unix)", u.Scheme))
		}
		u.Scheme = scheme
	}
	t := redisTarget{kind: kind}
	switch kind {
	case redisSentinel:
		if u.Query().Get("master_name") == "" {
			return fail(errors.New("a Sentinel URL needs master_name=NAME, the master it watches"))
		}
		t.failover, err = redis.ParseFailoverURL(u.String())
	case redisCluster:
		if p := strings.Trim(u.Path, "/"); p != "" && p != "0" {
			return fail(fmt.Errorf("a Redis Cluster has database 0 only, not %s", p))
		}
		t.cluster, err = redis.ParseClusterURL(u.String())
	default:
		t.simple, err = redis.ParseURL(u.String())
	}
	if err != nil {
		return fail(err)
	}
	return t, nil
}

// defaultPool sets the connection pool's size (per node for a Cluster)
// when the URL's pool_size does not.
func (t redisTarget) defaultPool(n int) {
	switch {
	case t.simple != nil && t.simple.PoolSize == 0:
		t.simple.PoolSize = n
	case t.failover != nil && t.failover.PoolSize == 0:
		t.failover.PoolSize = n
	case t.cluster != nil && t.cluster.PoolSize == 0:
		t.cluster.PoolSize = n
	}
}

// client opens the client of t's kind (go-redis's UniversalClient: a
// Client, a Sentinel-backed failover Client or a ClusterClient). It
// dials lazily.
func (t redisTarget) client() redis.UniversalClient {
	switch {
	case t.failover != nil:
		return redis.NewFailoverClient(t.failover)
	case t.cluster != nil:
		return redis.NewClusterClient(t.cluster)
	default:
		return redis.NewClient(t.simple)
	}
}

// String says where t is, for logs: no password.
func (t redisTarget) String() string {
	switch {
	case t.failover != nil:
		return fmt.Sprintf("sentinel master %s via %s", t.failover.MasterName, strings.Join(t.failover.SentinelAddrs, ","))
	case t.cluster != nil:
		return "cluster " + strings.Join(t.cluster.Addrs, ",")
	default:
		return t.simple.Addr
	}
}

// openRedis opens the Redis of raw and checks that it answers within
// five seconds. The client is the caller's to close.
func openRedis(ctx context.Context, raw string, poolSize int) (redis.UniversalClient, redisTarget, error) {
	t, err := parseRedisURL(raw)
	if err != nil {
		return nil, t, err
	}
	if poolSize > 0 {
		t.defaultPool(poolSize)
	}
	client := t.client()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		client.Close()
		return nil, t, fmt.Errorf("reaching Redis (%s): %w", t, err)
	}
	return client, t, nil
}

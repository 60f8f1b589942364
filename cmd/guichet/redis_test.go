package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/guichet/guichet/apikey"
	"github.com/guichet/guichet/citest"
	"github.com/guichet/guichet/sessions"
	"github.com/guichet/guichet/sessions/sessionstest"
)

// redis_url takes go-redis's own forms: one server, a Sentinel master
// (master_name), a Cluster (several addresses, or redis+cluster://); its
// errors never show a password.
func TestRedisURL(t *testing.T) {
	tests := []struct {
		url, kind string
		check     func(redisTarget) string // what is wrong, or ""
		err       string
	}{
		{url: "redis://127.0.0.1:6379/2", kind: redisSingle, check: func(r redisTarget) string {
			return want(r.simple.Addr == "127.0.0.1:6379" && r.simple.DB == 2, "addr, db", r.simple.Addr, r.simple.DB)
		}},
		{url: "redis://:pw@h:6379/0?pool_size=5", kind: redisSingle, check: func(r redisTarget) string {
			return want(r.simple.Password == "pw" && r.simple.PoolSize == 5, "password, pool_size", r.simple.PoolSize)
		}},
		{url: "rediss://h:6380", kind: redisSingle, check: func(r redisTarget) string { return want(r.simple.TLSConfig != nil, "TLS") }},
		{url: "unix:///run/redis.sock", kind: redisSingle, check: func(r redisTarget) string {
			return want(r.simple.Network == "unix" && r.simple.Addr == "/run/redis.sock", "unix socket", r.simple.Network, r.simple.Addr)
		}},
		{url: "redis://su:sp@s1:26379/1?master_name=gw&addr=s2:26379&addr=s3:26379&password=mp", kind: redisSentinel, check: func(r redisTarget) string {
			f := r.failover
			return want(f.MasterName == "gw" && slices.Equal(f.SentinelAddrs, []string{"s1:26379", "s2:26379", "s3:26379"}) && f.DB == 1 &&
				f.SentinelUsername == "su" && f.SentinelPassword == "sp" && f.Password == "mp", "sentinel options", f.MasterName, f.SentinelAddrs, f.DB)
		}},
		{url: "redis+sentinel://s1:26379?master_name=gw", kind: redisSentinel, check: func(r redisTarget) string {
			return want(r.failover.MasterName == "gw" && slices.Equal(r.failover.SentinelAddrs, []string{"s1:26379"}), "one sentinel")
		}},
		{url: "redis://n1:6379?addr=n2:6379&addr=n3:6379&pool_size=7", kind: redisCluster, check: func(r redisTarget) string {
			return want(slices.Equal(r.cluster.Addrs, []string{"n1:6379", "n2:6379", "n3:6379"}) && r.cluster.PoolSize == 7, "cluster seeds", r.cluster.Addrs)
		}},
		{url: "redis+cluster://u:p@n1:6379", kind: redisCluster, check: func(r redisTarget) string {
			return want(slices.Equal(r.cluster.Addrs, []string{"n1:6379"}) && r.cluster.Password == "p", "one seed", r.cluster.Addrs)
		}},
		{url: "rediss+cluster://n1:6379/0", kind: redisCluster, check: func(r redisTarget) string { return want(r.cluster.TLSConfig != nil, "TLS") }},

		{url: "redis+sentinel://s1:26379", err: "needs master_name"},
		{url: "redis+cluster://n1:6379/3", err: "database 0 only"},
		{url: "redis+ring://n1:6379", err: "unknown scheme redis+ring"},
		{url: "http+cluster://n1:6379", err: "unknown scheme http+cluster"},
		{url: "http://u:s3cret@h:6379", err: "redis URL http://u:****@h:6379: redis: invalid URL scheme: http"},
		{url: "redis://u:s3cret@h:6379/0?nope=1", err: "unexpected option: nope"},
		{url: "redis://u:s3cret@h:6379/0?master_name=m&nope=1", err: "unexpected option: nope"},
		{url: "redis://u:s3cret@h:6379?addr=bad", err: "unable to parse addr param: bad"},
		{url: "redis://u:s3cret@h:port x/0", err: "redis URL redis://u:****@h:port x/0: parse"},
	}
	for _, tt := range tests {
		t.Run(maskURL(tt.url), func(t *testing.T) {
			r, err := parseRedisURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.kind != tt.kind {
				t.Fatalf("kind %s, want %s", r.kind, tt.kind)
			}
			if msg := tt.check(r); msg != "" {
				t.Error(msg)
			}
			if strings.Contains(r.String(), "s3cret") || strings.Contains(r.String(), "pw") {
				t.Errorf("String shows a password: %s", r)
			}
			r.defaultPool(128)
			c := r.client()
			c.Close()
		})
	}
	// The pool's default does not override the URL's.
	r, _ := parseRedisURL("redis://h:6379?pool_size=5")
	if r.defaultPool(128); r.simple.PoolSize != 5 {
		t.Errorf("pool_size 5 became %d", r.simple.PoolSize)
	}
	r, _ = parseRedisURL("redis://h:6379?addr=h2:6379")
	if r.defaultPool(128); r.cluster.PoolSize != 128 {
		t.Errorf("a cluster's default pool is %d", r.cluster.PoolSize)
	}
}

func want(ok bool, what string, got ...any) string {
	if ok {
		return ""
	}
	return fmt.Sprintf("%s wrong: %v", what, got)
}

// On one Redis server (the tests' own, REDIS_URL), the opener's client
// passes the session store's contract.
func TestRedisSingleNode(t *testing.T) {
	sessionstest.Run(t, func(t *testing.T) sessions.Store {
		_, prefix := sessionstest.Redis(t) // skips without Redis; deletes prefix* at the end
		client, target, err := openRedis(t.Context(), testRedisURL(), 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		if target.kind != redisSingle {
			t.Fatalf("%s is a %s", target, target.kind)
		}
		return sessions.NewRedis(client, prefix)
	})
}

func testRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return sessionstest.DefaultRedisURL
}

// A gateway writes no Redis key outside its redis_prefix: sessions, the
// language cache, the hourly limits' counters, the API's rates and days.
// On a Redis server of the test's own, so that every key in it is
// the gateway's.
func TestRedisPrefixOnEveryKey(t *testing.T) {
	port := startRedis(t)
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	defer client.Close()
	keys := gatewayKeys(t, "redis://127.0.0.1:"+port+"/0", client)
	for _, k := range keys {
		if !strings.HasPrefix(k, "a:") {
			t.Errorf("key %q is outside the prefix a:", k)
		}
	}
}

// gatewayKeys runs a gateway on url with redis_prefix a:, dials, chooses
// a language, applies, calls the API, and answers every key in Redis.
func gatewayKeys(t *testing.T, url string, client redis.UniversalClient) []string {
	t.Helper()
	g := newTestGateway(t, func(c *Config) { c.RedisURL, c.RedisPrefix = url, "a:" })
	const caller = "+237699100088"
	if s := atHop(t, g, "p-1", caller, ""); !strings.Contains(s, "Choose language") {
		t.Fatalf("first dial: %q", s)
	}
	atHop(t, g, "p-1", caller, "2")
	if s := atHop(t, g, "p-2", caller, "2*3*John Ekane Fon*01011985*1"); !strings.Contains(s, "recorded") {
		t.Fatalf("opening a case: %q", s)
	}
	key := apikey.New()
	if err := g.stores.keys.AddAPIKey(t.Context(), apikey.Key{Owner: "civil-status", Label: "test", Created: time.Now()}, apikey.Hash(key)); err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/cases?limit=1", ""},
		{http.MethodPost, "/api/v1/messages", `{"to": ["677123456"], "text": {"fr": "Bonjour", "en": "Hello"}}`},
	} {
		req, _ := http.NewRequest(call.method, g.url+call.path, strings.NewReader(call.body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Errorf("%s %s: HTTP %d", call.method, call.path, resp.StatusCode)
		}
	}
	var all []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			all = append(all, iter.Val())
		}
		return iter.Err()
	}
	var err error
	if cc, ok := client.(*redis.ClusterClient); ok {
		var mu = make(chan struct{}, 1)
		err = cc.ForEachMaster(t.Context(), func(ctx context.Context, c *redis.Client) error {
			mu <- struct{}{}
			defer func() { <-mu }()
			return scan(ctx, c)
		})
	} else {
		err = scan(t.Context(), client.(*redis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	t.Logf("keys: %q", all)
	// A session, the language and the counters are there to be checked.
	if len(all) < 4 {
		t.Errorf("only %d keys written: %q", len(all), all)
	}
	return all
}

// On a real three-node Redis Cluster started on loopback, the opener's
// client (several seeds, redis+cluster:// with one) passes the session
// store's contract, whose scripts each touch one key, and a gateway on it
// answers callers and keeps its keys under its prefix.
func TestRedisCluster(t *testing.T) {
	ports := startCluster(t, 3)
	seeds := "redis://127.0.0.1:" + ports[0] + "?addr=127.0.0.1:" + ports[1] + "&addr=127.0.0.1:" + ports[2]
	for _, url := range []string{seeds, "redis+cluster://127.0.0.1:" + ports[1]} {
		t.Run(url, func(t *testing.T) {
			sessionstest.Run(t, func(t *testing.T) sessions.Store {
				client, target, err := openRedis(t.Context(), url, 8)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { client.Close() })
				if target.kind != redisCluster {
					t.Fatalf("%s is a %s", target, target.kind)
				}
				return sessions.NewRedis(client, "c"+strconv.Itoa(time.Now().Nanosecond())+":")
			})
		})
	}
	client, _, err := openRedis(t.Context(), seeds, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	keys := gatewayKeys(t, seeds, client)
	slots := map[int64]bool{}
	for _, k := range keys {
		if strings.HasPrefix(k, "a:") {
			slot, err := client.ClusterKeySlot(t.Context(), k).Result()
			if err != nil {
				t.Fatal(err)
			}
			slots[slot] = true
		}
	}
	if len(slots) < 2 {
		t.Errorf("the gateway's %d keys sit in %d slot(s): the test shows nothing of a cluster", len(keys), len(slots))
	}
}

// Through Sentinel (redis://SENTINEL?master_name=NAME), the opener finds
// the master and the store works on it.
func TestRedisSentinel(t *testing.T) {
	master := startRedis(t)
	sentinel := freeTCPPort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	if err := writeFile(conf, fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor gw 127.0.0.1 %s 1\n", sentinel, dir, master)); err != nil {
		t.Fatal(err)
	}
	runRedis(t, sentinel, conf, "--sentinel")
	url := "redis://127.0.0.1:" + sentinel + "/0?master_name=gw"
	client, target, err := openRedis(t.Context(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if target.kind != redisSentinel {
		t.Fatalf("%s is a %s", target, target.kind)
	}
	s := sessions.NewRedis(client, "s:")
	if err := s.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	direct := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + master})
	defer direct.Close()
	if v, err := direct.Get(t.Context(), "s:k").Result(); err != nil || v != "v" {
		t.Errorf("the master holds %q, %v; want v", v, err)
	}
}

// startRedis starts a Redis server of the test's own on a free loopback
// port, stopped at cleanup, and answers the port. Without redis-server
// the test is skipped (failed when CI=true).
func startRedis(t *testing.T, args ...string) string {
	t.Helper()
	port := freeTCPPort(t)
	runRedis(t, port, append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir()}, args...)...)
	return port
}

// runRedis runs redis-server with args until the test ends, once port
// answers PING.
func runRedis(t *testing.T, port string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		citest.Missing(t, "redis-server is not installed (run scripts/test-services.sh)")
	}
	cmd := exec.Command(bin, args...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		s := bufio.NewScanner(out)
		for s.Scan() {
			logs.WriteString(s.Text() + "\n")
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(t.Context()).Err() == nil {
			return
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("redis-server %v does not answer:\n%s", args, logs.String())
		}
	}
}

// startCluster starts n Redis servers in cluster mode, each master of a
// share of the slots, and waits until the cluster is ok.
func startCluster(t *testing.T, n int) []string {
	t.Helper()
	var ports, addrs []string
	for range n {
		dir := t.TempDir()
		// The bus port is named: port+10000, its default, may be past 65535.
		p := startRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000", "--cluster-port", freeTCPPort(t))
		ports, addrs = append(ports, p), append(addrs, "127.0.0.1:"+p)
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, p := range ports {
		c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + p})
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			info, _ := c.ClusterInfo(t.Context()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("the cluster is not ok on %s:\n%s", p, info)
			}
		}
		c.Close()
	}
	return ports
}

// freeTCPPort is a loopback port free a moment ago.
func freeTCPPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// A URL whose password holds characters it should have encoded does not
// parse: the error says so and shows no piece of the password.
func TestRedisURLErrorHidesPassword(t *testing.T) {
	for _, raw := range []string{"redis://:pa/ss#wd@redis:6379/0", "redis://u:s3cr?et@h:6379/0"} {
		_, err := parseRedisURL(raw)
		if err == nil {
			t.Fatalf("%s parsed", raw)
		}
		for _, piece := range []string{"pa", "ss", "wd", "s3cr", "et@"} {
			if strings.Contains(strings.TrimPrefix(err.Error(), "redis URL "), ":"+piece) || strings.Contains(err.Error(), `"`+piece) {
				t.Errorf("%s: the error shows %q: %v", raw, piece, err)
			}
		}
		if !strings.Contains(err.Error(), "must be percent-encoded") || !strings.Contains(err.Error(), "****") {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

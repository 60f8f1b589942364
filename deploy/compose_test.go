package deploy

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCompose has docker-compose check compose.yaml against the Compose
// schema (config: no container runs here) and Caddy its Caddyfile, then
// reads compose.yaml for what a schema does not say: the services the stack
// needs, every file a service names, the gateways' command and mounts,
// their order of start, the simulator they bind to, the proxy they
// believe, and the placeholders in the env files. cmd/guichet's
// TestDeployConfigs loads compose/gateway.yaml with serve's loader.
func TestCompose(t *testing.T) {
	// Debian's docker-compose is 1.29, whose schema is the Compose
	// Specification's without its later keys (a top-level name:): what
	// it accepts, compose v2 and podman-compose accept too.
	run(t, "", nil, tool(t, "docker-compose"), "--project-directory", ".", "-f", "compose.yaml", "config", "--quiet")
	home := t.TempDir() // caddy keeps its local CA there
	run(t, "", []string{"HOME=" + home, "XDG_DATA_HOME=" + home, "XDG_CONFIG_HOME=" + home}, tool(t, "caddy"),
		"validate", "--config", filepath.Join("compose", "Caddyfile"), "--adapter", "caddyfile")

	f := decodeAll(t, mustOpen(t, "compose.yaml"))
	if len(f) != 1 {
		t.Fatalf("compose.yaml holds %d documents", len(f))
	}
	services := f[0].obj("services")
	for _, name := range []string{"postgres", "redis", "migrate", "smsc", "gateway-1", "gateway-2", "proxy"} {
		if services[name] == nil {
			t.Errorf("no service %s", name)
		}
	}
	svc := func(name string) object { return services.obj(name) }
	strs := func(v any) []string {
		var out []string
		for _, x := range asList(v) {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}

	// Every file named exists, relative to compose.yaml.
	for name := range services {
		s := svc(name)
		for _, v := range strs(s.get("volumes")) {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") && !fileExists(src) {
				t.Errorf("%s mounts %s, which does not exist", name, src)
			}
		}
		for _, e := range strs(s.get("env_file")) {
			if !fileExists(e) {
				t.Errorf("%s reads %s, which does not exist", name, e)
			}
		}
		if ctx := s.str("build", "context"); ctx != "" && !fileExists(filepath.Join(ctx, s.str("build", "dockerfile"))) {
			t.Errorf("%s builds from %s/%s, which does not exist", name, ctx, s.str("build", "dockerfile"))
		}
	}

	gw := gatewayConfig(t, string(readFile(t, filepath.Join("compose", "gateway.yaml"))))
	for _, name := range []string{"gateway-1", "gateway-2"} {
		s := svc(name)
		if got := strs(s.get("command")); !slices.Equal(got, serveArgs) {
			t.Errorf("%s runs %q, want %q", name, got, serveArgs)
		}
		if !slices.Contains(strs(s.get("volumes")), "./compose/gateway.yaml:"+configPath+":ro") {
			t.Errorf("%s does not mount compose/gateway.yaml at %s", name, configPath)
		}
		checkUser(t, name, s.str("user"))
		if s.get("read_only") != true || !slices.Equal(strs(s.get("cap_drop")), []string{"ALL"}) {
			t.Errorf("%s: want read_only and cap_drop [ALL]", name)
		}
		if s.str("image") != "localhost/guichet:latest" {
			t.Errorf("%s runs %s, not make image's localhost/guichet:latest", name, s.str("image"))
		}
		if s.str("depends_on", "migrate", "condition") != "service_completed_successfully" {
			t.Errorf("%s may start before the schema is migrated", name)
		}
		stop, err := time.ParseDuration(s.str("stop_grace_period"))
		if err != nil || stop <= gw.grace(t)+drain {
			t.Errorf("%s: stop_grace_period %q: want above shutdown_grace (%v) + the drain (%v)", name, s.str("stop_grace_period"), gw.grace(t), drain)
		}
	}
	if got := strs(svc("migrate").get("command")); !slices.Equal(got, []string{"migrate"}) {
		t.Errorf("migrate runs %q", got)
	}

	// The gateways bind to the simulator, on the address it listens on.
	smsc := strs(svc("smsc").get("command"))
	if len(smsc) == 0 || smsc[0] != "smsc" || !slices.Contains(smsc, "0.0.0.0:2775") {
		t.Errorf("the simulator runs %q: want guichet smsc listening on 0.0.0.0:2775", smsc)
	}
	if len(gw.SMPP.Operators) != 1 || gw.SMPP.Operators[0].Addr != "smsc:2775" || gw.SMPP.Operators[0].Binds < 2 {
		t.Errorf("the gateways' SMSCs %+v: want the simulator at smsc:2775 with a bind for each gateway", gw.SMPP.Operators)
	}

	// The gateways believe the proxy's X-Forwarded-For, and only its.
	ip := svc("proxy").str("networks", "front", "ipv4_address")
	for what, list := range map[string][]string{"trusted_proxies": gw.TrustedProxies, "hotline.trusted_proxies": gw.Hotline.TrustedProxies} {
		if !slices.Equal(list, []string{ip + "/32"}) {
			t.Errorf("%s %q, want the proxy's %s/32", what, list, ip)
		}
	}
	caddy := string(readFile(t, filepath.Join("compose", "Caddyfile")))
	for _, want := range []string{"gateway-1:8080", "gateway-2:8080", "health_uri /readyz"} {
		if !strings.Contains(caddy, want) {
			t.Errorf("the Caddyfile lacks %q", want)
		}
	}
	if !strings.HasSuffix(gw.HTTP, ":8080") {
		t.Errorf("the gateways listen on %s, Caddy sends to :8080", gw.HTTP)
	}

	// The env files hold placeholders, and agree on the database password.
	genv, penv := envFile(t, filepath.Join("compose", "guichet.env")), envFile(t, filepath.Join("compose", "postgres.env"))
	db, err := url.Parse(genv["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	if pw, _ := db.User.Password(); pw != penv["POSTGRES_PASSWORD"] || db.User.Username() != penv["POSTGRES_USER"] || db.Host != "postgres:5432" {
		t.Errorf("DATABASE_URL's user, password or host disagree with postgres.env and the service's name")
	}
	for _, env := range []map[string]string{genv, penv, envFile(t, filepath.Join("systemd", "guichet.env"))} {
		checkPlaceholders(t, env)
	}
}

// checkPlaceholders fails on a secret-looking value that is not an obvious
// placeholder: what is committed here is never a real secret.
func checkPlaceholders(t *testing.T, env map[string]string) {
	t.Helper()
	for k, v := range env {
		secret := strings.Contains(k, "PASSWORD") || strings.Contains(k, "CREDENTIAL") || strings.Contains(k, "SECRET")
		if u, err := url.Parse(v); err == nil && u.User != nil {
			_, secret = u.User.Password()
		}
		if secret && !strings.Contains(v, "CHANGE-ME") {
			t.Errorf("%s is not a CHANGE-ME placeholder", k)
		}
	}
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case nil:
		return nil
	default:
		return []any{x}
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// envFile reads KEY=VALUE lines, as compose's env_file and systemd's
// EnvironmentFile read them (comments and blank lines skipped).
func envFile(t *testing.T, name string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, l := range strings.Split(string(readFile(t, name)), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", name, l)
		}
		env[k] = v
	}
	return env
}

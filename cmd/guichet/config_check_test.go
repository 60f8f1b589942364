package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// sampleEnv is the environment of testdata/config-check/sample.yaml.
var sampleEnv = map[string]string{"MTN_KEY": "mtn-Env-Key", "MTN_SMPP_PASSWORD": "mtn-Smpp-Pa55"}

// sampleSecrets are every secret sample.yaml and its environment hold:
// none may be printed.
var sampleSecrets = []string{"sentinel-Pa55", "master-Pa55", "pg-Pa55-word", "mtn-Env-Key", "orange-File-Key",
	"nalo-Inline-Key", "mtn-Smpp-Pa55", "orange-Smpp-Pa55"}

// guichet config check prints the configuration in effect, as serve reads
// it, with every secret masked; the output is testdata/config-check/
// sample.golden (go test -update rewrites it).
func TestConfigCheck(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"config", "check", "testdata/config-check/sample.yaml"}, nil, &out, io.Discard,
		func(k string) string { return sampleEnv[k] })
	if err != nil {
		t.Fatalf("config check of a valid configuration: %v", err)
	}
	for _, s := range sampleSecrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("config check printed the secret %q", s)
		}
	}
	for _, want := range []string{
		"redis_url: redis://sentinel-user:****@10.0.0.5:26379/0?master_name=guichet&addr=10.0.0.6:26379&password=****\n",
		"database_url: postgres://guichet:****@db.example/guichet?sslmode=verify-full\n",
		"credential_env: MTN_KEY\n", "credential_file: testdata/config-check/orange.key\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config check did not print %q", want)
		}
	}
	golden := "testdata/config-check/sample.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("config check printed\n%s\nwant (%s, go test -update rewrites it)\n%s", out.String(), golden, want)
	}

	// What serve refuses, config check refuses, with the same words.
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a variable unset", map[string]string{"MTN_KEY": "k"}, "password_env MTN_SMPP_PASSWORD is not set"},
		{"no file", map[string]string{"MTN_KEY": "k", "MTN_SMPP_PASSWORD": "p", "DATABASE_URL_FILE": "testdata/config-check/nowhere"},
			"DATABASE_URL_FILE: open testdata/config-check/nowhere"},
	} {
		err := run(context.Background(), []string{"config", "check", "testdata/config-check/sample.yaml"}, nil, io.Discard, io.Discard,
			func(k string) string { return tt.env[k] })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
		_, serveErr := loadConfig([]string{"--config", "testdata/config-check/sample.yaml"}, func(k string) string { return tt.env[k] })
		if tt.env["DATABASE_URL_FILE"] == "" && (serveErr == nil || serveErr.Error() != err.Error()) {
			t.Errorf("%s: serve says %v, config check %v", tt.name, serveErr, err)
		}
	}
	if err := run(context.Background(), []string{"config", "check"}, nil, io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "usage: guichet config check FILE") {
		t.Errorf("config check without a file: %v", err)
	}
	if err := run(context.Background(), []string{"config", "check", "testdata/config-check/nowhere.yaml"}, nil, io.Discard, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "nowhere.yaml") {
		t.Errorf("config check of a missing file: %v", err)
	}
}

// Each secret may come from a file (the way of Kubernetes Secrets,
// systemd's LoadCredential, Docker secrets), read less one trailing
// newline; a missing or empty file is named with its key, and a secret
// given two ways at once is refused.
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := writeFile(p, content); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, pass := file("key", "op-Key-1\n"), file("pass", "smpp-Pass-1\r\n")
	rurl, durl := file("redis", "redis://:r-Pass-1@127.0.0.1:6379/2\n"), file("db", "postgres://g:d-Pass-1@db/g")
	empty, nowhere := file("empty", "\n"), filepath.Join(dir, "nowhere")
	op := func(extra string) string {
		return "operators: [{name: x, dialect: hubtel, " + extra + "}]"
	}
	smsc := func(extra string) string {
		return "smpp: {operators: [{name: mtn, addr: '127.0.0.1:1', system_id: g, " + extra + "}]}"
	}
	tests := []struct {
		name, yaml string
		env        map[string]string
		got        func(Config) string
		want       string // the value read, or the error's words
		fails      bool
	}{
		{"credential_file", op("credential_file: " + key), nil, func(c Config) string { return c.Operators[0].Credential }, "op-Key-1", false},
		{"credential_env", op("credential_env: K"), map[string]string{"K": "op-Env-1"}, func(c Config) string { return c.Operators[0].Credential }, "op-Env-1", false},
		{"credential inline", op("credential: op-Inline-1"), nil, func(c Config) string { return c.Operators[0].Credential }, "op-Inline-1", false},
		{"password_file, CRLF", smsc("password_file: " + pass), nil, func(c Config) string { return c.SMPP.Operators[0].Password }, "smpp-Pass-1", false},
		{"password_env", smsc("password_env: P"), map[string]string{"P": "smpp-Env-1"}, func(c Config) string { return c.SMPP.Operators[0].Password }, "smpp-Env-1", false},
		{"redis_url_file", "redis_url_file: " + rurl, nil, func(c Config) string { return c.RedisURL }, "redis://:r-Pass-1@127.0.0.1:6379/2", false},
		{"database_url_file", "database_url_file: " + durl, nil, func(c Config) string { return c.DatabaseURL }, "postgres://g:d-Pass-1@db/g", false},
		{"REDIS_URL over redis_url_file", "redis_url_file: " + rurl, map[string]string{"REDIS_URL": "redis://other:6379/0"}, func(c Config) string { return c.RedisURL + " " + c.RedisURLFile }, "redis://other:6379/0 ", false},
		{"REDIS_URL_FILE over redis_url", "redis_url: redis://yaml:6379/0", map[string]string{"REDIS_URL_FILE": rurl}, func(c Config) string { return c.RedisURL }, "redis://:r-Pass-1@127.0.0.1:6379/2", false},
		{"DATABASE_URL_FILE", "", map[string]string{"DATABASE_URL_FILE": durl}, func(c Config) string { return c.DatabaseURL }, "postgres://g:d-Pass-1@db/g", false},
		{"a missing redis_url_file REDIS_URL replaces", "redis_url_file: " + nowhere, map[string]string{"REDIS_URL": "redis://other:6379/0"}, func(c Config) string { return c.RedisURL }, "redis://other:6379/0", false},

		{"credential_file missing", op("credential_file: " + nowhere), nil, nil, "operator x: credential_file: open " + nowhere, true},
		{"credential_file empty", op("credential_file: " + empty), nil, nil, "operator x: credential_file " + empty + " is empty", true},
		{"password_file missing", smsc("password_file: " + nowhere), nil, nil, "smpp operator mtn: password_file: open " + nowhere, true},
		{"redis_url_file missing", "redis_url_file: " + nowhere, nil, nil, "redis_url_file: open " + nowhere, true},
		{"database_url_file missing", "database_url_file: " + nowhere, nil, nil, "database_url_file: open " + nowhere, true},
		{"REDIS_URL_FILE missing", "", map[string]string{"REDIS_URL_FILE": nowhere}, nil, "REDIS_URL_FILE: open " + nowhere, true},
		{"credential twice", op("credential: a, credential_file: " + key), nil, nil, "operator x: credential: set one of credential, credential_env and credential_file, not 2", true},
		{"credential thrice", op("credential: a, credential_env: K, credential_file: " + key), map[string]string{"K": "k"}, nil, "not 3", true},
		{"password twice", smsc("password_env: P, password_file: " + pass), map[string]string{"P": "p"}, nil, "smpp operator mtn: password: set one of password, password_env and password_file, not 2", true},
		{"redis_url twice", "redis_url: redis://a:6379\nredis_url_file: " + rurl, nil, nil, "redis_url: set redis_url or redis_url_file, not both", true},
		{"database_url twice", "database_url: postgres://a/b\ndatabase_url_file: " + durl, nil, nil, "database_url: set database_url or database_url_file, not both", true},
		{"DATABASE_URL twice", "", map[string]string{"DATABASE_URL": "postgres://a/b", "DATABASE_URL_FILE": durl}, nil, "DATABASE_URL and DATABASE_URL_FILE are both set", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfgFile := file("c.yaml", tt.yaml+"\n")
			getenv, err := fileEnv(func(k string) string { return tt.env[k] })
			var cfg Config
			if err == nil {
				cfg, err = loadConfig([]string{"--config", cfgFile}, getenv)
			}
			if tt.fails {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want an error containing %q", err, tt.want)
				}
				for _, s := range []string{"op-Key-1", "smpp-Pass-1", "r-Pass-1", "d-Pass-1"} {
					if strings.Contains(err.Error(), s) {
						t.Errorf("the error shows the secret %s: %v", s, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); got != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
}

// maskURL masks the password of a URL (userinfo and query) and of a
// keyword/value connection string, and nothing else.
func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://guichet:s3cret@db/guichet":                     "postgres://guichet:****@db/guichet",
		"postgres://guichet@db/guichet":                            "postgres://guichet@db/guichet",
		"redis://:s3cret@127.0.0.1:6379/0":                         "redis://:****@127.0.0.1:6379/0",
		"redis://u:p@s:26379?master_name=m&password=s3cret&db=1":   "redis://u:****@s:26379?master_name=m&password=****&db=1",
		"redis://s:26379?sentinel_password=s3cret&master_name=m":   "redis://s:26379?sentinel_password=****&master_name=m",
		"host=db user=guichet password=s3cret dbname=guichet":      "host=db user=guichet password=**** dbname=guichet",
		"host=db password='s3 cret' dbname=guichet":                "host=db password=**** dbname=guichet",
		"redis://u:pa@ss:w%rd@h:6379/0":                            "redis://u:****@h:6379/0",
		"redis://127.0.0.1:6379/0":                                 "redis://127.0.0.1:6379/0",
		"redis://:pa/ss#wd@redis:6379/0":                           "redis://:****@redis:6379/0",
		"postgres://guichet:s3cr/et@db:5432/guichet":               "postgres://guichet:****@db:5432/guichet",
		"postgres://guichet:s3?cr@et@db/guichet?user=a@b":          "postgres://guichet:****@b",
		"postgres://guichet:s3cret@db/guichet?application_name=gw": "postgres://guichet:****@db/guichet?application_name=gw",
	} {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// secretKey is a key whose value is a secret by its name.
var secretKey = regexp.MustCompile(`(password|credential|secret|token|api_key)$`)

// Every field whose key names a secret, and every URL that may hold a
// password, is tagged secret, so that config check masks it; and the
// masking reaches into slices and pointers without touching the original.
func TestSecretFieldsTagged(t *testing.T) {
	for _, k := range configKeys(reflect.TypeFor[Config](), "") {
		switch {
		case secretKey.MatchString(k.path) && k.secret != "true":
			t.Errorf("%s names a secret but is not tagged secret:\"true\"", k.path)
		case strings.HasSuffix(k.path, "_url") && k.secret != "url":
			t.Errorf("%s is a URL that may hold a password but is not tagged secret:\"url\"", k.path)
		}
	}
	cfg := defaultConfig()
	cfg.Operators = []OperatorConfig{{Name: "x", Credential: "k"}}
	m := masked(cfg)
	if m.Operators[0].Credential != mask || cfg.Operators[0].Credential != "k" {
		t.Errorf("masked: %q, original after: %q", m.Operators[0].Credential, cfg.Operators[0].Credential)
	}
}

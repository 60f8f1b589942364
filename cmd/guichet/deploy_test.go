package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestDeployConfigs loads the configurations deploy/ ships (compose's
// gateways, the systemd unit's, the Kubernetes ConfigMap's) with serve's
// own loader, in the environment each is given there (the env file, the
// Secret), so that an unknown key, a variable a *_env key names but the
// environment lacks, or a demo left on fails here rather than at a
// deployment's first start. deploy/deploy_test.go checks the rest of each
// deployment (the image, the unit, the manifests).
func TestDeployConfigs(t *testing.T) {
	dir := filepath.Join("..", "..", "deploy")
	secret := kubeSecret(t, filepath.Join(dir, "kubernetes", "secret.yaml"))
	for _, tc := range []struct {
		name, config string
		env          map[string]string
	}{
		{"compose", filepath.Join(dir, "compose", "gateway.yaml"), envFile(t, filepath.Join(dir, "compose", "guichet.env"))},
		{"systemd", filepath.Join(dir, "systemd", "guichet.yaml"), envFile(t, filepath.Join(dir, "systemd", "guichet.env"))},
		{"kubernetes", kubeConfigMap(t, filepath.Join(dir, "kubernetes", "configmap.yaml")), secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseConfig([]string{"--config", tc.config}, func(k string) string { return tc.env[k] }, io.Discard)
			if err != nil {
				t.Fatalf("serve refuses %s: %v", tc.config, err)
			}
			switch {
			case cfg.demo():
				t.Error("a deployment runs as a demo (anyone may act as any phone number)")
			case cfg.DatabaseURL == "" || cfg.RedisURL == "":
				t.Errorf("no database or no Redis: database %q, redis %q (a fleet shares both)", cfg.DatabaseURL, cfg.RedisURL)
			case cfg.AdminHTTP == "":
				t.Error("no admin_http: /metrics and /status/smpp would be on the operators' port")
			case len(cfg.Operators) == 0 || len(cfg.SMPP.Operators) == 0:
				t.Errorf("%d USSD operators, %d SMSCs: a deployment needs both", len(cfg.Operators), len(cfg.SMPP.Operators))
			case cfg.ShutdownGrace <= 0 || cfg.ShutdownGrace > 10*time.Second:
				t.Errorf("shutdown_grace %v: the stop timeouts deploy/ sets (30 s) leave room for 10 s at most", cfg.ShutdownGrace)
			}
			for _, op := range cfg.Operators {
				if op.Credential == "" && op.ClientCAFile == "" {
					t.Errorf("operator %s takes anyone", op.Name)
				}
			}
			for _, o := range cfg.SMPP.Operators {
				if o.Password == "" {
					t.Errorf("SMSC %s: no password from the environment", o.Name)
				}
			}
		})
	}
}

// envFile reads a KEY=VALUE file as systemd's EnvironmentFile= and
// compose's env_file: read it (comments and blank lines skipped).
func envFile(t *testing.T, name string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=VALUE", name, line)
		}
		env[k] = v
	}
	return env
}

// kubeSecret reads the Secret's stringData: the pods' environment (envFrom).
func kubeSecret(t *testing.T, name string) map[string]string {
	t.Helper()
	var s struct {
		Kind       string            `yaml:"kind"`
		StringData map[string]string `yaml:"stringData"`
	}
	readYAML(t, name, &s)
	if s.Kind != "Secret" || len(s.StringData) == 0 {
		t.Fatalf("%s: no Secret with stringData", name)
	}
	return s.StringData
}

// kubeConfigMap writes the ConfigMap's guichet.yaml to a file, as the pods
// see it mounted.
func kubeConfigMap(t *testing.T, name string) string {
	t.Helper()
	var cm struct {
		Kind string            `yaml:"kind"`
		Data map[string]string `yaml:"data"`
	}
	readYAML(t, name, &cm)
	if cm.Kind != "ConfigMap" || cm.Data["guichet.yaml"] == "" {
		t.Fatalf("%s: no ConfigMap with guichet.yaml", name)
	}
	out := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := os.WriteFile(out, []byte(cm.Data["guichet.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

func readYAML(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

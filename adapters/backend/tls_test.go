package backend_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/guichet/guichet/adapters/backend"
	"github.com/guichet/guichet/adapters/backend/backendtest"
)

func TestClientTLS(t *testing.T) {
	pki := backendtest.NewPKI(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.pem")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name string
		cfg  backend.TLSConfig
		want string // a substring of the error; "" for none
	}{
		{"none", backend.TLSConfig{}, ""},
		{"mutual", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: pki.ClientKeyFile, CAFile: pki.CAFile, ServerName: "ministry.test"}, ""},
		{"ca only", backend.TLSConfig{CAFile: pki.CAFile}, ""},
		{"missing cert", backend.TLSConfig{CertFile: missing, KeyFile: pki.ClientKeyFile},
			"tls: reading cert_file: open " + missing + ": no such file or directory"},
		{"missing key", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: missing},
			"tls: reading key_file: open " + missing},
		{"missing ca", backend.TLSConfig{CAFile: missing}, "tls: reading ca_file: open " + missing},
		{"garbage ca", backend.TLSConfig{CAFile: garbage}, "tls: ca_file " + garbage + " holds no PEM certificate"},
		{"garbage cert", backend.TLSConfig{CertFile: garbage, KeyFile: pki.ClientKeyFile},
			"tls: loading the client certificate " + garbage},
		{"key of another", backend.TLSConfig{CertFile: pki.ClientCertFile, KeyFile: garbage},
			"tls: loading the client certificate"},
		{"cert without key", backend.TLSConfig{CertFile: pki.ClientCertFile}, "cert_file and key_file go together"},
	}
	if os.Geteuid() != 0 { // root reads anything
		tests = append(tests, struct {
			name string
			cfg  backend.TLSConfig
			want string
		}{"unreadable ca", backend.TLSConfig{CAFile: unreadable}, "tls: reading ca_file: open " + unreadable + ": permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := backend.ClientTLS(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ClientTLS: %v", err)
				}
				if (tt.cfg.CertFile != "") != (len(cfg.Certificates) == 1) || (tt.cfg.CAFile != "") != (cfg.RootCAs != nil) ||
					cfg.ServerName != tt.cfg.ServerName {
					t.Errorf("ClientTLS(%+v) = %+v", tt.cfg, cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ClientTLS: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestClientRefusesTLSWithAGivenClient(t *testing.T) {
	cfg := backend.Config{TLS: backend.TLSConfig{CAFile: "ca.pem"}}
	if _, err := backend.Client(cfg, &http.Client{}); err == nil || !strings.Contains(err.Error(), "tls is set, but an HTTP client was given") {
		t.Errorf("Client: %v", err)
	}
	given := &http.Client{}
	if c, err := backend.Client(backend.Config{}, given); err != nil || c != given {
		t.Errorf("Client without TLS = %p, %v; want the given client", c, err)
	}
	c, err := backend.Client(backend.Config{}, nil)
	if err != nil || c.CheckRedirect == nil || c.Timeout != 0 {
		t.Errorf("Client(nil) = %+v, %v; want redirects refused and no overall timeout", c, err)
	}
}

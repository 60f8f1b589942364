package backend

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// ClientTLS returns the TLS configuration for c: our client certificate if
// CertFile and KeyFile are set, the CA bundle of CAFile instead of the
// system's roots if it is set, TLS 1.2 at least. It fails, saying which file
// and why, if a file is missing, unreadable or holds no usable PEM.
func ClientTLS(c TLSConfig) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		for _, f := range []struct{ name, path string }{{"cert_file", c.CertFile}, {"key_file", c.KeyFile}} {
			if _, err := os.ReadFile(f.path); err != nil {
				return nil, fmt.Errorf("tls: reading %s: %w", f.name, err)
			}
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: loading the client certificate %s with key %s: %w", c.CertFile, c.KeyFile, err)
		}
		if leaf := cert.Leaf; leaf != nil && time.Now().After(leaf.NotAfter) {
			return nil, fmt.Errorf("tls: the client certificate %s expired on %s", c.CertFile, leaf.NotAfter.Format(time.DateOnly))
		}
		cfg.Certificates = []tls.Certificate{cert}
	case c.CertFile != "" || c.KeyFile != "":
		return nil, errors.New("tls: cert_file and key_file go together")
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: reading ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %s holds no PEM certificate", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// HTTPClient returns the HTTP client for a backend set up with c: its own
// connection pool, TLS from ClientTLS, no overall timeout (each attempt has
// its context's deadline), and redirects not followed (an API that
// redirects is misconfigured, and a POST must not turn into a GET).
func HTTPClient(c TLSConfig) (*http.Client, error) {
	tlsConfig, err := ClientTLS(c)
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = tlsConfig
	t.MaxIdleConnsPerHost = 16
	t.TLSHandshakeTimeout = DefaultTimeout
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// Client returns client, or a new one from HTTPClient if it is nil. A given
// client cannot be combined with TLS settings, which it would ignore.
func Client(cfg Config, client *http.Client) (*http.Client, error) {
	if client == nil {
		return HTTPClient(cfg.TLS)
	}
	if cfg.TLS != (TLSConfig{}) {
		return nil, errors.New("tls is set, but an HTTP client was given: set TLS on that client instead")
	}
	return client, nil
}

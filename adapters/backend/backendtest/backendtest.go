// Package backendtest helps test the connectors to ministries' systems: a
// fake backend on 127.0.0.1 that records what it is sent, canned answers, and
// a throwaway PKI for mutual TLS.
package backendtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Request is what the fake backend was sent.
type Request struct {
	Method string
	URL    string // path and query
	Header http.Header
	Body   []byte
}

// Server is a fake backend: it records each request, then answers it with
// the handler for its turn (the last handler answers all later turns).
type Server struct {
	*httptest.Server
	handlers []http.HandlerFunc

	mu       sync.Mutex
	requests []Request
}

// NewServer starts a fake backend over plain HTTP on 127.0.0.1, closed when
// t ends.
func NewServer(t testing.TB, handlers ...http.HandlerFunc) *Server {
	t.Helper()
	s := newServer(t, handlers)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewTLSServer starts a fake backend over TLS set by cfg on 127.0.0.1,
// closed when t ends.
func NewTLSServer(t testing.TB, cfg *tls.Config, handlers ...http.HandlerFunc) *Server {
	t.Helper()
	s := newServer(t, handlers)
	s.TLS = cfg
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func newServer(t testing.TB, handlers []http.HandlerFunc) *Server {
	if len(handlers) == 0 {
		t.Fatal("backendtest: a server needs at least one handler")
	}
	s := &Server{handlers: handlers}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are what some tests are about
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	n := len(s.requests)
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.handlers[min(n, len(s.handlers))-1](w, r)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Hits returns the number of requests received so far.
func (s *Server) Hits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Reply answers with status, a Content-Type and body.
func Reply(status int, contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

// File answers with status, a Content-Type and the content of the file at
// path, read now.
func File(t testing.TB, status int, contentType, path string) http.HandlerFunc {
	t.Helper()
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Reply(status, contentType, body)
}

// Hang answers nothing until the client gives up, then sends the request's
// cancellation on cancelled, which should have room for every request that
// may hang. It gives up by itself after a minute, so that a broken test
// cannot hang for ever.
func Hang(cancelled chan<- error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(time.Minute):
		}
	}
}

// PKI is a throwaway public key infrastructure: a CA, a server certificate
// for 127.0.0.1 and localhost, and a client certificate, all signed by the
// CA and written as PEM files.
type PKI struct {
	CAFile         string
	ClientCertFile string
	ClientKeyFile  string
	CA             *x509.CertPool
	Server         tls.Certificate
}

// NewPKI makes a PKI whose files are in a temporary directory of t.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	caKey := key(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Test national PKI root"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, name string, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k := key(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		if usage == x509.ExtKeyUsageServerAuth {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
			tmpl.DNSNames = []string{"localhost"}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	serverDER, serverKey := issue(2, "ministry.test", x509.ExtKeyUsageServerAuth)
	clientDER, clientKey := issue(3, "guichet", x509.ExtKeyUsageClientAuth)

	p := &PKI{
		CAFile:         filepath.Join(dir, "ca.pem"),
		ClientCertFile: filepath.Join(dir, "client.pem"),
		ClientKeyFile:  filepath.Join(dir, "client-key.pem"),
		CA:             x509.NewCertPool(),
	}
	p.CA.AddCert(ca)
	writePEM(t, p.CAFile, "CERTIFICATE", caDER)
	writePEM(t, p.ClientCertFile, "CERTIFICATE", clientDER)
	writePEM(t, p.ClientKeyFile, "EC PRIVATE KEY", marshalKey(t, clientKey))
	p.Server, err = tls.X509KeyPair(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: serverDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: marshalKey(t, serverKey)}),
	)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ServerTLS returns a server configuration that requires a client
// certificate signed by the CA.
func (p *PKI) ServerTLS() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.Server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    p.CA,
		MinVersion:   tls.VersionTLS12,
	}
}

func key(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marshalKey(t testing.TB, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Dump writes r as a golden request: its method and URL, the headers named
// (those it has), a blank line and its body.
func Dump(r Request, headers ...string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
	for _, h := range headers {
		for _, v := range r.Header.Values(h) {
			fmt.Fprintf(&b, "%s: %s\n", h, v)
		}
	}
	b.WriteString("\n")
	b.Write(r.Body)
	return b.Bytes()
}

// Golden compares got with the golden file at path, or rewrites the file
// with got if update is set.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

package ussd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/guichet/guichet/ussd"
	"github.com/guichet/guichet/ussd/ussdtest"
)

// stub is a dialect that reads every body as the first hop of one caller.
type stub struct{}

func (stub) Name() string { return "stub" }
func (stub) Decode(*http.Request) (ussd.Request, error) {
	return ussd.Request{SessionID: "s1", Phone: "+237677123456", ServiceCode: "*123#"}, nil
}
func (stub) Encode(w http.ResponseWriter, _ ussd.Request, rep ussd.Reply) {
	io.WriteString(w, rep.Text)
}
func (stub) EncodeError(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}

// cas are the CAs' certificates.
func cas(cas ...*ussdtest.CA) []*x509.Certificate {
	var out []*x509.Certificate
	for _, ca := range cas {
		out = append(out, ca.Cert)
	}
	return out
}

type welcome struct{ hops int }

func (s *welcome) Step(context.Context, ussd.Request) (ussd.Reply, error) {
	s.hops++
	return ussd.Reply{Text: "welcome"}, nil
}

// An operator's allow-list holds its requests to its networks: the TCP
// peer's address, or X-Forwarded-For's when (and only when) the peer is a
// trusted proxy. Loopback is nothing special.
func TestAllowList(t *testing.T) {
	op := ussd.Operator{Name: "mtn", Dialect: stub{}, Credential: "k", Region: "CM",
		Allow:   []netip.Prefix{netip.MustParsePrefix("196.202.0.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		Proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("10.0.1.0/24")}}
	tests := []struct {
		label, remote, forwarded string
		status                   int
	}{
		{"a peer in the list", "196.202.0.9:4431", "", 200},
		{"an IPv6 peer in the list", "[2001:db8::7]:4431", "", 200},
		{"an IPv4-mapped peer in the list", "[::ffff:196.202.0.9]:4431", "", 200},
		{"a peer outside", "198.51.100.7:4431", "", 403},
		{"loopback is outside", "127.0.0.1:4431", "", 403},
		{"an untrusted peer's forwarded address is not believed", "198.51.100.7:4431", "196.202.0.9", 403},
		{"loopback's forwarded address is not believed", "127.0.0.1:4431", "196.202.0.9", 403},
		{"a trusted proxy's forwarded address in the list", "10.0.0.5:4431", "196.202.0.9", 200},
		{"a trusted proxy's forwarded address outside", "10.0.0.5:4431", "198.51.100.7", 403},
		{"the nearest untrusted hop counts, not what the client wrote", "10.0.0.5:4431", "196.202.0.9, 198.51.100.7", 403},
		{"through two trusted proxies", "10.0.0.5:4431", "196.202.0.9, 10.0.1.3", 200},
		{"a trusted proxy forwarding nothing is outside", "10.0.0.5:4431", "", 403},
		{"a trusted proxy forwarding garbage is outside", "10.0.0.5:4431", "196.202.0.9, nonsense", 403},
		{"a peer that is no address", "@unix", "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			step := &welcome{}
			h := &ussd.Handler{Op: op, Step: step, Log: slog.New(slog.DiscardHandler)}
			req := httptest.NewRequest(http.MethodPost, "/ussd/mtn", strings.NewReader(""))
			req.RemoteAddr = tt.remote
			req.Header.Set("X-Api-Key", "k")
			if tt.forwarded != "" {
				req.Header.Set("X-Forwarded-For", tt.forwarded)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.status || (tt.status == 200) != (step.hops == 1) {
				t.Errorf("got %d %q after %d hops, want %d", rec.Code, rec.Body, step.hops, tt.status)
			}
		})
	}
}

// A client certificate proves an operator only if it chains to that
// operator's own CAs, and names it when a subject is set; with a
// credential configured too, both must come.
func TestClientCerts(t *testing.T) {
	national := ussdtest.NewCA(t, "National PKI root")
	mtnCA := national.Sub(t, "MTN issuing CA")
	orangeCA := ussdtest.NewCA(t, "Orange CA")
	mtn := mtnCA.Client(t, "ussd-gw-1.mtn.cm", "gw1.mtn.cm")
	orange := orangeCA.Client(t, "ussd.orange.cm")
	nexttel := national.Client(t, "ussd.nexttel.cm")
	server := orangeCA.Server(t) // a server certificate is no client's

	tests := []struct {
		label      string
		certs      *ussd.ClientCerts
		credential string
		present    *tls.Certificate
		key        string
		status     int
	}{
		{"its own CA's certificate", ussd.NewClientCerts(cas(orangeCA), ""), "", &orange, "", 200},
		{"through an intermediate it sends", ussd.NewClientCerts(cas(national), ""), "", &mtn, "", 200},
		{"its issuing CA as the only root", ussd.NewClientCerts(cas(mtnCA), ""), "", &mtn, "", 200},
		{"another operator's CA", ussd.NewClientCerts(cas(orangeCA), ""), "", &mtn, "", 401},
		{"no certificate", ussd.NewClientCerts(cas(orangeCA), ""), "", nil, "", 401},
		{"a server certificate", ussd.NewClientCerts(cas(orangeCA), ""), "", &server, "", 401},
		{"the subject by common name", ussd.NewClientCerts(cas(national), "ussd-gw-1.mtn.cm"), "", &mtn, "", 200},
		{"the subject by DNS name, any case", ussd.NewClientCerts(cas(national), "GW1.mtn.cm"), "", &mtn, "", 200},
		{"the subject by a pattern", ussd.NewClientCerts(cas(national), "*.mtn.cm"), "", &mtn, "", 200},
		{"one root, another operator's subject", ussd.NewClientCerts(cas(national), "*.mtn.cm"), "", &nexttel, "", 401},
		{"a pattern covers one label only", ussd.NewClientCerts(cas(national), "*.cm"), "", &mtn, "", 401},
		{"certificate and credential", ussd.NewClientCerts(cas(orangeCA), ""), "k", &orange, "k", 200},
		{"certificate without the credential", ussd.NewClientCerts(cas(orangeCA), ""), "k", &orange, "", 401},
		{"credential without the certificate", ussd.NewClientCerts(cas(orangeCA), ""), "k", nil, "k", 401},
	}
	// The handshake verifies against every operator's CAs; a state
	// without its chains is verified again by the handler.
	every := ussdtest.Pool(national, orangeCA)
	for _, tt := range tests {
		for _, handshake := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/handshake's chains %v", tt.label, handshake), func(t *testing.T) {
				step := &welcome{}
				h := &ussd.Handler{Op: ussd.Operator{Name: "op", Dialect: stub{}, Credential: tt.credential, Certs: tt.certs, Region: "CM"},
					Step: step, Log: slog.New(slog.DiscardHandler)}
				req := httptest.NewRequest(http.MethodPost, "/ussd/op", strings.NewReader(""))
				req.TLS = connection(t, tt.present, every, handshake)
				if tt.key != "" {
					req.Header.Set("X-Api-Key", tt.key)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tt.status || (tt.status == 200) != (step.hops == 1) {
					t.Errorf("got %d %q after %d hops, want %d", rec.Code, rec.Body, step.hops, tt.status)
				}
			})
		}
	}

	// Over plain HTTP there is no certificate to see.
	h := &ussd.Handler{Op: ussd.Operator{Name: "op", Dialect: stub{}, Certs: ussd.NewClientCerts(cas(orangeCA), ""), Region: "CM"},
		Step: &welcome{}, Log: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ussd/op", strings.NewReader("")))
	if rec.Code != 401 {
		t.Errorf("plain HTTP: %d, want 401", rec.Code)
	}
}

// connection is the TLS state of a connection on which cert was presented
// (none if nil) and, with handshake, verified against roots for client
// authentication, as crypto/tls does with ClientCAs.
func connection(t testing.TB, cert *tls.Certificate, roots *x509.CertPool, handshake bool) *tls.ConnectionState {
	t.Helper()
	cs := &tls.ConnectionState{HandshakeComplete: true}
	if cert == nil {
		return cs
	}
	inter := x509.NewCertPool()
	for i, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		cs.PeerCertificates = append(cs.PeerCertificates, c)
		if i > 0 {
			inter.AddCert(c)
		}
	}
	if handshake {
		// A certificate that fails here fails the handshake too: the
		// handler would never see it; it is left without chains.
		cs.VerifiedChains, _ = cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	}
	return cs
}

func TestCheckSubject(t *testing.T) {
	for s, ok := range map[string]bool{"ussd.mtn.cm": true, "*.mtn.cm": true, "MTN Cameroon USSD": true,
		"": false, "*": false, "*.": false, "gw-*.mtn.cm": false, "*.*.cm": false, "ussd.*": false} {
		if err := ussd.CheckSubject(s); (err == nil) != ok {
			t.Errorf("CheckSubject(%q) = %v, want ok %v", s, err, ok)
		}
	}
}

// What checking a client certificate costs a hop: a leaf and an
// intermediate under the operator's root, found in the chains the
// handshake verified, or verified again.
func BenchmarkClientCerts(b *testing.B) {
	national := ussdtest.NewCA(b, "National PKI root")
	mtn := national.Sub(b, "MTN issuing CA").Client(b, "ussd.mtn.cm")
	h := &ussd.Handler{Op: ussd.Operator{Name: "mtn", Dialect: stub{}, Region: "CM",
		Certs: ussd.NewClientCerts(cas(national), "*.mtn.cm")},
		Step: &welcome{}, Log: slog.New(slog.DiscardHandler)}
	for _, handshake := range []bool{true, false} {
		name := map[bool]string{true: "through the handshake's chains", false: "verified again"}[handshake]
		state := connection(b, &mtn, ussdtest.Pool(national), handshake)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/ussd/mtn", strings.NewReader(""))
				req.TLS = state
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

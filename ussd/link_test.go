package ussd_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
		certs      ussd.ClientCerts
		credential string
		present    *tls.Certificate
		key        string
		status     int
	}{
		{"its own CA's certificate", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "", &orange, "", 200},
		{"through an intermediate it sends", ussd.ClientCerts{Roots: ussdtest.Pool(national)}, "", &mtn, "", 200},
		{"its issuing CA as the only root", ussd.ClientCerts{Roots: ussdtest.Pool(mtnCA)}, "", &mtn, "", 200},
		{"another operator's CA", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "", &mtn, "", 401},
		{"no certificate", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "", nil, "", 401},
		{"a server certificate", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "", &server, "", 401},
		{"the subject by common name", ussd.ClientCerts{Roots: ussdtest.Pool(national), Subject: "ussd-gw-1.mtn.cm"}, "", &mtn, "", 200},
		{"the subject by DNS name, any case", ussd.ClientCerts{Roots: ussdtest.Pool(national), Subject: "GW1.mtn.cm"}, "", &mtn, "", 200},
		{"the subject by a pattern", ussd.ClientCerts{Roots: ussdtest.Pool(national), Subject: "*.mtn.cm"}, "", &mtn, "", 200},
		{"one root, another operator's subject", ussd.ClientCerts{Roots: ussdtest.Pool(national), Subject: "*.mtn.cm"}, "", &nexttel, "", 401},
		{"a pattern covers one label only", ussd.ClientCerts{Roots: ussdtest.Pool(national), Subject: "*.cm"}, "", &mtn, "", 401},
		{"certificate and credential", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "k", &orange, "k", 200},
		{"certificate without the credential", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "k", &orange, "", 401},
		{"credential without the certificate", ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, "k", nil, "k", 401},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			step := &welcome{}
			h := &ussd.Handler{Op: ussd.Operator{Name: "op", Dialect: stub{}, Credential: tt.credential, Certs: &tt.certs, Region: "CM"},
				Step: step, Log: slog.New(slog.DiscardHandler)}
			req := httptest.NewRequest(http.MethodPost, "/ussd/op", strings.NewReader(""))
			req.TLS = &tls.ConnectionState{HandshakeComplete: true}
			if tt.present != nil {
				for _, der := range tt.present.Certificate {
					c, err := x509.ParseCertificate(der)
					if err != nil {
						t.Fatal(err)
					}
					req.TLS.PeerCertificates = append(req.TLS.PeerCertificates, c)
				}
			}
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

	// Over plain HTTP there is no certificate to see.
	h := &ussd.Handler{Op: ussd.Operator{Name: "op", Dialect: stub{}, Certs: &ussd.ClientCerts{Roots: ussdtest.Pool(orangeCA)}, Region: "CM"},
		Step: &welcome{}, Log: slog.New(slog.DiscardHandler)}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/ussd/op", strings.NewReader("")))
	if rec.Code != 401 {
		t.Errorf("plain HTTP: %d, want 401", rec.Code)
	}
}

func TestCheckSubject(t *testing.T) {
	for s, ok := range map[string]bool{"ussd.mtn.cm": true, "*.mtn.cm": true, "MTN Cameroon USSD": true,
		"": false, "*": false, "*.": false, "gw-*.mtn.cm": false, "*.*.cm": false, "ussd.*": false} {
		if err := ussd.CheckSubject(s); (err == nil) != ok {
			t.Errorf("CheckSubject(%q) = %v, want ok %v", s, err, ok)
		}
	}
}

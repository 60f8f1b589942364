package main

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/guichet/guichet/phone/phonetest"
	"github.com/guichet/guichet/ussd/ussdtest"
)

// bootYAML runs serve on the configuration yaml (and env) on a free
// loopback port, waits until client gets /healthz from it and returns its
// address; serve stops at the end of the test.
func bootYAML(t *testing.T, yaml string, env map[string]string, scheme string, client *http.Client) (base string, logs *syncBuffer) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "guichet.yaml")
	if err := writeFile(file, yaml); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig([]string{"--config", file}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs = phonetest.NewLog(t)
	ln := freePort(t)
	base = scheme + "://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, ln, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve did not stop cleanly: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve: %v", err)
		default:
		}
		if resp, err := client.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not start in 10 s")
		}
	}
}

// firstHop posts an Africa's Talking first hop with client, and the
// credential key if not empty.
func firstHop(t *testing.T, client *http.Client, target, key string, header map[string]string) (int, string, error) {
	t.Helper()
	body := url.Values{"sessionId": {"s" + time.Now().Format("150405.000000000")}, "phoneNumber": {"+237677123456"},
		"serviceCode": {"*123#"}, "text": {""}}.Encode()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if key != "" {
		req.Header.Set("X-Api-Key", key)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// Operators' gateways prove themselves with client certificates over the
// gateway's own HTTPS: each operator's path takes only certificates of
// its own CAs (and subject, for operators under one national root), with
// the credential too when one is configured; the TLS layer asks for a
// certificate but requires none, so an operator with a shared secret and
// the probes need no certificate; a certificate of a CA no operator
// trusts does not get through the handshake.
func TestOperatorsMutualTLS(t *testing.T) {
	dir := t.TempDir()
	host := ussdtest.NewCA(t, "Gateway's CA")
	national := ussdtest.NewCA(t, "National PKI root")
	mtnCA := national.Sub(t, "MTN issuing CA")
	orangeCA := ussdtest.NewCA(t, "Orange CA")
	rogue := ussdtest.NewCA(t, "Nobody's CA")
	certFile, keyFile := ussdtest.WriteKeyPair(t, dir, "gateway", host.Server(t))
	nationalPEM := ussdtest.WritePEM(t, dir, "national.pem", national)
	orangePEM := ussdtest.WritePEM(t, dir, "orange.pem", orangeCA)

	yaml := `http: 127.0.0.1:0
tls: {cert_file: ` + certFile + `, key_file: ` + keyFile + `}
operators:
  - {name: mtn, dialect: africastalking, client_ca_file: ` + nationalPEM + `, client_subject: "*.mtn.cm"}
  - {name: nexttel, dialect: africastalking, client_ca_file: ` + nationalPEM + `, client_subject: ussd.nexttel.cm, credential_env: NEXTTEL_KEY}
  - {name: orange, dialect: africastalking, client_ca_file: ` + orangePEM + `}
  - {name: camtel, dialect: africastalking, credential: camtel-s3cret}
`
	client := func(cert *tls.Certificate) *http.Client {
		cfg := &tls.Config{RootCAs: ussdtest.Pool(host)}
		if cert != nil {
			// Sent whatever CAs the gateway names, as a stranger would.
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		tr := &http.Transport{TLSClientConfig: cfg}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	none := client(nil)
	base, logs := bootYAML(t, yaml, map[string]string{"NEXTTEL_KEY": "nexttel-s3cret"}, "https", none)

	mtn := mtnCA.Client(t, "ussd-gw-1.mtn.cm") // sent with MTN's issuing CA
	nexttel := national.Client(t, "ussd.nexttel.cm")
	orange := orangeCA.Client(t, "ussd.orange.cm")
	stranger := rogue.Client(t, "ussd.mtn.cm")
	tests := []struct {
		label, path string
		cert        *tls.Certificate
		key         string
		status      int
	}{
		{"MTN's certificate on MTN's path", "/ussd/mtn", &mtn, "", 200},
		{"MTN's certificate on Orange's path", "/ussd/orange", &mtn, "", 401},
		{"MTN's certificate, one root with Nexttel, on Nexttel's path with its key", "/ussd/nexttel", &mtn, "nexttel-s3cret", 401},
		{"Nexttel's certificate and key", "/ussd/nexttel", &nexttel, "nexttel-s3cret", 200},
		{"Nexttel's certificate without its key", "/ussd/nexttel", &nexttel, "", 401},
		{"Nexttel's certificate on MTN's path", "/ussd/mtn", &nexttel, "", 401},
		{"Orange's certificate on Orange's path", "/ussd/orange", &orange, "", 200},
		{"Orange's certificate on MTN's path", "/ussd/mtn", &orange, "", 401},
		{"no certificate on MTN's path", "/ussd/mtn", nil, "", 401},
		{"Nexttel's key without its certificate", "/ussd/nexttel", nil, "nexttel-s3cret", 401},
		{"a shared secret over HTTPS, no certificate", "/ussd/camtel", nil, "camtel-s3cret", 200},
		{"a certificate does not stand for a shared secret", "/ussd/camtel", &mtn, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			code, body, err := firstHop(t, client(tt.cert), base+tt.path, tt.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.status || tt.status == 200 && !strings.Contains(body, "Choisissez la langue") {
				t.Errorf("got %d %q, want %d", code, body, tt.status)
			}
		})
	}

	// A certificate of a CA no operator trusts ends at the handshake,
	// whatever the path; without one the probes answer.
	if code, _, err := firstHop(t, client(&stranger), base+"/ussd/camtel", "camtel-s3cret", nil); err == nil {
		t.Errorf("a stranger's certificate got through the handshake: %d", code)
	}
	if resp, err := none.Get(base + "/readyz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("/readyz without a certificate: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, want := range []string{"refused a request without a valid client certificate", "url=https://"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the logs lack %q:\n%s", want, logs.String())
		}
	}
}

// An operator's allow-list holds it to its networks, read from the TCP
// peer (a client dialling from 127.0.0.2 or 127.0.0.3) or, from a trusted
// proxy only (127.0.0.1 here), from X-Forwarded-For; loopback itself is
// granted nothing, and an operator without a list is not held.
func TestOperatorAllowList(t *testing.T) {
	yaml := `http: 127.0.0.1:0
trusted_proxies: [127.0.0.1/32]
operators:
  - {name: mtn, dialect: africastalking, credential: mtn-s3cret, allow: [203.0.113.0/24, 127.0.0.2/32]}
  - {name: orange, dialect: africastalking, credential: orange-s3cret}
`
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		tr := &http.Transport{DialContext: d.DialContext}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	base, logs := bootYAML(t, yaml, nil, "http", from("127.0.0.1"))
	tests := []struct {
		label, from, path, key, forwarded string
		status                            int
	}{
		{"a peer in the list", "127.0.0.2", "/ussd/mtn", "mtn-s3cret", "", 200},
		{"in the list, a wrong credential", "127.0.0.2", "/ussd/mtn", "nope", "", 401},
		{"a peer in the list, its forwarded address not believed", "127.0.0.2", "/ussd/mtn", "mtn-s3cret", "198.51.100.1", 200},
		{"a peer outside", "127.0.0.3", "/ussd/mtn", "mtn-s3cret", "", 403},
		{"a peer outside, its forwarded address not believed", "127.0.0.3", "/ussd/mtn", "mtn-s3cret", "203.0.113.5", 403},
		{"the trusted proxy forwarding an address in the list", "127.0.0.1", "/ussd/mtn", "mtn-s3cret", "203.0.113.5", 200},
		{"the trusted proxy forwarding an address outside", "127.0.0.1", "/ussd/mtn", "mtn-s3cret", "198.51.100.1", 403},
		{"the trusted proxy forwarding nothing: loopback is outside", "127.0.0.1", "/ussd/mtn", "mtn-s3cret", "", 403},
		{"an operator without a list", "127.0.0.3", "/ussd/orange", "orange-s3cret", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			var h map[string]string
			if tt.forwarded != "" {
				h = map[string]string{"X-Forwarded-For": tt.forwarded}
			}
			code, body, err := firstHop(t, from(tt.from), base+tt.path, tt.key, h)
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.status {
				t.Errorf("got %d %q, want %d", code, body, tt.status)
			}
		})
	}
	if !strings.Contains(logs.String(), "refused a request from outside the operator's networks") {
		t.Errorf("the 403s were not logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "allow list takes loopback") {
		t.Errorf("an allow-list of loopback went without a warning:\n%s", logs.String())
	}
}

// What is wrong with the links' configuration is said before anything
// starts, naming the operator, the file and the fault.
func TestLinkRefusals(t *testing.T) {
	dir := t.TempDir()
	host := ussdtest.NewCA(t, "Gateway's CA")
	national := ussdtest.NewCA(t, "National PKI root")
	mtnCA := national.Sub(t, "MTN issuing CA")
	cert, key := ussdtest.WriteKeyPair(t, dir, "gateway", host.Server(t))
	_, otherKey := ussdtest.WriteKeyPair(t, dir, "other", host.Server(t))
	nationalPEM := ussdtest.WritePEM(t, dir, "national.pem", national)
	mtnPEM := ussdtest.WritePEM(t, dir, "mtn.pem", mtnCA)
	notPEM := filepath.Join(dir, "notes.txt")
	if err := writeFile(notPEM, "the CA is on the USB stick\n"); err != nil {
		t.Fatal(err)
	}
	withKey := filepath.Join(dir, "with-key.pem")
	k, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	n, err := os.ReadFile(nationalPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeFile(withKey, string(n)+string(k)); err != nil {
		t.Fatal(err)
	}
	tlsOK := "tls: {cert_file: " + cert + ", key_file: " + key + "}\n"
	op := func(fields string) string {
		return tlsOK + "operators: [{name: mtn, dialect: africastalking, " + fields + "}]\n"
	}
	tests := []struct {
		name, yaml, want string
	}{
		{"a client CA without tls", "operators: [{name: mtn, dialect: africastalking, client_ca_file: " + nationalPEM + "}]",
			"operator mtn: client_ca_file needs tls:"},
		{"an unreadable client CA", op("client_ca_file: " + dir + "/missing.pem"), "operator mtn: client_ca_file: open " + dir + "/missing.pem: no such file"},
		{"no PEM in the client CA", op("client_ca_file: " + notPEM), "operator mtn: client_ca_file " + notPEM + " holds no PEM certificate"},
		{"a key in the client CA", op("client_ca_file: " + withKey), "block 2 is a PRIVATE KEY, not a CERTIFICATE"},
		{"a key that is not the certificate's", "tls: {cert_file: " + cert + ", key_file: " + otherKey + "}\n",
			"private key does not match public key"},
		{"an unreadable certificate", "tls: {cert_file: " + dir + "/none.pem, key_file: " + key + "}\n", "no such file"},
		{"a certificate without its key", "tls: {cert_file: " + cert + "}\n", "tls: needs both cert_file and key_file"},
		{"a network that is not one", op("credential: k, allow: [10.0.0/8]"), `operator mtn: allow: "10.0.0/8" is not a network`},
		{"a proxy that is not a network", "trusted_proxies: [proxy.local]\n", `trusted_proxies: "proxy.local" is not a network`},
		{"a subject without a CA", op("credential: k, client_subject: ussd.mtn.cm"), "operator mtn: client_subject needs a client_ca_file"},
		{"a subject of two stars", op("client_ca_file: " + nationalPEM + ", client_subject: '*.*.cm'"), "operator mtn: client_subject"},
		{"an empty credential_env beside a CA", op("client_ca_file: " + nationalPEM + ", credential_env: MTN_KEY"), "operator mtn: credential_env MTN_KEY is empty"},
		{"neither credential nor CA", op("allow: [10.0.0.0/8]"), "needs a credential (credential, credential_env or credential_file), a client_ca_file, or both"},
		{"two operators of one CA, no subject", tlsOK + "operators:\n" +
			"  - {name: mtn, dialect: africastalking, client_ca_file: " + nationalPEM + "}\n" +
			"  - {name: nexttel, dialect: africastalking, client_ca_file: " + nationalPEM + ", client_subject: ussd.nexttel.cm}\n",
			`operator mtn: its client_ca_file trusts operator nexttel's CA "National PKI root" too`},
		{"a root above another operator's CA, no subject", tlsOK + "operators:\n" +
			"  - {name: nexttel, dialect: africastalking, client_ca_file: " + nationalPEM + "}\n" +
			"  - {name: mtn, dialect: africastalking, client_ca_file: " + mtnPEM + "}\n",
			`operator nexttel: its client_ca_file trusts operator mtn's CA "MTN issuing CA" too`},
		{"two operators of one CA, one subject", tlsOK + "operators:\n" +
			"  - {name: mtn, dialect: africastalking, client_ca_file: " + nationalPEM + ", client_subject: '*.mtn.cm'}\n" +
			"  - {name: nexttel, dialect: africastalking, client_ca_file: " + nationalPEM + ", client_subject: '*.MTN.cm'}\n",
			"operators mtn and nexttel: one CA and one client_subject *.mtn.cm cannot tell them apart"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			if err := writeFile(file, tt.yaml); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig([]string{"--config", file}, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}

	// Under one root, operators told apart by their subjects, and an
	// operator's issuing CA that the root's operator does not take, pass.
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := writeFile(file, tlsOK+"operators:\n"+
		"  - {name: mtn, dialect: africastalking, client_ca_file: "+mtnPEM+"}\n"+
		"  - {name: nexttel, dialect: africastalking, client_ca_file: "+nationalPEM+", client_subject: ussd.nexttel.cm}\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig([]string{"--config", file}, func(string) string { return "" }); err != nil {
		t.Errorf("a sound configuration refused: %v", err)
	}
}

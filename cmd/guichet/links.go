package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/guichet/guichet/ussd"
)

// TLSConfig makes the gateway serve HTTPS itself, with the certificate
// (its chain after it) and key of these PEM files. When an operator has a
// client_ca_file, the gateway asks every client for a certificate of one
// of the operators' CAs, without requiring one: the console, the API and
// the probes work without. A certificate that chains to none of them is
// refused at the handshake.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func (c TLSConfig) on() bool { return c.CertFile != "" || c.KeyFile != "" }

// server is the listener's TLS configuration: nil without tls:.
func (c TLSConfig) server(ops []OperatorConfig) (*tls.Config, error) {
	if !c.on() {
		return nil, nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("tls: needs both cert_file and key_file")
	}
	// The errors of LoadX509KeyPair name files and what is wrong, never
	// the key's bytes.
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: %s and %s: %w", c.CertFile, c.KeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	all := x509.NewCertPool()
	asked := false
	for _, op := range ops {
		cas, err := op.clientCAs()
		if err != nil {
			return nil, err
		}
		for _, ca := range cas {
			all.AddCert(ca)
			asked = true
		}
	}
	if asked {
		// Any operator's CA gets through the handshake; which operator a
		// certificate proves is each handler's to say (ussd.ClientCerts).
		cfg.ClientCAs, cfg.ClientAuth = all, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// clientCAs reads the operator's client_ca_file: every block must be a
// certificate (a key put there by mistake is refused, not skipped).
func (op OperatorConfig) clientCAs() ([]*x509.Certificate, error) {
	if op.ClientCAFile == "" {
		return nil, nil
	}
	b, err := os.ReadFile(op.ClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("operator %s: client_ca_file: %w", op.Name, err)
	}
	var cas []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		if block, b = pem.Decode(b); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("operator %s: client_ca_file %s: block %d is a %s, not a CERTIFICATE", op.Name, op.ClientCAFile, n, block.Type)
		}
		ca, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("operator %s: client_ca_file %s: block %d: %w", op.Name, op.ClientCAFile, n, err)
		}
		cas = append(cas, ca)
	}
	if len(cas) == 0 {
		return nil, fmt.Errorf("operator %s: client_ca_file %s holds no PEM certificate", op.Name, op.ClientCAFile)
	}
	return cas, nil
}

// certs is what the operator's handler checks client certificates with:
// nil without client_ca_file.
func (op OperatorConfig) certs() (*ussd.ClientCerts, error) {
	cas, err := op.clientCAs()
	if err != nil || cas == nil {
		return nil, err
	}
	return ussd.NewClientCerts(cas, op.ClientSubject), nil
}

// allow reads the operator's allow-list.
func (op OperatorConfig) allow() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range op.Allow {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("operator %s: allow: %q is not a network such as 196.202.0.0/24", op.Name, s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// coversLoopback tells whether an allow-list lets loopback in: what every
// request is behind a proxy on the same host not named in trusted_proxies.
func coversLoopback(allow []netip.Prefix) bool {
	for _, p := range allow {
		if p.Overlaps(netip.MustParsePrefix("127.0.0.0/8")) || p.Contains(netip.IPv6Loopback()) {
			return true
		}
	}
	return false
}

// proxies reads trusted_proxies.
func (c Config) proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted_proxies: %q is not a network such as 10.0.0.5/32", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// checkLinks validates the operators' links: the gateway's own TLS, each
// operator's CAs, subject and networks, and that no operator's CAs take
// another's certificates for its own unless a subject tells them apart.
func (c Config) checkLinks() []string {
	var errs []string
	if _, err := c.proxies(); err != nil {
		errs = append(errs, err.Error())
	}
	if _, err := c.TLS.server(nil); err != nil {
		errs = append(errs, err.Error())
	}
	cas := map[string][]*x509.Certificate{}
	var every []*x509.Certificate
	for _, op := range c.Operators {
		if _, err := op.allow(); err != nil {
			errs = append(errs, err.Error())
		}
		if op.ClientSubject != "" {
			if op.ClientCAFile == "" {
				errs = append(errs, fmt.Sprintf("operator %s: client_subject needs a client_ca_file", op.Name))
			} else if err := ussd.CheckSubject(op.ClientSubject); err != nil {
				errs = append(errs, fmt.Sprintf("operator %s: client_subject %v", op.Name, err))
			}
		}
		if op.ClientCAFile == "" {
			continue
		}
		if !c.TLS.on() {
			errs = append(errs, fmt.Sprintf("operator %s: client_ca_file needs tls: (cert_file, key_file): client certificates are seen only by a gateway that serves HTTPS itself, never through a proxy that ends TLS", op.Name))
		}
		got, err := op.clientCAs()
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		cas[op.Name] = got
		every = append(every, got...)
	}
	// An operator whose CAs issued (or are) another's CA would take the
	// other's certificates as its own: only a subject tells them apart.
	inter := x509.NewCertPool()
	for _, ca := range every {
		inter.AddCert(ca)
	}
	for _, a := range c.Operators {
		for _, b := range c.Operators {
			if a.Name == b.Name || cas[a.Name] == nil || cas[b.Name] == nil {
				continue
			}
			ca, ok := trusts(cas[a.Name], cas[b.Name], inter)
			switch {
			case !ok:
			case a.ClientSubject == "":
				errs = append(errs, fmt.Sprintf("operator %s: its client_ca_file trusts operator %s's CA %q too: set client_subject, or %s's certificates are taken as %s's",
					a.Name, b.Name, ca.Subject.CommonName, b.Name, a.Name))
			case strings.EqualFold(a.ClientSubject, b.ClientSubject) && a.Name < b.Name:
				errs = append(errs, fmt.Sprintf("operators %s and %s: one CA and one client_subject %s cannot tell them apart", a.Name, b.Name, a.ClientSubject))
			}
		}
	}
	return errs
}

// trusts tells whether a certificate issued under one of the CAs bs
// would verify against the roots as: one of bs is one of as, or chains to
// one of them (through the other bundles' CAs), and which.
func trusts(as, bs []*x509.Certificate, inter *x509.CertPool) (*x509.Certificate, bool) {
	roots := x509.NewCertPool()
	for _, ca := range as {
		roots.AddCert(ca)
	}
	for _, b := range bs {
		for _, a := range as {
			if a.Equal(b) {
				return b, true
			}
		}
		if _, err := b.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			return b, true
		}
	}
	return nil, false
}

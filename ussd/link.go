package ussd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// ClientCerts are the client certificates (mutual TLS) an operator's
// gateway may prove itself with: those that chain, for client
// authentication, to one of Roots (the operator's own bundle of CAs),
// and, when Subject is set, name it.
//
// The TLS layer asks for certificates from any CA of any operator, so a
// certificate it accepted proves nothing about which operator it is:
// each handler verifies it again against its own operator's Roots.
//
// Made by NewClientCerts.
type ClientCerts struct {
	cas   []*x509.Certificate
	roots *x509.CertPool
	// Subject, if set, must be the certificate's subject common name or
	// one of its DNS names, compared without case; "*.mtn.cm" stands for
	// any one label in front of mtn.cm (as in TLS server names). It tells
	// apart operators whose certificates come from one CA (a national
	// PKI's).
	Subject string
}

// NewClientCerts takes the certificates proving an operator: those of its
// CAs (its bundle, one certificate at least), naming subject if not empty.
func NewClientCerts(cas []*x509.Certificate, subject string) *ClientCerts {
	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	return &ClientCerts{cas: cas, roots: roots, Subject: subject}
}

// CheckSubject says whether a Subject is one ClientCerts can match: a
// name, or "*." then a name, with no other "*".
func CheckSubject(s string) error {
	rest := strings.TrimPrefix(s, "*.")
	switch {
	case s == "":
		return errors.New("empty")
	case strings.Contains(rest, "*"):
		return fmt.Errorf("%q: a * stands only for the first label, as in *.mtn.cm", s)
	case rest == "":
		return fmt.Errorf("%q names nothing after the wildcard", s)
	}
	return nil
}

// check verifies the connection's client certificate against c.
func (c *ClientCerts) check(cs *tls.ConnectionState) error {
	if cs == nil {
		return errors.New("not over TLS: no client certificate")
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no client certificate")
	}
	leaf := cs.PeerCertificates[0]
	if !c.through(cs.VerifiedChains) {
		inter := x509.NewCertPool()
		for _, ca := range cs.PeerCertificates[1:] {
			inter.AddCert(ca)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return fmt.Errorf("client certificate %q is not this operator's: %w", leaf.Subject.CommonName, err)
		}
	}
	if c.Subject != "" && !matchSubject(c.Subject, leaf) {
		return fmt.Errorf("client certificate %q (names %s) does not name %s",
			leaf.Subject.CommonName, strings.Join(leaf.DNSNames, ", "), c.Subject)
	}
	return nil
}

// through tells whether one of the chains the handshake verified (for
// client authentication, against every operator's CAs) passes through one
// of c's CAs: the leaf is then validly issued under it, checked at least as
// strictly as Verify against c's roots alone would (the part of the chain
// above it adds checks, takes none away), at no cost to the hop (a Verify
// is two signature checks a request). Otherwise the caller verifies.
func (c *ClientCerts) through(chains [][]*x509.Certificate) bool {
	for _, chain := range chains {
		for _, cert := range chain {
			for _, ca := range c.cas {
				if cert.Equal(ca) {
					return true
				}
			}
		}
	}
	return false
}

// matchSubject tells whether the certificate's common name or one of its
// DNS names matches the pattern (CheckSubject).
func matchSubject(pattern string, cert *x509.Certificate) bool {
	for _, name := range append([]string{cert.Subject.CommonName}, cert.DNSNames...) {
		if name == "" {
			continue
		}
		if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
			label, rest, found := strings.Cut(name, ".")
			if found && label != "" && label != "*" && strings.EqualFold(rest, suffix) {
				return true
			}
		} else if strings.EqualFold(name, pattern) {
			return true
		}
	}
	return false
}

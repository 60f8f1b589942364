package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/guichet/guichet"
)

// Client is the HTTP client of callbacks: it dials only public addresses
// (no loopback, private, link-local, multicast or unspecified one, checked
// on the address dialled, so a name that resolves again elsewhere gains
// nothing) unless allow holds them, follows no redirect, and trusts roots
// (nil: the system's).
func Client(allow []netip.Prefix, roots *x509.CertPool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if !Allowed(ap.Addr(), allow) {
			return fmt.Errorf("webhook: %s is not a public address", ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: 10 * time.Second}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("webhook: callbacks follow no redirect") }}
}

// Allowed reports whether a callback may go to ip: a public address, or
// one allow holds.
func Allowed(ip netip.Addr, allow []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range notPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// notPublic are the ranges IsGlobalUnicast lets through that are no one's
// public address: shared (carrier-grade NAT, where some clouds keep their
// metadata service), the IETF's and benchmarking ones, reserved, and the
// IPv6 prefixes that carry an IPv4 address (NAT64, 6to4, Teredo) an
// attacker could point at an inside one.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("64:ff9b:1::/48"), netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001::/32"), netip.MustParsePrefix("2001:db8::/32"),
}

// Resolver looks names up (net.DefaultResolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL refuses a callback URL that is not HTTPS, carries credentials or
// a fragment, or whose host is (or resolves to) an address Allowed refuses:
// EINVALID, saying why.
func CheckURL(ctx context.Context, raw string, allow []netip.Prefix, r Resolver) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2000:
		return guichet.Errorf(guichet.EINVALID, "callback url: not a URL")
	case u.Scheme != "https":
		return guichet.Errorf(guichet.EINVALID, "callback url: must be https")
	case u.User != nil || u.Fragment != "":
		return guichet.Errorf(guichet.EINVALID, "callback url: no credentials or fragment")
	case u.Hostname() == "":
		return guichet.Errorf(guichet.EINVALID, "callback url: no host")
	}
	host := strings.TrimSuffix(u.Hostname(), ".")
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if ips, err = r.LookupNetIP(lctx, "ip", host); err != nil || len(ips) == 0 {
			return guichet.Errorf(guichet.EINVALID, "callback url: %s does not resolve", host)
		}
	}
	for _, ip := range ips {
		if !Allowed(ip, allow) {
			return guichet.Errorf(guichet.EINVALID, "callback url: %s is %s, not a public address", host, ip)
		}
	}
	return nil
}

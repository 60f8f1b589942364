// Package peer tells where an HTTP request comes from: its TCP peer, or,
// behind proxies the configuration trusts, the address they were handed.
// Nothing is taken on trust for being loopback: a proxy on the same host
// makes every request loopback.
package peer

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Addr is the address r comes from: its TCP peer, unless the peer is in
// one of proxies, in which case the nearest address of X-Forwarded-For
// that is not (or the farthest there is). An address that cannot be read,
// the peer's or one a trusted proxy was handed, is the invalid netip.Addr,
// which no network contains.
func Addr(r *http.Request, proxies []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	addr = addr.Unmap()
	if !Within(addr, proxies) {
		return addr
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return netip.Addr{}
		}
		if addr = a.Unmap(); !Within(addr, proxies) {
			break
		}
	}
	return addr
}

// Within tells whether a is in one of the networks.
func Within(a netip.Addr, networks []netip.Prefix) bool {
	for _, p := range networks {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

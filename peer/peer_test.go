package peer_test

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/guichet/guichet/peer"
)

// A request's address is its TCP peer's, unless the peer is a trusted
// proxy: then the nearest forwarded address that is not one. Loopback is
// no proxy unless configured; an unreadable address is invalid.
func TestAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("::1/128")}
	for _, tt := range []struct {
		name, remote string
		forwarded    []string
		want         string // "" for the invalid address
	}{
		{"a peer that is no proxy", "198.51.100.7:443", []string{"203.0.113.9"}, "198.51.100.7"},
		{"loopback is no proxy unless listed", "127.0.0.1:5000", []string{"203.0.113.9"}, "127.0.0.1"},
		{"a trusted proxy's client", "10.0.0.5:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"two proxies", "10.0.0.5:80", []string{"203.0.113.9, 10.0.0.6"}, "203.0.113.9"},
		{"two headers, the nearest last", "10.0.0.5:80", []string{"192.0.2.1", "203.0.113.9"}, "203.0.113.9"},
		{"a spoofed hop before the client is not believed", "10.0.0.5:80", []string{"192.0.2.66, 203.0.113.9"}, "203.0.113.9"},
		{"a proxy that forwards nothing", "10.0.0.5:80", nil, "10.0.0.5"},
		{"garbage from a trusted proxy", "10.0.0.5:80", []string{"not-an-address"}, ""},
		{"IPv6 loopback listed", "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4-mapped", "[::ffff:198.51.100.7]:443", nil, "198.51.100.7"},
		{"no address", "pipe", nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, f := range tt.forwarded {
				r.Header.Add("X-Forwarded-For", f)
			}
			got := peer.Addr(r, proxies)
			if want := tt.want; want == "" && got.IsValid() || want != "" && got.String() != want {
				t.Errorf("Addr = %v, want %q", got, want)
			}
			if tt.want == "" && peer.Within(got, []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}) {
				t.Error("an invalid address is within a network")
			}
		})
	}
}

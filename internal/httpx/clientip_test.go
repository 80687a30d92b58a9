package httpx

import (
	"net/http/httptest"
	"testing"
)

func TestClientAddress(t *testing.T) {
	proxies, err := ParseProxies("10.0.0.0/8, 127.0.0.1, 2001:db8:1::/48")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		d      *Deps
		remote string
		xff    []string
		want   string
	}{
		{"no proxy: the peer, whatever the header", &Deps{}, "198.51.100.1:5000", []string{"1.2.3.4"}, "198.51.100.1"},
		{"untrusted peer", &Deps{TrustedProxies: proxies}, "198.51.100.1:5000", []string{"1.2.3.4"}, "198.51.100.1"},
		{"trusted peer: the rightmost untrusted", &Deps{TrustedProxies: proxies}, "10.0.0.1:80", []string{"6.6.6.6, 203.0.113.5, 10.0.0.7"}, "203.0.113.5"},
		{"several headers count as one list", &Deps{TrustedProxies: proxies}, "127.0.0.1:80", []string{"6.6.6.6", "203.0.113.9", "10.1.1.1"}, "203.0.113.9"},
		{"every hop trusted: the leftmost", &Deps{TrustedProxies: proxies}, "127.0.0.1:80", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"garbage stops the walk", &Deps{TrustedProxies: proxies}, "127.0.0.1:80", []string{"6.6.6.6, junk, 10.0.0.6"}, "10.0.0.6"},
		{"no header: the proxy", &Deps{TrustedProxies: proxies}, "127.0.0.1:80", nil, "127.0.0.1"},
		{"IPv6 proxy", &Deps{TrustedProxies: proxies}, "[2001:db8:1::9]:443", []string{"2001:db8:2::1"}, "2001:db8:2::1"},
		{"mapped IPv4 peer", &Deps{TrustedProxies: proxies}, "[::ffff:10.0.0.1]:80", []string{"::ffff:203.0.113.1"}, "203.0.113.1"},
		{"--trust-proxy: one hop, the rightmost", &Deps{TrustProxy: true}, "192.0.2.1:80", []string{"6.6.6.6, 203.0.113.5"}, "203.0.113.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, h := range tc.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := tc.d.ClientIP(r); got != tc.want {
				t.Errorf("client %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "nope", "::ffff:0.0.0.0/0"} {
		if _, err := ParseProxies(bad); err == nil {
			t.Errorf("ParseProxies(%q) took it", bad)
		}
	}
}

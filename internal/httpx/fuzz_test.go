package httpx

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// FuzzClientAddress: whatever X-Forwarded-For says, the client is an
// address, and it is the peer itself unless the peer is a trusted proxy.
func FuzzClientAddress(f *testing.F) {
	f.Add("203.0.113.7, 10.0.0.2", "10.0.0.1:1234")
	f.Add("garbage,, ::1, 2001:db8::1", "[2001:db8::9]:443")
	f.Add("", "192.0.2.1:80")
	proxies, _ := ParseProxies("10.0.0.0/8, 2001:db8::/32")
	d := &Deps{TrustedProxies: proxies}
	f.Fuzz(func(t *testing.T, xff, remote string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := d.ClientIP(r)
		peer, err := netip.ParseAddrPort(remote)
		if err != nil {
			return // not an address: nothing is believed
		}
		if !d.trusted(peer.Addr()) && got != peer.Addr().Unmap().String() {
			t.Fatalf("untrusted peer %s, client %q", remote, got)
		}
		if _, err := netip.ParseAddr(got); err != nil {
			t.Fatalf("client %q is not an address", got)
		}
	})
}

// FuzzSignedValue: Verify accepts exactly what Sign made.
func FuzzSignedValue(f *testing.F) {
	d := &Deps{Secret: []byte("a secret of at least thirty-two bytes")}
	f.Add("eyJtIjoiMjAyNi0wMyIsImEiOltdfQ", "eyJtIjoiMjAyNi0wMyIsImEiOltdfQ.sig")
	f.Add("", ".")
	f.Fuzz(func(t *testing.T, value, cookie string) {
		if v, ok := d.Verify(d.Sign(value)); !ok || v != value {
			t.Fatalf("a signed value did not verify: %q", value)
		}
		if v, ok := d.Verify(cookie); ok && d.Sign(v) != cookie {
			t.Fatalf("accepted %q, which Sign did not make", cookie)
		}
	})
}

// FuzzParseProxies: a list parses into prefixes or is refused, never both.
func FuzzParseProxies(f *testing.F) {
	f.Add("10.0.0.0/8, 192.168.1.1, ::ffff:10.0.0.0/104, 2001:db8::/32")
	f.Add("10.0.0.0/33")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProxies(s)
		if err != nil && p != nil {
			t.Fatal("prefixes with an error")
		}
		for _, x := range p {
			if !x.IsValid() {
				t.Fatalf("invalid prefix from %q", s)
			}
		}
	})
}

package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseProxies reads KIOSKO_TRUSTED_PROXIES: a comma-separated list of
// CIDR prefixes (a bare address is its own /32 or /128).
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or a CIDR prefix", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8", f)
		}
		if p.Addr().Is4In6() {
			// An IPv4-mapped prefix names IPv4 addresses; shorter than
			// ::ffff:0:0/96 it would name IPv6 ones too (found by fuzzing).
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", f)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (d *Deps) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range d.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the client's address: the peer's, unless the peer is a
// trusted proxy; then the rightmost X-Forwarded-For address that is not a
// trusted proxy. Addresses left of it were written by the client or by
// proxies nobody vouches for, so they are never believed. With the older
// TrustProxy setting alone, the peer (one proxy, whatever its address) is
// trusted and nothing more.
func (d *Deps) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	oneHop := d.TrustProxy && len(d.TrustedProxies) == 0
	if !oneHop && !d.trusted(peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: stop at the last address a proxy we trust vouched for
		}
		client = a.Unmap()
		if oneHop || !d.trusted(client) {
			break
		}
	}
	return client.String()
}

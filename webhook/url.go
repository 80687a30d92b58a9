package webhook

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/kiosko/kiosko"
)

// Guard decides which endpoint addresses are allowed. The zero Guard
// refuses loopback, private, link-local and other non-public addresses
// (so a webhook cannot be aimed at the publisher's own network); an admin
// allows them with KIOSKO_WEBHOOK_ALLOW_PRIVATE=true.
type Guard struct {
	AllowPrivate bool
	Resolver     *net.Resolver // nil: net.DefaultResolver
}

func errURL(msg string) *kiosko.Error {
	return kiosko.FieldError("url", "error.webhook_url_invalid", msg)
}

// CheckURL refuses a URL that is not absolute http(s), or whose host
// resolves to an address the guard does not allow.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return errURL("The webhook URL must be an absolute http:// or https:// URL without a user name.")
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		r := g.Resolver
		if r == nil {
			r = net.DefaultResolver
		}
		ips, err := r.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return kiosko.FieldError("url", "error.webhook_url_unresolved", fmt.Sprintf("The host %s of the webhook URL cannot be found.", host))
		}
		addrs = ips
	}
	for _, a := range addrs {
		if err := g.checkAddr(a); err != nil {
			return err
		}
	}
	return nil
}

func (g Guard) checkAddr(a netip.Addr) error {
	if g.AllowPrivate || Public(a) {
		return nil
	}
	return kiosko.FieldError("url", "error.webhook_url_private",
		fmt.Sprintf("The webhook URL points at %s, a loopback or private address; an admin may allow those with KIOSKO_WEBHOOK_ALLOW_PRIVATE=true.", a))
}

// Public reports whether a is a public unicast address.
func Public(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// nonPublic are ranges net/netip does not name but no webhook should reach.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// Client returns the HTTP client deliveries use: it checks every address
// it dials (so a name that resolves differently later is still refused),
// follows no redirects and gives up after timeout.
func (g Guard) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		return g.checkAddr(ap.Addr())
	}}
	return &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, Proxy: nil, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/geoip"
)

// signInFrom signs b in as if from the client address ip, behind the
// site's trusted proxy.
func (b *browser) signInFrom(email, pw, ip string) {
	b.e.t.Helper()
	form := url.Values{"email": {email}, "password": {pw}, "tz": {"Europe/Madrid"}}
	req, _ := http.NewRequest("POST", b.e.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", b.ua)
	req.Header.Set("X-Forwarded-For", ip)
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("sign in from %s: %d", ip, res.StatusCode)
	}
}

// TestDeviceListShowsCountryAndTellsTwinsApart: the place of a device is
// the country of its address in the page's language (never the address,
// never a time zone), and two devices of the same browser and OS are
// numbered by when they were first seen.
func TestDeviceListShowsCountryAndTellsTwinsApart(t *testing.T) {
	e := newEnv(t)
	e.d.Auth.Country = geoip.Country
	e.d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	laptop, desk := e.browser("es"), e.browser("es")
	laptop.signInFrom("digital@kiosko.test", demo.Password, "8.8.8.8")
	e.clock.Add(3600e9)
	desk.signInFrom("digital@kiosko.test", demo.Password, "2001:4860:4860::8888")
	p := laptop.get("/account")
	body := text(p.body)
	if !strings.Contains(body, "Estados Unidos") {
		t.Errorf("no country on the device list:\n%s", body)
	}
	for _, leak := range []string{"8.8.8", "2001:4860", "Europe/Madrid"} {
		if strings.Contains(p.body, leak) {
			t.Errorf("the device list shows %q", leak)
		}
	}
	if !strings.Contains(body, "Firefox · Linux (1)") {
		t.Fatalf("twin devices are not numbered:\n%s", body)
	}
	if !strings.Contains(body, "(2)") {
		t.Errorf("the second twin is not numbered:\n%s", body)
	}
	if p := e.browser("en").get("/account"); p.status != http.StatusSeeOther {
		t.Errorf("anonymous /account: %d", p.status)
	}
}

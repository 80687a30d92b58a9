package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
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

// TestDeviceListShowsEachDevicesLanguage: every device says the language
// it reads in, named in the page's language: the browser's at sign-in, and
// the one the reader switches it to afterwards (written with the next
// last-seen batch).
func TestDeviceListShowsEachDevicesLanguage(t *testing.T) {
	e := newEnv(t)
	e.d.Auth.Seen = &kiosko.DeviceActivity{Store: e.store}
	laptop, phone := e.browser("es"), e.browser("en")
	phone.ua = "Mozilla/5.0 (Android 15; Mobile; rv:140.0) Gecko/140.0 Firefox/140.0"
	laptop.signIn("digital@kiosko.test", demo.Password)
	phone.signIn("digital@kiosko.test", demo.Password)
	ctx := t.Context()
	acct, err := e.store.FindAccountByEmail(ctx, "digital@kiosko.test")
	if err != nil {
		t.Fatal(err)
	}
	langs := func() map[string]string {
		devs, err := e.store.FindSignedInDevices(ctx, acct.ID, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, d := range devs {
			out[d.Name] = d.Lang
		}
		return out
	}
	if got := langs(); got["Firefox · Linux"] != "es" || got["Firefox · Android"] != "en" {
		t.Fatalf("languages at sign-in: %v", got)
	}
	body := text(laptop.get("/account").body)
	if !strings.Contains(body, "lee en español") || !strings.Contains(body, "lee en inglés") {
		t.Fatalf("the device list does not say each device's language:\n%s", body)
	}
	// The phone's reader switches to Spanish; after the batch the list says so.
	if p := phone.post("/language", url.Values{"lang": {"es"}, "next": {"/account"}}); p.status != http.StatusSeeOther {
		t.Fatalf("language switch: %d", p.status)
	}
	phone.get("/account")
	if err := e.d.Auth.Seen.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := langs(); got["Firefox · Android"] != "es" || got["Firefox · Linux"] != "es" {
		t.Errorf("languages after the switch: %v", got)
	}
	if body := text(phone.get("/account").body); strings.Contains(body, "inglés") || !strings.Contains(body, "lee en español") {
		t.Errorf("the list after the switch:\n%s", body)
	}
}

package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
)

// showsBody reports whether the page carries the article's text.
func showsBody(p page, a *kiosko.Article) bool {
	return p.has(`id="article-body"`) && p.has(paragraph(a, 0))
}

// paragraph is the HTML of a's paragraph i, as the page carries it.
func paragraph(a *kiosko.Article, i int) string {
	ps := strings.Split(a.BodyHTML, "</p>")
	return strings.TrimSpace(ps[i]) + "</p>"
}

func articlePath(a *kiosko.Article) string { return "/" + a.Edition + "/" + a.ID }

func TestFrontPage(t *testing.T) {
	e := newEnv(t)
	t.Run("root sends readers to their language's edition", func(t *testing.T) {
		for lang, want := range map[string]string{"es-ES,es;q=0.9": "/es/", "en-US,en;q=0.9": "/us/", "": "/es/"} {
			if p := e.browser(lang).get("/"); p.status != http.StatusSeeOther || p.location() != want {
				t.Errorf("Accept-Language %q: %d to %q, want 303 to %q", lang, p.status, p.location(), want)
			}
		}
	})
	t.Run("lists the edition's articles newest first, marking subscriber ones", func(t *testing.T) {
		arts, err := e.store.FindArticles(t.Context(), kiosko.ArticleFilter{Edition: "us"})
		if err != nil {
			t.Fatal(err)
		}
		p := e.browser("").get("/us/")
		if p.status != http.StatusOK {
			t.Fatalf("status %d", p.status)
		}
		last := -1
		for _, a := range arts {
			i := strings.Index(p.body, `href="/us/`+a.ID+`"`)
			if i < 0 {
				t.Fatalf("front page does not link %s", a.ID)
			}
			if i < last {
				t.Errorf("%s is listed out of order", a.ID)
			}
			last = i
		}
		sub := e.articles("us", kiosko.AccessSubscriber)[0]
		card := regexp.MustCompile(`(?s)<article class="card[^"]*" data-access="subscriber">\s*<p class="badge">Subscribers</p>\s*<h2 class="headline"><a href="/us/` + sub.ID + `"`)
		if !card.MatchString(p.body) {
			t.Errorf("subscriber article %s is not marked", sub.ID)
		}
		if !p.has(`<html lang="en">`) {
			t.Error("the U.S. edition is not in English")
		}
		if es := e.browser("en").get("/es/"); !es.has(`<html lang="es">`) || !es.has("Suscriptores") {
			t.Error("the Spanish edition is not in Spanish for an English browser")
		}
	})
	t.Run("unknown edition is a 404 page", func(t *testing.T) {
		p := e.browser("es").get("/xx/")
		if p.status != http.StatusNotFound || !p.has("Página no encontrada") {
			t.Errorf("status %d, body %q", p.status, text(p.body))
		}
		p = e.browser("en").get("/no/such/page/here")
		if p.status != http.StatusNotFound || !p.has("Page not found") {
			t.Errorf("status %d, body %q", p.status, text(p.body))
		}
		if p := e.browser("en").get("/us/no-such-article"); p.status != http.StatusNotFound {
			t.Errorf("unknown article: status %d", p.status)
		}
		// An article of another edition is not found under this one.
		es := e.articles("es", kiosko.AccessFree)[0]
		if p := e.browser("en").get("/us/" + es.ID); p.status != http.StatusNotFound {
			t.Errorf("article under the wrong edition: status %d", p.status)
		}
	})
}

func TestAnonymousMeter(t *testing.T) {
	e := newEnv(t)
	free := append(e.articles("es", kiosko.AccessFree), e.addFreeArticles("es", 8)...)
	b := e.browser("es")
	for i, a := range free[:10] {
		p := b.get(articlePath(a))
		if p.status != http.StatusOK || !showsBody(p, a) {
			t.Fatalf("free article %d (%s) is not shown: %d", i+1, a.ID, p.status)
		}
		switch left := 9 - i; left {
		case 0:
			if !p.has("Este es tu último artículo gratuito de este mes.") {
				t.Errorf("article %d: no last-article notice", i+1)
			}
		case 1:
			if !p.has("Te queda 1 artículo gratuito este mes.") {
				t.Errorf("article %d: no meter notice", i+1)
			}
		default:
			if want := "Te quedan " + strconv.Itoa(left) + " artículos gratuitos este mes."; !p.has(want) {
				t.Errorf("article %d: want %q", i+1, want)
			}
		}
	}
	// The 11th meets the registration wall, without its body.
	p := b.get(articlePath(free[10]))
	if showsBody(p, free[10]) || !p.has(`data-wall="register"`) || !p.has(`href="/signup?next=`) {
		t.Fatalf("11th free article is not behind the registration wall:\n%s", text(p.body))
	}
	// Reading again one already opened costs nothing, and never claims
	// to be the last free article: that one was read already.
	if p := b.get(articlePath(free[3])); !showsBody(p, free[3]) {
		t.Error("an article already read this month is walled")
	} else if p.has("último artículo gratuito") || !p.has("Ya no te quedan artículos gratuitos este mes, pero puedes volver a leer los que ya has abierto.") {
		t.Errorf("re-read after the meter ran out: %s", regexp.MustCompile(`(?s)<p class="meter".*?</p>`).FindString(p.body))
	}
	// Next month the meter starts again.
	e.clock.Add(31 * 24 * time.Hour)
	if p := b.get(articlePath(free[10])); !showsBody(p, free[10]) {
		t.Error("the meter did not start again in a new month")
	}
}

func TestTamperedMeterCookie(t *testing.T) {
	e := newEnv(t)
	a := e.articles("us", kiosko.AccessFree)[0]
	b := e.browser("en")
	if p := b.get(articlePath(a)); !showsBody(p, a) {
		t.Fatal("first free article walled")
	}
	u, _ := url.Parse(e.srv.URL)
	var value string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == httpx.MeterCookie {
			value = c.Value
		}
	}
	if value == "" {
		t.Fatal("no meter cookie")
	}
	other := e.articles("us", kiosko.AccessFree)[1]
	for name, forged := range map[string]string{
		"signature changed": value[:len(value)-2] + "xx",
		"content changed":   "A" + value[1:],
		"garbage":           "not-a-meter",
		"signed garbage":    e.d.Sign("%%%"),
	} {
		req, _ := http.NewRequest("GET", e.srv.URL+articlePath(other), nil)
		req.AddCookie(&http.Cookie{Name: httpx.MeterCookie, Value: forged})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		p := page{status: res.StatusCode, body: string(data)}
		if showsBody(p, other) || !p.has(`data-wall="register"`) {
			t.Errorf("%s: a tampered meter cookie still reads", name)
		}
	}
}

func TestRegisteredMeter(t *testing.T) {
	e := newEnv(t)
	free := append(e.articles("us", kiosko.AccessFree), e.addFreeArticles("us", 17)...)
	b := e.browser("en")
	b.signIn("free@kiosko.test", demo.Password)
	for i, a := range free[:20] {
		p := b.get(articlePath(a))
		if !showsBody(p, a) {
			t.Fatalf("free account: article %d walled", i+1)
		}
		if i == 0 && !p.has("19 free articles left this month.") {
			t.Errorf("free account: meter notice missing: %s", text(p.body))
		}
	}
	p := b.get(articlePath(free[20]))
	if showsBody(p, free[20]) || !p.has(`data-wall="subscribe"`) || !p.has("You have read your 20 free articles this month") {
		t.Fatalf("21st article for a free account is not behind the subscribe wall: %s", text(p.body))
	}
}

func TestSubscriberArticle(t *testing.T) {
	e := newEnv(t)
	sub := e.articles("us", kiosko.AccessSubscriber)[0]
	t.Run("anonymous readers meet the subscribe wall", func(t *testing.T) {
		p := e.browser("en").get(articlePath(sub))
		if showsBody(p, sub) || !p.has(`data-wall="subscribe"`) || !p.has(`href="/plans"`) || !p.has(`href="/signin?next=`) {
			t.Fatalf("not walled: %s", text(p.body))
		}
	})
	t.Run("free accounts meet the subscribe wall", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("free@kiosko.test", demo.Password)
		p := b.get(articlePath(sub))
		if showsBody(p, sub) || !p.has("This article is for subscribers") {
			t.Fatalf("not walled: %s", text(p.body))
		}
	})
	t.Run("a seat reads it, with the page script's settings", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("digital@kiosko.test", demo.Password)
		p := b.get(articlePath(sub))
		if !showsBody(p, sub) {
			t.Fatalf("subscriber cannot read: %s", text(p.body))
		}
		for _, want := range []string{`data-reading="true"`, `data-heartbeat-every="30"`, `data-article="` + sub.ID + `"`,
			`<section id="interstitial"`, `data-events="/api/v1/reading/events"`, `<script src="/static/reading.`, `id="sharing-banner"`, `id="signed-out"`} {
			if !p.has(want) {
				t.Errorf("page lacks %s", want)
			}
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style=`).MatchString(strings.ReplaceAll(p.body, `<script type="application/ld+json">`, "")) {
			t.Error("inline script or style")
		}
	})
}

func TestJSONLD(t *testing.T) {
	e := newEnv(t)
	for _, a := range []*kiosko.Article{e.articles("es", kiosko.AccessSubscriber)[0], e.articles("es", kiosko.AccessFree)[0]} {
		p := e.browser("es").get(articlePath(a))
		m := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("%s: no JSON-LD", a.ID)
		}
		var ld struct {
			Type    string `json:"@type"`
			Free    *bool  `json:"isAccessibleForFree"`
			Head    string `json:"headline"`
			HasPart struct {
				Type     string `json:"@type"`
				Free     *bool  `json:"isAccessibleForFree"`
				Selector string `json:"cssSelector"`
			} `json:"hasPart"`
		}
		if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
			t.Fatalf("%s: JSON-LD does not parse: %v\n%s", a.ID, err, m[1])
		}
		if ld.Type != "NewsArticle" || ld.Free == nil || *ld.Free || ld.Head != a.Title ||
			ld.HasPart.Type != "WebPageElement" || ld.HasPart.Free == nil || *ld.HasPart.Free || ld.HasPart.Selector != ".paywalled" {
			t.Errorf("%s: JSON-LD %s", a.ID, m[1])
		}
	}
	// The selector names an element of every article page: around the
	// body when it is shown, around the wall when it is not.
	for _, a := range []*kiosko.Article{e.articles("es", kiosko.AccessFree)[0], e.articles("es", kiosko.AccessSubscriber)[0]} {
		p := e.browser("es").get(articlePath(a))
		if !regexp.MustCompile(`(?s)<div class="paywalled">\s*(<div class="article-body" id="article-body">|<section class="wall")`).MatchString(p.body) {
			t.Errorf("%s: no .paywalled element around the body or the wall", a.ID)
		}
	}
}

func TestOneDeviceAtATime(t *testing.T) {
	e := newEnv(t)
	sub := e.articles("es", kiosko.AccessSubscriber)[0]
	laptop, phone := e.browser("es"), e.browser("es")
	phone.ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Mobile Safari/537.36"
	laptop.signIn("digital@kiosko.test", demo.Password)
	phone.signIn("digital@kiosko.test", demo.Password)

	if p := laptop.get(articlePath(sub)); !showsBody(p, sub) {
		t.Fatal("the first device cannot read")
	}
	p := phone.get(articlePath(sub))
	if showsBody(p, sub) || p.has(paragraph(sub, 1)) {
		t.Fatal("a second device got the body during a conflict")
	}
	for _, want := range []string{
		`<section id="interstitial"`, "Tu suscripción se está leyendo en otro dispositivo", "Firefox", // the laptop's name
		"Una suscripción se puede leer en un solo dispositivo a la vez.",
		`<form method="post" action="` + articlePath(sub) + `/takeover"`, `id="continue-here"`, "Seguir leyendo aquí",
		"El otro dispositivo dejará de mostrar", `href="/plans#plan-premium"`, `href="/business"`, `href="/account/password"`, `href="/terms#one-device"`,
		// The seven things of DESIGN.md, each its own line; adding another
		// person is a choice of its own, beside "continue reading here".
		"la otra persona tiene su propio acceso, con su correo y su contraseña", `id="add-user"`, "Añadir a otra persona",
		"quien la administra puede darte más cuentas", "este mensaje aparecerá en los dos dispositivos de forma indefinida",
	} {
		if !p.has(want) {
			t.Errorf("interstitial lacks %q", want)
		}
	}
	if regexp.MustCompile(`<section id="interstitial"[^>]*hidden`).MatchString(p.body) {
		t.Error("interstitial is hidden on a conflict")
	}

	// Continue reading here, with JavaScript off.
	p = phone.post(articlePath(sub)+"/takeover", url.Values{})
	if p.status != http.StatusSeeOther || p.location() != articlePath(sub) {
		t.Fatalf("takeover: %d to %q", p.status, p.location())
	}
	if p := phone.get(articlePath(sub)); !showsBody(p, sub) {
		t.Fatal("the phone cannot read after taking over")
	}
	if p := laptop.get(articlePath(sub)); showsBody(p, sub) || !p.has("Chrome") {
		t.Fatal("the laptop still reads after the phone took over")
	}
	// The account page says which device reads now.
	acct := laptop.get("/account")
	if !regexp.MustCompile(`(?s)<li class="device"[^>]*>\s*<div class="device-head">\s*<strong class="device-name">Chrome[^<]*</strong> <span class="tag reading">leyendo ahora</span>`).MatchString(acct.body) {
		t.Errorf("account page does not show the phone reading: %s", text(acct.body))
	}
	// Anonymous takeover goes to sign in.
	if p := e.browser("es").post(articlePath(sub)+"/takeover", url.Values{}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/signin") {
		t.Errorf("anonymous takeover: %d to %q", p.status, p.location())
	}
}

func TestSharingBanner(t *testing.T) {
	e := newEnv(t)
	sub := e.articles("us", kiosko.AccessSubscriber)[0]
	a, b := e.browser("en"), e.browser("en")
	a.signIn("digital@kiosko.test", demo.Password)
	b.signIn("digital@kiosko.test", demo.Password)
	hidden := regexp.MustCompile(`<div id="sharing-banner"[^>]*hidden`)
	if p := a.get("/plans"); !p.has(`id="sharing-banner"`) || !hidden.MatchString(p.body) {
		t.Fatal("banner should be in the page, hidden")
	}
	a.get(articlePath(sub))
	// Each takeover taken back at once makes the one before count.
	for i := range 4 {
		e.clock.Add(time.Second)
		who := b
		if i%2 == 1 {
			who = a
		}
		if p := who.post(articlePath(sub)+"/takeover", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("takeover %d: %d", i, p.status)
		}
	}
	for _, path := range []string{"/plans", "/us/", "/account"} {
		for _, who := range []*browser{a, b} {
			p := who.get(path)
			if hidden.MatchString(p.body) || !p.has("This account appears to be shared.") || !p.has(`href="/account/password"`) {
				t.Errorf("%s: no sharing banner", path)
			}
		}
	}
}

package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/billing"
	"github.com/kiosko/kiosko/internal/demo"
)

// TestLanguageFollowsTheEdition: a reader with an English browser who
// reads the Spanish edition stays in Spanish through sign-up, the account
// and the billing pages, and the account keeps Spanish for its emails.
func TestLanguageFollowsTheEdition(t *testing.T) {
	e := newEnv(t)
	b := e.browser("en-US,en;q=0.9")
	a := e.articles("es", kiosko.AccessFree)[0]
	art := b.get(articlePath(a))
	if !art.has(`href="/signup?next=` + url.QueryEscape(articlePath(a)) + `"`) {
		t.Fatalf("no sign-up link back to the article")
	}
	// Even a browser that keeps no cookie gets the edition of ?next=.
	if p := e.browser("en").get("/signup?next=" + url.QueryEscape(articlePath(a))); !p.has(`<html lang="es">`) || !p.has("Crea tu cuenta gratuita") {
		t.Errorf("sign-up from a Spanish article is not in Spanish")
	}
	for _, path := range []string{"/signup", "/signin", "/plans", "/terms", "/business"} {
		if p := b.get(path); !p.has(`<html lang="es">`) {
			t.Errorf("%s after reading the Spanish edition is not in Spanish", path)
		}
	}
	p := b.post("/signup", url.Values{"email": {"lectora@example.com"}, "password": {"una frase larga de prueba"}, "next": {articlePath(a)}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("sign-up: %d %s", p.status, text(p.body))
	}
	acct, err := e.store.FindAccountByEmail(context.Background(), "lectora@example.com")
	if err != nil || acct.Lang != kiosko.LangSpanish {
		t.Fatalf("the new account's language is %q (%v), want es", acct.Lang, err)
	}
	if p := b.get("/account"); !p.has(`<html lang="es">`) || !p.has("Mi cuenta") {
		t.Errorf("the account page is not in Spanish")
	}

	// Reading the U.S. edition moves the reader, and the account, to English.
	b.get("/us/")
	if p := b.get("/account"); !p.has(`<html lang="en">`) || !p.has("My account") {
		t.Errorf("the account page did not follow the U.S. edition")
	}
	if acct, _ := e.store.FindAccountByEmail(context.Background(), "lectora@example.com"); acct.Lang != kiosko.LangEnglish {
		t.Errorf("account language %q after reading the U.S. edition, want en", acct.Lang)
	}
}

// TestLanguageSwitch: the masthead's switch, on every page, changes the
// language and stores it on the account.
func TestLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	b := e.browser("es")
	b.signIn("digital@kiosko.test", demo.Password) // a Spanish account
	p := b.get("/account")
	if !p.has(`action="/language"`) || !p.has(`<button type="submit" class="linklike" lang="en">English</button>`) {
		t.Fatalf("no language switch on the account page")
	}
	sw := b.post("/language", url.Values{"lang": {"en"}, "next": {"/account"}})
	if sw.status != http.StatusSeeOther || sw.location() != "/account" {
		t.Fatalf("switch: %d %s", sw.status, sw.location())
	}
	if p := b.get("/account"); !p.has(`<html lang="en">`) || !p.has(`lang="es">Español</button>`) {
		t.Errorf("after the switch the account page is not in English, or offers no way back")
	}
	if a, _ := e.store.FindAccountByEmail(context.Background(), "digital@kiosko.test"); a.Lang != kiosko.LangEnglish {
		t.Errorf("account language %q after the switch, want en", a.Lang)
	}
	// On an edition page the switch leads to the other language's edition.
	if p := b.get("/us/"); !regexp.MustCompile(`name="lang" value="es"><input type="hidden" name="next" value="/es/">`).MatchString(p.body) {
		t.Errorf("the switch on the U.S. front page does not lead to the Spanish edition")
	}
	// Bad input changes nothing.
	if p := b.post("/language", url.Values{"lang": {"fr"}, "next": {"/account"}}); p.status != http.StatusNotFound {
		t.Errorf("unknown language: %d", p.status)
	}
	if p := b.post("/language", url.Values{"lang": {"es"}, "next": {"https://evil.example/"}}); p.location() != "/es/" {
		t.Errorf("foreign next: redirected to %q", p.location())
	}
}

// TestSearchTags: description, canonical, Open Graph and hreflang.
func TestSearchTags(t *testing.T) {
	e := newEnv(t)
	a := e.articles("us", kiosko.AccessSubscriber)[0]
	p := e.browser("en").get(articlePath(a) + "?utm_source=x")
	for _, want := range []string{
		`<meta name="description" content="` + htmlEscape(a.Standfirst) + `">`,
		`<link rel="canonical" href="http://kiosko.example` + articlePath(a) + `">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:title" content="` + htmlEscape(a.Title) + `">`,
		`<meta property="og:url" content="http://kiosko.example` + articlePath(a) + `">`,
		`<meta property="og:locale" content="en_US">`,
		`<meta property="article:published_time"`,
	} {
		if !p.has(want) {
			t.Errorf("article page lacks %s", want)
		}
	}
	if p.has(`hreflang`) {
		t.Error("an article names another edition as its translation")
	}
	front := e.browser("es").get("/es/")
	for _, want := range []string{
		`<link rel="alternate" hreflang="es" href="http://kiosko.example/es/">`,
		`<link rel="alternate" hreflang="en" href="http://kiosko.example/us/">`,
		`<meta property="og:type" content="website">`, `<meta name="description" content="Edición España: `,
	} {
		if !front.has(want) {
			t.Errorf("front page lacks %s", want)
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// TestPlansForEveryReader: the order, the current plan, and no upgrade to
// the plan one has.
func TestPlansForEveryReader(t *testing.T) {
	e := newBillingEnv(t, billing.Manual{})
	order := regexp.MustCompile(`id="plan-([a-z]+)"`)
	anon := e.browser("en").get("/plans")
	var got []string
	for _, m := range order.FindAllStringSubmatch(anon.body, -1) {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "free,digital,premium,business" {
		t.Errorf("plans in order %v, want free, digital, premium, business", got)
	}
	if anon.has(`id="current-plan"`) {
		t.Error("an anonymous reader is shown a current plan")
	}
	for _, tc := range []struct{ email, plan, mark string }{
		{"free@kiosko.test", "free", "Tu plan actual"},
		{"digital@kiosko.test", "digital", "Tu plan actual"},
		{"premium@kiosko.test", "premium", "Your current plan"},
		{"business@kiosko.test", "business", "Your current plan"},
	} {
		b := e.browser("")
		b.signIn(tc.email, demo.Password)
		p := b.get("/plans")
		card := regexp.MustCompile(`(?s)<section class="plan[^"]*" id="plan-` + tc.plan + `".*?</section>`).FindString(p.body)
		if !strings.Contains(card, `class="plan`) || !strings.Contains(card, " current") || !strings.Contains(card, tc.mark) {
			t.Errorf("%s: the %s card is not marked as theirs:\n%s", tc.email, tc.plan, card)
		}
		if strings.Contains(card, "/billing/upgrade?plan="+tc.plan) {
			t.Errorf("%s is offered the plan they have", tc.email)
		}
		if p.has(`href="/signup"`) && strings.Contains(p.body, `id="plan-free"`) && strings.Contains(regexp.MustCompile(`(?s)id="plan-free".*?</section>`).FindString(p.body), "/signup") {
			t.Errorf("%s is told to create a free account", tc.email)
		}
	}
	b := e.browser("es")
	b.signIn("digital@kiosko.test", demo.Password)
	p := b.get("/billing/upgrade?plan=digital")
	if !p.has(`id="upgrade-have"`) || !p.has("Ya tienes el plan Digital.") || p.has(`id="checkout-form"`) || p.has(`id="payment-manual"`) {
		t.Errorf("a Digital subscriber is offered Digital: %s", text(p.body))
	}
	if p := b.get("/billing/upgrade?plan=premium"); p.has(`id="upgrade-have"`) || !p.has(`id="upgrade-plan"`) {
		t.Error("a Digital subscriber is not offered Premium")
	}
}

// TestInterstitialBothSides: the blocked and the displaced device read
// the same seven lines; the headline fits each side.
func TestInterstitialBothSides(t *testing.T) {
	e := newEnv(t)
	sub := e.articles("us", kiosko.AccessSubscriber)[0]
	laptop, phone := e.browser("en"), e.browser("en")
	laptop.signIn("digital@kiosko.test", demo.Password)
	phone.signIn("digital@kiosko.test", demo.Password)
	if p := laptop.get(articlePath(sub)); !showsBody(p, sub) {
		t.Fatal("the first device cannot read")
	}
	blocked := phone.get(articlePath(sub))
	box := regexp.MustCompile(`(?s)<section id="interstitial".*?</section>`).FindString(blocked.body)
	if box == "" {
		t.Fatal("no interstitial")
	}
	for _, want := range []string{
		"Your subscription is being read on another device",
		`data-displaced="Your subscription is now being read on another device"`,
		"last active: <span id=\"other-seen\"", "just now",
		`data-forms="`, `data-seen="`,
	} {
		if !strings.Contains(box, want) {
			t.Errorf("interstitial lacks %q", want)
		}
	}
	// Seven lines: what happens, the two actions, Premium, business,
	// password, that it will go on appearing, the terms.
	lines := regexp.MustCompile(`(?s)<p[ >].*?</p>`).FindAllString(box, -1)
	if len(lines) != 7 {
		t.Errorf("the interstitial has %d lines, want 7:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	// The page the other device keeps (displaced when the phone takes
	// over) carries the same interstitial, hidden until pushed.
	if p := laptop.get("/us/"); p.status != http.StatusOK {
		t.Fatal(p.status)
	}
}

// TestInvitationInTheOwnersEdition: an owner whose account was English but
// who reads the Spanish edition sends a Spanish invitation.
func TestInvitationInTheOwnersEdition(t *testing.T) {
	e := newBillingEnv(t, billing.Manual{})
	owner := e.browser("en")
	owner.signIn("premium@kiosko.test", demo.Password) // an English account
	owner.get("/es/")
	if p := owner.get("/billing"); !p.has(`<html lang="es">`) {
		t.Fatal("the billing page did not follow the Spanish edition")
	}
	if p := owner.post("/billing/invite", url.Values{"email": {"invitada@example.com"}}); p.status != http.StatusSeeOther {
		t.Fatalf("invite: %d %s", p.status, text(p.body))
	}
	_, msg := e.inviteLink("invitada@example.com", 1)
	if !strings.Contains(msg.Subject, "te invita") {
		t.Errorf("invitation subject %q is not in the edition the owner reads", msg.Subject)
	}
}

// TestBusinessPageForCompanies: the business page speaks to a company's
// admin and members, not only to buyers.
func TestBusinessPageForCompanies(t *testing.T) {
	e := newBillingEnv(t, billing.Manual{})
	admin := e.browser("en")
	admin.signIn("business@kiosko.test", demo.Password)
	if p := admin.get("/business"); !p.has(`id="business-yours"`) || !p.has(`href="/billing#seats"`) {
		t.Errorf("the business admin is not shown their subscription: %s", text(p.body))
	}
	for _, email := range []string{"digital@kiosko.test", ""} {
		b := e.browser("en")
		if email != "" {
			b.signIn(email, demo.Password)
		}
		if p := b.get("/business"); p.has(`id="business-yours"`) || p.has(`id="business-member"`) {
			t.Errorf("%q is told about a company subscription", email)
		}
	}
}

// TestLastActive: "last active" reads the same way the page script says
// it: relative under an hour, then the time of day with "a la"/"a las".
func TestLastActive(t *testing.T) {
	e := newEnv(t)
	site, err := New(e.d)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 20, 30, 0, 0, time.UTC) // 21:30 in Madrid
	madrid := &kiosko.Edition{Code: "es", Lang: "es", Timezone: "Europe/Madrid"}
	ny := &kiosko.Edition{Code: "us", Lang: "en", Timezone: "America/New_York"}
	for _, tc := range []struct {
		lang string
		ed   *kiosko.Edition
		ago  time.Duration
		want string
	}{
		{"es", madrid, 10 * time.Second, "ahora mismo"},
		{"es", madrid, time.Minute, "hace 1 minuto"},
		{"es", madrid, 5 * time.Minute, "hace 5 minutos"},
		{"es", madrid, 8*time.Minute + 2*time.Hour, "a las 19:22"},
		{"es", madrid, 20*time.Hour + 25*time.Minute, "a la 1:05"},
		{"en", ny, 30 * time.Second, "just now"},
		{"en", ny, 2 * time.Minute, "2 minutes ago"},
		{"en", ny, 8*time.Minute + 2*time.Hour, "at 2:22 PM"}, // EDT from March 8
	} {
		p := &Page{Lang: tc.lang, Edition: tc.ed, Now: now, s: site}
		if got := p.LastActive(now.Add(-tc.ago)); got != tc.want {
			t.Errorf("%s, %v ago: %q, want %q", tc.lang, tc.ago, got, tc.want)
		}
	}
}

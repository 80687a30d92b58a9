package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

// adminPaths are every console page and action, for the access test.
var adminPaths = []struct{ method, path string }{
	{"GET", "/admin/"}, {"GET", "/admin/?q=premium"}, {"GET", "/admin/accounts/1"},
	{"POST", "/admin/accounts/2/grant"}, {"POST", "/admin/accounts/2/revoke"}, {"POST", "/admin/accounts/2/seats"},
	{"POST", "/admin/accounts/2/free-seat"}, {"POST", "/admin/accounts/2/clear-warning"}, {"POST", "/admin/accounts/2/signout"},
	{"POST", "/admin/accounts/2/reset"}, {"POST", "/admin/accounts/2/delete"}, {"GET", "/admin/admin.css"},
	{"GET", "/admin/plans"}, {"POST", "/admin/plans"}, {"GET", "/admin/insights"}, {"GET", "/admin/insights?format=csv&chart=sharing"},
	{"GET", "/admin/newsletter"}, {"GET", "/admin/editions"}, {"GET", "/admin/apikeys"}, {"GET", "/admin/webhooks"}, {"GET", "/admin/no-such-page"},
	{"POST", "/admin/editions"}, {"POST", "/admin/apikeys"},
}

// TestConsoleOnlyForAdmins: anonymous visitors, readers and editors get
// the site's 404 on every console page and action, and their POSTs change
// nothing; an admin gets the pages.
func TestConsoleOnlyForAdmins(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	digital, _ := m.Store.FindAccountByEmail(ctx, "digital@kiosko.test")
	before, _ := m.Store.FindTimeline(ctx, digital.ID, timeZero, 1000)
	for _, who := range []string{"", "free@kiosko.test", "premium@kiosko.test", "editor@kiosko.test"} {
		b := newBrowser(t, m)
		if who != "" {
			b.signIn(who, demo.Password)
		}
		for _, p := range adminPaths {
			path := strings.ReplaceAll(p.path, "/2/", fmt.Sprintf("/%d/", digital.ID))
			var code int
			var body string
			if p.method == "GET" {
				code, body = b.get(path)
			} else {
				code, body, _ = b.post(path, url.Values{"confirm": {"yes"}, "plan": {"business"}, "seats": {"9"}})
			}
			if code != http.StatusNotFound || !strings.Contains(body, "<html") || strings.Contains(body, `href="/admin/admin.css"`) {
				t.Errorf("%q: %s %s answered %d; want the site's 404", who, p.method, path, code)
			}
		}
	}
	after, _ := m.Store.FindTimeline(ctx, digital.ID, timeZero, 1000)
	if len(after) != len(before) {
		t.Errorf("refused console actions changed the account's timeline: %d -> %d entries", len(before), len(after))
	}
	if sub, _ := m.Store.FindSubscriptionsByOwner(ctx, digital.ID); len(sub) != 1 || sub[0].PlanCode != kiosko.PlanDigital {
		t.Errorf("refused console actions changed the subscription: %+v", sub[0])
	}

	admin := newBrowser(t, m)
	admin.signIn("admin@kiosko.test", demo.Password)
	for _, p := range adminPaths[:3] {
		if code, body := admin.get(p.path); code != 200 || !strings.Contains(body, `href="/admin/admin.css"`) {
			t.Errorf("admin: GET %s answered %d", p.path, code)
		}
	}
}

// TestConsoleAccountsSearch: search by the start of an email or a name,
// paging by keyset, in both languages.
func TestConsoleAccountsSearch(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	for i := range 60 {
		a := &kiosko.Account{Email: fmt.Sprintf("lector%02d@diario.test", i), Name: fmt.Sprintf("Lucía Pérez %02d", i), PasswordHash: "x", Role: kiosko.RoleReader, Lang: "es"}
		if err := m.Store.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	emails := func(body string) []string {
		var out []string
		for _, mt := range regexp.MustCompile(`<a href="/admin/accounts/\d+">([^<]+)</a>`).FindAllStringSubmatch(body, -1) {
			out = append(out, mt[1])
		}
		return out
	}
	_, body := b.get("/admin/?q=PREMIUM")
	if got := emails(body); len(got) != 1 || got[0] != "premium@kiosko.test" {
		t.Fatalf("search PREMIUM: %v", got)
	}
	_, body = b.get("/admin/?q=" + url.QueryEscape("lucía"))
	first := emails(body)
	if len(first) != 50 || first[0] != "lector59@diario.test" {
		t.Fatalf("search by name: first page %d accounts, starting %v", len(first), first[:min(1, len(first))])
	}
	next := regexp.MustCompile(`href="(/admin/\?[^"]+)" rel="next"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	_, body = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	second := emails(body)
	if len(second) != 10 || second[9] != "lector00@diario.test" || strings.Contains(body, `rel="next"`) {
		t.Fatalf("second page: %v", second)
	}
	req, _ := http.NewRequest("GET", m.URL()+"/admin/?q=nobody-at-all", nil)
	req.Header.Set("Accept-Language", "en")
	_, en, _ := b.do(req)
	if !strings.Contains(en, "No account matches.") || !strings.Contains(en, `lang="en"`) {
		t.Fatal("the English console does not say no account matches")
	}
	if _, es := b.get("/admin/?q=nobody-at-all"); !strings.Contains(es, "Ninguna cuenta coincide.") {
		t.Fatal("the Spanish console does not say no account matches")
	}
}

// warnSeat has two devices of the account fight over its seat through the
// reading API until the seat is under sharing warning.
func warnSeat(t *testing.T, m *Main, email string) {
	t.Helper()
	article := subscriberArticle(t, m.URL())
	a := signInAPI(t, m.URL(), email, demo.Password, "device-warn-a1")
	b := signInAPI(t, m.URL(), email, demo.Password, "device-warn-b1")
	call(t, "POST", m.URL()+"/api/v1/reading/claim", a, map[string]any{"article": article})
	toks := []string{b, a}
	for i := range 12 {
		_, out := call(t, "POST", m.URL()+"/api/v1/reading/takeover", toks[i%2], map[string]any{"article": article})
		if out["sharing_warning"] == true {
			return
		}
	}
	t.Fatal("fighting over the seat did not set the sharing warning")
}

// TestConsoleActions: every action asks first and changes nothing until
// confirmed; once confirmed it does what it says, shows in the account's
// timeline with the admin's name, and is an event carrying the admin.
func TestConsoleActions(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	adminAcct, _ := m.Store.FindAccountByEmail(ctx, "admin@kiosko.test")
	free, _ := m.Store.FindAccountByEmail(ctx, "free@kiosko.test")
	digital, _ := m.Store.FindAccountByEmail(ctx, "digital@kiosko.test")
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	path := func(a *kiosko.Account, action string) string {
		return fmt.Sprintf("/admin/accounts/%d/%s", a.ID, action)
	}

	// Granting asks first.
	code, body, _ := b.post(path(free, "grant"), url.Values{"plan": {"business"}, "seats": {"7"}})
	if code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) || !strings.Contains(body, "free@kiosko.test") {
		t.Fatalf("grant without confirmation: %d, no confirmation page", code)
	}
	if subs, _ := m.Store.FindSubscriptionsByOwner(ctx, free.ID); len(subs) != 0 {
		t.Fatal("the confirmation page granted the plan already")
	}
	// Bad input: an error on the page, nothing changes.
	code, body, _ = b.post(path(free, "grant"), url.Values{"plan": {"digital"}, "seats": {"3"}, "confirm": {"yes"}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "número fijo de plazas") {
		t.Fatalf("digital with 3 seats: %d", code)
	}
	code, _, _ = b.post(path(free, "grant"), url.Values{"plan": {"nope"}, "confirm": {"yes"}})
	if code != http.StatusNotFound && code != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown plan: %d", code)
	}
	if subs, _ := m.Store.FindSubscriptionsByOwner(ctx, free.ID); len(subs) != 0 {
		t.Fatal("a refused grant changed the subscriptions")
	}
	// Confirmed: the plan is granted.
	code, _, hdr := b.post(path(free, "grant"), url.Values{"plan": {"business"}, "seats": {"7"}, "confirm": {"yes"}})
	if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "done=grant") {
		t.Fatalf("confirmed grant: %d %s", code, hdr.Get("Location"))
	}
	subs, _ := m.Store.FindSubscriptionsByOwner(ctx, free.ID)
	if len(subs) != 1 || subs[0].PlanCode != "business" || subs[0].Seats != 7 || !subs[0].Grants(m.Clock.Now()) {
		t.Fatalf("after the grant: %+v", subs)
	}
	// Seats: more, then fewer.
	if code, _, _ := b.post(path(free, "seats"), url.Values{"seats": {"3"}, "confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("set seats: %d", code)
	}
	if s, _ := m.Store.FindSubscriptionByID(ctx, subs[0].ID); s.Seats != 3 {
		t.Fatalf("seats after the change: %d", s.Seats)
	}
	if code, _, _ := b.post(path(free, "seats"), url.Values{"seats": {"0"}, "confirm": {"yes"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("zero seats: %d", code)
	}
	// Revoke.
	if code, _, _ := b.post(path(free, "revoke"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("revoke: %d", code)
	}
	if s, _ := m.Store.FindSubscriptionByID(ctx, subs[0].ID); s.Grants(m.Clock.Now()) {
		t.Fatal("the revoked subscription still grants access")
	}

	// Clear a warning: the reader's banner goes.
	warnSeat(t, m, "digital@kiosko.test")
	reader := newBrowser(t, m)
	reader.signIn("digital@kiosko.test", demo.Password)
	if _, page := reader.get("/es/"); !regexp.MustCompile(`id="sharing-banner"[^>]*role="alert">`).MatchString(page) {
		t.Fatal("the warned reader's page shows no banner")
	}
	if code, body, _ := b.post(path(digital, "clear-warning"), nil); code != 200 || !strings.Contains(body, "confirm") {
		t.Fatalf("clear warning without confirmation: %d", code)
	}
	if !m.Reading.Warned(ctx, digital.ID) {
		t.Fatal("the confirmation page lifted the warning")
	}
	if code, _, _ := b.post(path(digital, "clear-warning"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("clear warning: %d", code)
	}
	if _, page := reader.get("/es/"); !strings.Contains(page, `id="sharing-banner" class="sharing-banner" role="alert" hidden`) {
		t.Fatal("the banner is still shown after the admin cleared the warning")
	}
	// Sign out everywhere: the reader's session ends.
	if code, _, _ := b.post(path(digital, "signout"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", code)
	}
	if code, _ := reader.get("/account"); code != http.StatusSeeOther {
		t.Fatalf("the reader is still signed in after sign out everywhere: %d", code)
	}
	// Reset link: an email goes out.
	if code, _, _ := b.post(path(digital, "reset"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("send reset: %d", code)
	}
	// An admin cannot delete the own account here; another, after confirming.
	if code, _, _ := b.post(path(adminAcct, "delete"), url.Values{"confirm": {"yes"}}); code != http.StatusUnprocessableEntity {
		t.Fatalf("deleting oneself: %d", code)
	}
	premium, _ := m.Store.FindAccountByEmail(ctx, "premium@kiosko.test")
	if code, body, _ := b.post(path(premium, "delete"), nil); code != 200 || !strings.Contains(body, "para siempre") {
		t.Fatalf("delete without confirmation: %d", code)
	}
	if _, err := m.Store.FindAccountByID(ctx, premium.ID); err != nil {
		t.Fatal("the confirmation page deleted the account")
	}
	if code, _, hdr := b.post(path(premium, "delete"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther || hdr.Get("Location") != "/admin/?deleted=1" {
		t.Fatalf("delete: %d %s", code, hdr.Get("Location"))
	}
	if _, err := m.Store.FindAccountByID(ctx, premium.ID); !kiosko.IsNotFound(err) {
		t.Fatalf("the deleted account is still there: %v", err)
	}
	if del, _ := m.Store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAccountDeleted}}); len(del) != 1 || del[0].ActorID != adminAcct.ID {
		t.Fatalf("account.deleted events: %+v", del)
	}

	// Every action is an event carrying the admin.
	for acct, types := range map[*kiosko.Account][]string{
		free:    {kiosko.EventAdminPlanGranted, kiosko.EventAdminSeatsChanged, kiosko.EventAdminPlanRevoked},
		digital: {kiosko.EventAdminWarningCleared, kiosko.EventAdminSignedOut, kiosko.EventAdminResetSent},
	} {
		evs, err := m.Store.FindEvents(ctx, kiosko.EventFilter{AccountID: acct.ID, Types: types})
		if err != nil || len(evs) != len(types) {
			t.Fatalf("%s: events %v %v, want %v", acct.Email, evs, err, types)
		}
		for _, e := range evs {
			if e.ActorID != adminAcct.ID {
				t.Errorf("%s by actor %d, want the admin %d", e.Type, e.ActorID, adminAcct.ID)
			}
		}
	}
	// One timeline: sign-ins, lease events, the email and the admin's actions.
	_, page := b.get(fmt.Sprintf("/admin/accounts/%d", digital.ID))
	for _, want := range []string{`data-type="account.signed_in"`, `data-type="takeover_contested"`, `data-type="warning_set"`,
		`data-type="admin.warning_cleared"`, `data-type="email.sent"`, "por admin@kiosko.test", "Aviso retirado por un administrador"} {
		if !strings.Contains(page, want) {
			t.Errorf("the timeline lacks %s", want)
		}
	}
	// Deletion goes through the accounts service (docs/accounts.md).
	if code, _, _ := b.post(path(digital, "delete"), url.Values{"confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	if _, err := m.Store.FindAccountByID(ctx, digital.ID); !kiosko.IsNotFound(err) {
		t.Fatalf("the deleted account is still there: %v", err)
	}
	if evs, err := m.Store.FindEvents(ctx, kiosko.EventFilter{AccountID: digital.ID, Types: []string{kiosko.EventAccountDeleted}}); err != nil || len(evs) != 1 {
		t.Errorf("account.deleted events: %v, %v", evs, err)
	}
}

var timeZero = kiosko.Event{}.At

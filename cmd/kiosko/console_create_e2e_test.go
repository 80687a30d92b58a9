package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

// TestConsoleAddsEditions: an admin adds an edition after confirming; a
// mistake or a taken code is said on the form and adds nothing; the
// addition is an event with the admin as actor; the front page is served
// at once; nobody else can add one.
func TestConsoleAddsEditions(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	for _, who := range []string{"", "free@kiosko.test", "editor@kiosko.test"} {
		b := newBrowser(t, m)
		if who != "" {
			b.signIn(who, demo.Password)
		}
		if code, _, _ := b.post("/admin/editions", url.Values{"code": {"nope"}, "name": {"Nope"}, "lang": {"es"}, "confirm": {"yes"}}); code != 404 {
			t.Errorf("%q adding an edition: %d, want 404", who, code)
		}
	}
	if _, err := m.Store.FindEdition(ctx, "nope"); !kiosko.IsNotFound(err) {
		t.Fatalf("a refused POST added an edition: %v", err)
	}
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	if _, body := b.get("/admin/editions"); !strings.Contains(body, `action="/admin/editions"`) {
		t.Fatal("the editions page has no form to add one")
	}
	form := url.Values{"code": {"mx"}, "name": {"Edición México"}, "lang": {"es"}, "tz": {"America/Mexico_City"}}
	for _, bad := range []struct {
		field, value, says string
	}{
		{"code", "Mal Código", "código de la edición"}, // the browser asks for Spanish
		{"code", "admin", "código de la edición"},
		{"name", "", "nombre"},
		{"lang", "fr", "es o en"},
		{"tz", "Mars/Olympus", "Zona horaria"},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(bad.field, bad.value)
		f.Set("confirm", "yes")
		code, body, _ := b.post("/admin/editions", f)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="error"`) || !strings.Contains(body, bad.says) {
			t.Errorf("%s=%q: %d, want 422 saying %q", bad.field, bad.value, code, bad.says)
		}
	}
	code, body, _ := b.post("/admin/editions", form)
	if code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) || !strings.Contains(body, "America/Mexico_City") {
		t.Fatalf("adding without confirming: %d, no confirmation page", code)
	}
	if _, err := m.Store.FindEdition(ctx, "mx"); !kiosko.IsNotFound(err) {
		t.Fatal("the confirmation page added the edition")
	}
	form.Set("confirm", "yes")
	code, _, hdr := b.post("/admin/editions", form)
	if code != http.StatusSeeOther || hdr.Get("Location") != "/admin/editions?added=mx" {
		t.Fatalf("adding: %d %s", code, hdr.Get("Location"))
	}
	e, err := m.Store.FindEdition(ctx, "mx")
	if err != nil || e.Name != "Edición México" || e.Lang != "es" || e.Timezone != "America/Mexico_City" {
		t.Fatalf("the edition stored: %+v, %v", e, err)
	}
	if code, _ := newBrowser(t, m).get("/mx/"); code != 200 {
		t.Fatalf("the new edition's front page: %d", code)
	}
	admin, _ := m.Store.FindAccountByEmail(ctx, "admin@kiosko.test")
	evs, _ := m.Store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAdminEditionAdded}})
	if len(evs) != 1 || evs[0].ActorID != admin.ID || !strings.Contains(string(evs[0].Data), `"mx"`) {
		t.Fatalf("edition events: %+v", evs)
	}
	code, body, _ = b.post("/admin/editions", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="error"`) {
		t.Fatalf("adding it twice: %d", code)
	}
	if evs, _ := m.Store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAdminEditionAdded}}); len(evs) != 1 {
		t.Fatalf("a refused addition was recorded: %d events", len(evs))
	}
}

var shownKey = regexp.MustCompile(`id="new-key"[^>]* value="(` + kiosko.APIKeyPrefix + `[A-Za-z0-9_-]+)"`)

// TestConsoleCreatesAPIKeys: an admin creates a key after confirming, sees
// it once, and it works at once; only its hash is stored; the creation is
// an event with the admin as actor and without the key; bad input is said
// on the form and creates nothing; nobody else can create one.
func TestConsoleCreatesAPIKeys(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	for _, who := range []string{"", "premium@kiosko.test", "editor@kiosko.test"} {
		b := newBrowser(t, m)
		if who != "" {
			b.signIn(who, demo.Password)
		}
		if code, body, _ := b.post("/admin/apikeys", url.Values{"name": {"CMS"}, "scope": {"newsroom"}, "confirm": {"yes"}}); code != 404 || shownKey.MatchString(body) {
			t.Errorf("%q creating a key: %d, want 404", who, code)
		}
	}
	if keys, _ := m.Store.FindAPIKeys(ctx); len(keys) != 0 {
		t.Fatalf("refused POSTs created %d keys", len(keys))
	}
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	for _, bad := range []url.Values{
		{"name": {""}, "scope": {"newsroom"}},
		{"name": {"CMS"}},
		{"name": {"CMS"}, "scope": {"root"}},
	} {
		bad.Set("confirm", "yes")
		if code, body, _ := b.post("/admin/apikeys", bad); code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="error"`) || shownKey.MatchString(body) {
			t.Errorf("%v: %d, want 422 with the reason", bad, code)
		}
	}
	form := url.Values{"name": {"Redacción CMS"}, "scope": {"newsroom", "webhooks"}}
	code, body, _ := b.post("/admin/apikeys", form)
	if code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) || shownKey.MatchString(body) {
		t.Fatalf("creating without confirming: %d", code)
	}
	if keys, _ := m.Store.FindAPIKeys(ctx); len(keys) != 0 {
		t.Fatal("the confirmation page created a key")
	}
	form.Set("confirm", "yes")
	code, body, hdr := b.post("/admin/apikeys", form)
	match := shownKey.FindStringSubmatch(body)
	if code != http.StatusCreated || match == nil || !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Fatalf("creating: %d, key shown %v, Cache-Control %q", code, match != nil, hdr.Get("Cache-Control"))
	}
	secret := match[1]
	k, err := m.Store.FindAPIKeyByHash(ctx, kiosko.HashAPIKey(secret))
	if err != nil || k.Name != "Redacción CMS" || strings.Join(k.Scopes, ",") != "newsroom,webhooks" || k.Hash == secret {
		t.Fatalf("the key stored: %+v, %v", k, err)
	}
	if _, body := b.get("/admin/apikeys"); strings.Contains(body, secret) || !strings.Contains(body, k.Prefix) {
		t.Fatal("the keys page shows the key again, or not its start")
	}
	call := func(token string) int {
		req, _ := http.NewRequest("GET", m.URL()+"/api/v1/newsroom/articles/no-such-article", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if without, with := call(""), call(secret); without != 401 || with != 404 {
		t.Fatalf("the newsroom API: %d without the key, %d with it; want 401 and 404", without, with)
	}
	admin, _ := m.Store.FindAccountByEmail(ctx, "admin@kiosko.test")
	evs, _ := m.Store.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventAdminKeyCreated}})
	if len(evs) != 1 || evs[0].ActorID != admin.ID || strings.Contains(string(evs[0].Data), secret) || !strings.Contains(string(evs[0].Data), k.Prefix) {
		t.Fatalf("key events: %+v", evs)
	}
}

package main

import (
	"context"
	"flag"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/password"
)

// startMain runs the real Main on 127.0.0.1:0 with a fresh data directory;
// args are extra serve flags.
func startMain(t *testing.T, args ...string) *Main {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := parseConfig(fs, append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--newsletter-day", "off"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	m := NewMain(cfg, log)
	m.Hasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m
}

// browser is an HTTP client with its own cookies that does not follow
// redirects, so tests see each answer.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, m *Main) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: m.URL(), c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (int, string, http.Header) {
	b.t.Helper()
	if req.Header.Get("Accept-Language") == "" {
		req.Header.Set("Accept-Language", "es-ES,es;q=0.9")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL.Path, err)
	}
	return res.StatusCode, string(body), res.Header
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	code, body, _ := b.do(req)
	return code, body
}

func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) signIn(email, pw string) {
	b.t.Helper()
	code, body, _ := b.post("/signin", url.Values{"email": {email}, "password": {pw}})
	if code != http.StatusSeeOther {
		b.t.Fatalf("sign in %s: status %d\n%s", email, code, body)
	}
}

func articleIDs(t *testing.T, body, edition string) []string {
	re := regexp.MustCompile(`href="/` + edition + `/([a-z0-9-]+)"`)
	seen, out := map[string]bool{}, []string(nil)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	return out
}

// TestReaderJourney walks what a reader does: the front page, the meter
// running out, the registration wall, signing up, a subscriber article
// behind the wall, a subscriber reading it, and a password reset by email.
func TestReaderJourney(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr, "--meter-anonymous", "2", "--meter-registered", "3")
	ctx := context.Background()
	anon := newBrowser(t, m)

	code, front := anon.get("/es/")
	if code != 200 || !strings.Contains(front, "<html") {
		t.Fatalf("front page: %d", code)
	}
	var free, paid []string
	for _, id := range articleIDs(t, front, "es") {
		a, err := m.Store.FindArticleByID(ctx, id)
		if err != nil {
			t.Fatalf("front page links to %s: %v", id, err)
		}
		if a.Access == "free" {
			free = append(free, id)
		} else {
			paid = append(paid, id)
		}
	}
	if len(free) < 4 || len(paid) < 1 {
		t.Fatalf("front page lists %d free and %d subscriber articles", len(free), len(paid))
	}

	t.Run("anonymous meter then registration wall", func(t *testing.T) {
		for _, id := range free[:2] {
			code, body := anon.get("/es/" + id)
			if code != 200 || !strings.Contains(body, `id="article-body"`) {
				t.Fatalf("free article %s within the meter: %d, body shown: %v", id, code, strings.Contains(body, `id="article-body"`))
			}
		}
		// Opening one already read costs nothing.
		if _, body := anon.get("/es/" + free[0]); !strings.Contains(body, `id="article-body"`) {
			t.Fatal("re-reading an article counted against the meter")
		}
		_, body := anon.get("/es/" + free[2])
		if strings.Contains(body, `id="article-body"`) || !strings.Contains(body, `data-wall="register"`) {
			t.Fatal("third free article is not behind the registration wall")
		}
		if !strings.Contains(body, `"isAccessibleForFree": false`) && !strings.Contains(body, `"isAccessibleForFree":false`) {
			t.Fatal("walled page lacks isAccessibleForFree JSON-LD")
		}
	})

	t.Run("tampered meter cookie counts as used up", func(t *testing.T) {
		b := newBrowser(t, m)
		u, _ := url.Parse(m.URL())
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kiosko_meter", Value: "2026-11.forged.bad", Path: "/"}})
		_, body := b.get("/es/" + free[0])
		if strings.Contains(body, `id="article-body"`) {
			t.Fatal("a forged meter cookie opened an article")
		}
	})

	reader := newBrowser(t, m)
	t.Run("sign up, registered meter, subscribe wall", func(t *testing.T) {
		code, body, _ := reader.post("/signup", url.Values{"email": {"lector@example.com"}, "password": {"corto"}})
		if code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
			t.Fatalf("short password: status %d", code)
		}
		if !strings.Contains(body, "12 caracteres") {
			t.Fatal("the short-password error is not in Spanish")
		}
		if _, err := m.Store.FindAccountByEmail(ctx, "lector@example.com"); err == nil {
			t.Fatal("a refused sign-up stored an account")
		}
		code, _, _ = reader.post("/signup", url.Values{"email": {"lector@example.com"}, "password": {"una frase bastante larga"}})
		if code != http.StatusSeeOther {
			t.Fatalf("sign up: status %d", code)
		}
		for _, id := range free[:3] {
			if _, body := reader.get("/es/" + id); !strings.Contains(body, `id="article-body"`) {
				t.Fatalf("registered reader walled at %s within the meter", id)
			}
		}
		if _, body := reader.get("/es/" + free[3]); !strings.Contains(body, `data-wall="subscribe"`) {
			t.Fatal("registered meter ran out without the subscribe wall")
		}
		if _, body := reader.get("/es/" + paid[0]); strings.Contains(body, `id="article-body"`) || !strings.Contains(body, `data-wall="subscribe"`) {
			t.Fatal("a free account sees a subscriber article")
		}
	})

	t.Run("subscriber reads a subscriber article", func(t *testing.T) {
		sub := newBrowser(t, m)
		sub.signIn("digital@kiosko.test", demo.Password)
		_, body := sub.get("/es/" + paid[0])
		if !strings.Contains(body, `id="article-body"`) || strings.Contains(body, `id="wall"`) {
			t.Fatal("a Digital subscriber cannot read a subscriber article")
		}
	})

	t.Run("password reset by email", func(t *testing.T) {
		code, same, _ := reader.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
		code2, body, _ := reader.post("/password/forgot", url.Values{"email": {"lector@example.com"}})
		if code != code2 || stripVolatile(same) != stripVolatile(body) {
			t.Fatalf("forgotten password answers differ for unknown and known emails (%d vs %d)", code, code2)
		}
		// The reset email is sent off the request, as is the sign-up's
		// verification link: wait for the message that carries the link.
		resetLink := regexp.MustCompile(`https?://[^\s"<>]+/password/reset\?token=[A-Za-z0-9_-]+`)
		msg := mp.WaitForMatch(t, "lector@example.com", "password reset email", func(m *mailpit.Message) bool { return resetLink.MatchString(m.Text) })
		link := resetLink.FindString(msg.Text)
		u, _ := url.Parse(link)
		token := u.Query().Get("token")
		other := newBrowser(t, m)
		if code, _ := other.get(u.RequestURI()); code != 200 {
			t.Fatalf("reset link page: %d", code)
		}
		code, _, h := other.post("/password/reset", url.Values{"token": {token}, "password": {"otra frase aun mas larga"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/signin?done=reset" {
			t.Fatalf("reset: status %d to %q, want 303 to /signin?done=reset", code, h.Get("Location"))
		}
		code, body, _ = other.post("/password/reset", url.Values{"token": {token}, "password": {"y una tercera frase larga"}})
		if want := html.EscapeString(i18n.Default().T("es", "error.reset_link_invalid")); code != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Fatalf("a reset link used twice: status %d, want 422 saying %q", code, want)
		}
		if code, _, _ := newBrowser(t, m).post("/signin", url.Values{"email": {"lector@example.com"}, "password": {"y una tercera frase larga"}}); code == http.StatusSeeOther {
			t.Fatal("the password sent with a used reset link signs in")
		}
		// The old session ended; the new password works, the old one not.
		if _, body := reader.get("/account"); strings.Contains(body, "lector@example.com") {
			t.Fatal("the session before the reset still works")
		}
		if code, _, _ := newBrowser(t, m).post("/signin", url.Values{"email": {"lector@example.com"}, "password": {"una frase bastante larga"}}); code == http.StatusSeeOther {
			t.Fatal("the old password still signs in")
		}
		newBrowser(t, m).signIn("lector@example.com", "otra frase aun mas larga")
	})
}

var volatile = regexp.MustCompile(`(?s)<input type="hidden"[^>]*>|nonce="[^"]*"`)

func stripVolatile(s string) string { return volatile.ReplaceAllString(s, "") }

// TestSecurityBaseline checks headers, cookies and cross-origin refusal.
func TestSecurityBaseline(t *testing.T) {
	m := startMain(t)
	b := newBrowser(t, m)
	req, _ := http.NewRequest("GET", m.URL()+"/es/", nil)
	_, _, h := b.do(req)
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline script: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	code, _, h := b.post("/signin", url.Values{"email": {"digital@kiosko.test"}, "password": {demo.Password}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "kiosko_session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie not HttpOnly/SameSite=Lax: %+v", session)
	}
	req, _ = http.NewRequest("POST", m.URL()+"/signin", strings.NewReader("email=a%40b.c&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _, _ := b.do(req); code != http.StatusForbidden {
		t.Fatalf("cross-origin POST: status %d, want 403", code)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, _ := b.get(p); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	if code, body := b.get("/no/such/page"); code != 404 || !strings.Contains(body, "<html") {
		t.Errorf("unknown page: %d", code)
	}
}

// TestEmptyPublication starts without demo content.
func TestEmptyPublication(t *testing.T) {
	m := startMain(t, "--seed-demo=false")
	eds, err := m.Store.FindEditions(context.Background())
	if err != nil || len(eds) != 2 {
		t.Fatalf("editions: %v %v", eds, err)
	}
	arts, err := m.Store.FindArticles(context.Background(), kioskoFilter(""))
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 0 {
		t.Fatalf("--seed-demo=false seeded %d articles", len(arts))
	}
	if _, err := m.Store.FindAccountByEmail(context.Background(), "digital@kiosko.test"); err == nil {
		t.Fatal("--seed-demo=false created demo accounts")
	}
	if code, _ := newBrowser(t, m).get("/es/"); code != 200 {
		t.Fatalf("empty front page: %d", code)
	}
}

// TestLeaseEventsAndDevicesStored checks that the reading rule's steps are
// stored durably and that devices keep only truncated addresses.
func TestLeaseEventsAndDevicesStored(t *testing.T) {
	m := startMain(t)
	ctx := context.Background()
	article := subscriberArticle(t, m.URL())
	a := signInAPI(t, m.URL(), "digital@kiosko.test", demo.Password, "device-events-a")
	b := signInAPI(t, m.URL(), "digital@kiosko.test", demo.Password, "device-events-b")
	for _, step := range []struct {
		path, tok string
		want      int
	}{
		{"/api/v1/reading/claim", a, 200},
		{"/api/v1/reading/claim", b, 409},
		{"/api/v1/reading/takeover", b, 200},
	} {
		if code, out := call(t, "POST", m.URL()+step.path, step.tok, map[string]any{"article": article}); code != step.want {
			t.Fatalf("%s: %d %v", step.path, code, out)
		}
	}
	acct, err := m.Store.FindAccountByEmail(ctx, "digital@kiosko.test")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"claim": false, "conflict": false, "takeover_contested": false}
	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := m.Store.FindLeaseEvents(ctx, kiosko.LeaseEventFilter{AccountID: acct.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if _, ok := want[e.Kind]; ok && e.SeatID != 0 && e.Device != "" && !e.At.IsZero() {
				want[e.Kind] = true
			}
		}
		if want["claim"] && want["conflict"] && want["takeover_contested"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease events not stored: %v", want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d, err := m.Store.FindDevice(ctx, acct.ID, "device-events-a")
	if err != nil {
		t.Fatal(err)
	}
	// A device keeps its country at most, never its address (docs/accounts.md).
	if d.IP != "" || d.Place != "" {
		t.Fatalf("device address stored as %q, place %q; want neither for a loopback client", d.IP, d.Place)
	}
}

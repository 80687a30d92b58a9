package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/sqlite"
	"github.com/kiosko/kiosko/internal/useragent"
)

// testNow is the start of every test's clock.
var testNow = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeMailer keeps the messages sent.
type fakeMailer struct {
	mu   sync.Mutex
	sent []*kiosko.Message
	ch   chan *kiosko.Message
}

func newFakeMailer() *fakeMailer { return &fakeMailer{ch: make(chan *kiosko.Message, 16)} }

func (m *fakeMailer) Send(_ context.Context, msg *kiosko.Message) error {
	m.mu.Lock()
	m.sent = append(m.sent, msg)
	m.mu.Unlock()
	m.ch <- msg
	return nil
}

// wait returns the next message sent, failing after a few seconds.
func (m *fakeMailer) wait(t *testing.T) *kiosko.Message {
	t.Helper()
	select {
	case msg := <-m.ch:
		return msg
	case <-time.After(5 * time.Second):
		t.Fatal("no email was sent")
		return nil
	}
}

// env is a site on a real SQLite store with the demo publication, the
// in-memory lease engine and hub.
type env struct {
	t     *testing.T
	d     *httpx.Deps
	srv   *httptest.Server
	store *sqlite.DB
	clock *clock
	mail  *fakeMailer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	hasher := &password.Hasher{Memory: 64, Time: 1, Threads: 1}
	if err := demo.Seed(ctx, store, hasher, testNow); err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: testNow}
	hub := inmem.NewHub()
	settings := kiosko.DefaultReadingSettings()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reading := &kiosko.Reading{Store: store, Leases: inmem.NewLeaseEngine(settings), Hub: hub, Clock: clk, Settings: settings, Log: log}
	mail := newFakeMailer()
	secret := make([]byte, 32)
	rand.Read(secret)
	d := &httpx.Deps{
		Store: store, Reading: reading, Hub: hub, Plans: kiosko.DefaultPlans(), Catalog: i18n.Default(), Clock: clk,
		Meter: kiosko.DefaultMeterSettings(), ReadingSettings: settings, Mailer: mail, PublicURL: "http://kiosko.example",
		Secret: secret, Log: log, ContactEmail: "suscripciones@kiosko.test",
	}
	d.Auth = &kiosko.Auth{Store: store, Hasher: hasher, Clock: clk, Settings: kiosko.DefaultAuthSettings(), Hub: hub,
		Mail: NewAccountMail(d), DeviceName: useragent.Name, Reading: reading, Log: log}
	site, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	return &env{t: t, d: d, srv: srv, store: store, clock: clk, mail: mail}
}

// browser is one device: its own cookie jar and language.
type browser struct {
	e    *env
	c    *http.Client
	lang string
	ua   string
}

func (e *env) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, lang: lang, ua: "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
		c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer as a reader sees it.
type page struct {
	status int
	body   string
	header http.Header
}

func (p page) has(s string) bool { return strings.Contains(p.body, s) }

func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values) page {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	req.Header.Set("User-Agent", b.ua)
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.e.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	return page{status: res.StatusCode, body: string(data), header: res.Header}
}

func (b *browser) get(path string) page { b.e.t.Helper(); return b.do("GET", path, nil) }

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	return b.do("POST", path, form)
}

// signIn signs the browser in and fails the test if it does not work.
func (b *browser) signIn(email, pw string) {
	b.e.t.Helper()
	p := b.post("/signin", url.Values{"email": {email}, "password": {pw}, "tz": {"Europe/Madrid"}})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("sign in %s: status %d\n%s", email, p.status, p.body)
	}
}

// articles returns the ids of an edition's articles with access.
func (e *env) articles(edition, access string) []*kiosko.Article {
	e.t.Helper()
	all, err := e.store.FindArticles(context.Background(), kiosko.ArticleFilter{Edition: edition})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*kiosko.Article
	for _, a := range all {
		if a.Access == access {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		e.t.Fatalf("no %s articles in %s", access, edition)
	}
	return out
}

// addFreeArticles publishes n more free articles in edition.
func (e *env) addFreeArticles(edition string, n int) []*kiosko.Article {
	e.t.Helper()
	var out []*kiosko.Article
	for i := range n {
		a := &kiosko.Article{ID: fmt.Sprintf("%s-extra-%02d", edition, i), Edition: edition, Title: fmt.Sprintf("Extra story %d", i),
			Standfirst: "More news.", Authors: []string{"Test Desk"},
			BodyHTML: fmt.Sprintf("<p>Body paragraph of extra story %d.</p>\n", i),
			Access:   kiosko.AccessFree, PublishedAt: testNow.Add(-time.Duration(i+20) * time.Hour)}
		if err := e.store.CreateArticle(context.Background(), a); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

var tagRE = regexp.MustCompile(`<[^>]+>`)

// text is a page's visible-ish text, for messages.
func text(html string) string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(html, " ")), " ")
}

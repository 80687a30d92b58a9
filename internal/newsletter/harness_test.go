package newsletter_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/mailpit"
	"github.com/kiosko/kiosko/internal/newsletter"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/sqlite"
)

// now is the tests' fixed "today": a Friday.
var now = time.Date(2026, 2, 13, 8, 0, 0, 0, time.UTC)

// clock runs at the wall clock's pace from a fixed start, so retries with
// backoff come due, and jumps forward with Add.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	start time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Since(c.start))
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	db    kiosko.Store
	path  string // the SQLite file, when on SQLite
	pgURL string // the PostgreSQL schema's URL, when on PostgreSQL
	n     *kiosko.Newsletter
	clock *clock
	smtp  string
}

const publicURL = "https://news.example.com"

// setup opens a database with the editions es and us and a week of
// articles, and a newsletter sending to smtpAddr.
func setup(t testing.TB, smtpAddr string) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kiosko.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := fill(t, db, smtpAddr)
	e.path = path
	return e
}

// setupPostgres is setup on a PostgreSQL schema of the test's own.
func setupPostgres(t testing.TB, smtpAddr string) *env {
	t.Helper()
	u := pgtest.URL(t)
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := fill(t, db, smtpAddr)
	e.pgURL = u
	return e
}

func fill(t testing.TB, db kiosko.Store, smtpAddr string) *env {
	t.Helper()
	ctx := context.Background()
	for _, ed := range []*kiosko.Edition{
		{Code: "es", Name: "El Kiosko", Lang: "es", Timezone: "Europe/Madrid"},
		{Code: "us", Name: "The Kiosko", Lang: "en", Timezone: "America/New_York"},
	} {
		if err := db.CreateEdition(ctx, ed); err != nil {
			t.Fatal(err)
		}
	}
	arts := []*kiosko.Article{
		{ID: "es-presupuestos", Edition: "es", Title: "El Congreso aprueba los presupuestos", Standfirst: "La votación salió adelante por dos votos.", Authors: []string{"Lucía Gómez"}, PublishedAt: now.Add(-2 * 24 * time.Hour)},
		{ID: "es-sequia", Edition: "es", Title: "La sequía vacía los embalses del sur", Standfirst: "Las reservas caen al 20 %.", PublishedAt: now.Add(-5 * 24 * time.Hour)},
		{ID: "es-viejo", Edition: "es", Title: "Noticia de hace un mes", PublishedAt: now.Add(-30 * 24 * time.Hour)},
		{ID: "us-transit", Edition: "us", Title: "City council backs the new tram line", Standfirst: "Construction starts in the spring.", Authors: []string{"Sam Lee"}, PublishedAt: now.Add(-24 * time.Hour)},
		{ID: "us-old", Edition: "us", Title: "Last month's story", PublishedAt: now.Add(-20 * 24 * time.Hour)},
	}
	for _, a := range arts {
		a.Access, a.BodyMarkdown, a.BodyHTML = kiosko.AccessFree, "…", "<p>…</p>\n"
		if err := db.CreateArticle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{db: db, clock: &clock{t: now, start: time.Now()}, smtp: smtpAddr}
	e.n = newService(t, db, smtpAddr, e.clock, 4)
	return e
}

func newService(t testing.TB, store kiosko.Store, smtpAddr string, c kiosko.Clock, workers int) *kiosko.Newsletter {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := mail.Config{Addr: smtpAddr, From: "El Kiosko <boletin@news.example.com>", Log: log}
	bulk, err := mail.NewBulk(cfg, mail.BulkConfig{Connections: workers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bulk.Close() })
	r, err := newsletter.NewRenderer(nil)
	if err != nil {
		t.Fatal(err)
	}
	st := kiosko.DefaultNewsletterSettings()
	st.Concurrency, st.RetryAfter, st.LockTTL = workers, 20*time.Millisecond, 2*time.Second
	return &kiosko.Newsletter{Store: store, Mailer: mail.New(cfg), Bulk: bulk, Render: r, Clock: c, PublicURL: publicURL, Settings: st, Log: log}
}

// confirmed adds confirmed subscribers through an import.
func (e *env) confirmed(t testing.TB, edition string, emails ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for _, m := range emails {
		fmt.Fprintf(&b, "%s,%s\n", m, strings.Split(m, "@")[0])
	}
	rep, err := e.n.Import(context.Background(), edition, strings.NewReader(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Refused) > 0 {
		t.Fatalf("refused: %+v", rep.Refused)
	}
}

func (e *env) subscriber(t testing.TB, edition, email string) *kiosko.Subscriber {
	t.Helper()
	s, err := e.db.FindSubscriber(context.Background(), edition, email)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// tokenFrom extracts the token query parameter of the first link to path
// in text.
func tokenFrom(t testing.TB, text, path string) string {
	t.Helper()
	i := strings.Index(text, publicURL+path)
	if i < 0 {
		t.Fatalf("no link to %s in %q", path, text)
	}
	link := text[i:]
	if j := strings.IndexAny(link, " \r\n>\""); j >= 0 {
		link = link[:j]
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

var _ = mailpit.Start

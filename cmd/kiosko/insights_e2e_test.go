package main

import (
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko/internal/demo"
)

// TestConsoleInsights: each chart is an accessible SVG (well-formed, with
// role, title and desc) with its table and CSV, and today's numbers show
// what the reading API just did.
func TestConsoleInsights(t *testing.T) {
	m := startMain(t)
	warnSeat(t, m, "digital@kiosko.test")
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	code, page := b.get("/admin/insights")
	if code != 200 {
		t.Fatalf("insights: %d", code)
	}
	svgs := regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 8 {
		t.Fatalf("%d charts, want 8", len(svgs))
	}
	for _, s := range svgs {
		if err := xml.Unmarshal([]byte(s), new(struct{})); err != nil {
			t.Errorf("a chart is not well-formed SVG: %v", err)
		}
		if !strings.Contains(s, `role="img"`) || !strings.Contains(s, "<title id=") || !strings.Contains(s, "<desc id=") {
			t.Errorf("a chart lacks role, title or desc: %.200s", s)
		}
	}
	for _, id := range []string{"sharing", "takeovers", "warnings", "reading", "views", "walls", "growth", "newsletter"} {
		if !strings.Contains(page, `id="`+id+`-table"`) {
			t.Errorf("chart %s has no table", id)
		}
	}
	today := m.Clock.Now().UTC().Format("2006-01-02")
	rows := func(chart string) [][]string {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL()+"/admin/insights?format=csv&chart="+chart, nil)
		code, body, hdr := b.do(req)
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s CSV: %d %s", chart, code, hdr.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s CSV does not parse: %v", chart, err)
		}
		return recs
	}
	sharing := rows("sharing")
	if len(sharing) != 31 || sharing[0][0] != "day" || len(sharing[0]) != 4 {
		t.Fatalf("sharing CSV: %d rows, header %v", len(sharing), sharing[0])
	}
	last := sharing[len(sharing)-1]
	if last[0] != today || last[3] != "1" {
		t.Fatalf("today's sharing row %v: want the warned seat counted under warning", last)
	}
	warnings := rows("warnings")
	if w := warnings[len(warnings)-1]; w[1] != "1" {
		t.Fatalf("today's warnings row %v: want one set", w)
	}
	if out := rows("outcomes"); len(out) != 6 || out[5][0] != "nothing" || out[5][1] != "1" {
		t.Fatalf("outcomes CSV: %v", out)
	}
	if code, body := b.get("/admin/insights?from=2026-13-01"); code != 200 || !strings.Contains(body, `class="error"`) {
		t.Fatalf("a bad range: %d, no error shown", code)
	}
	if code, _ := b.get("/admin/insights?format=csv&chart=nope"); code != 404 {
		t.Fatalf("an unknown chart's CSV: %d", code)
	}
}

// TestConsolePaywallInsights: every article page shown and every embed
// decision is counted by who looked and by the wall shown, and the
// console's paywall charts show today's counts once they are flushed.
func TestConsolePaywallInsights(t *testing.T) {
	m := startMain(t, "--meter-anonymous", "1", "--meter-registered", "1")
	ctx := t.Context()
	anon := newBrowser(t, m)
	_, front := anon.get("/es/")
	var free, paid []string
	for _, id := range articleIDs(t, front, "es") {
		a, err := m.Store.FindArticleByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Access == "free" {
			free = append(free, id)
		} else if a.Access == "subscriber" {
			paid = append(paid, id)
		}
	}
	if len(free) < 2 || len(paid) < 1 {
		t.Fatalf("the demo front page has %d free and %d subscriber articles", len(free), len(paid))
	}
	anon.get("/es/" + free[0]) // read: the meter's one article
	anon.get("/es/" + free[1]) // sign-up wall
	anon.get("/es/" + paid[0]) // subscription wall
	registered := newBrowser(t, m)
	registered.signIn("free@kiosko.test", demo.Password)
	registered.get("/es/" + free[0])
	registered.get("/es/" + paid[0]) // subscription wall
	subscriber := newBrowser(t, m)
	subscriber.signIn("digital@kiosko.test", demo.Password)
	subscriber.get("/es/" + paid[0])
	// The embed's decision for a visitor of the publisher's own site.
	req, _ := http.NewRequest("POST", m.URL()+"/embed/v1/access", strings.NewReader(`{"article":"`+free[0]+`"}`))
	req.Header.Set("Content-Type", "application/json")
	if code, body, _ := newBrowser(t, m).do(req); code != 200 {
		t.Fatalf("embed access: %d %s", code, body)
	}
	admin := newBrowser(t, m)
	admin.signIn("admin@kiosko.test", demo.Password)
	today := m.Clock.Now().UTC().Format("2006-01-02")
	lastRow := func(chart string) []string {
		t.Helper()
		req, _ := http.NewRequest("GET", m.URL()+"/admin/insights?format=csv&chart="+chart, nil)
		code, body, _ := admin.do(req)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if code != 200 || err != nil || len(recs) < 2 {
			t.Fatalf("%s CSV: %d, %v", chart, code, err)
		}
		return recs[len(recs)-1]
	}
	if row := lastRow("views"); row[1] != "0" || row[2] != "0" || row[3] != "0" {
		t.Fatalf("views before the flush: %v; nothing is written on the request path", row)
	}
	if err := m.Deps.Views.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if row := lastRow("views"); row[0] != today || row[1] != "4" || row[2] != "2" || row[3] != "1" {
		t.Fatalf("today's views %v, want 4 anonymous (3 pages, 1 embed), 2 registered, 1 subscriber", row)
	}
	if row := lastRow("walls"); row[0] != today || row[1] != "1" || row[2] != "2" {
		t.Fatalf("today's walls %v, want 1 sign-up wall and 2 subscription walls", row)
	}
	// A second flush with nothing new changes nothing.
	if err := m.Deps.Views.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if row := lastRow("views"); row[1] != "4" {
		t.Fatalf("views after an empty flush: %v", row)
	}
}

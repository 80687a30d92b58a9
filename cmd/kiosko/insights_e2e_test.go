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
	if len(svgs) != 6 {
		t.Fatalf("%d charts, want 6", len(svgs))
	}
	for _, s := range svgs {
		if err := xml.Unmarshal([]byte(s), new(struct{})); err != nil {
			t.Errorf("a chart is not well-formed SVG: %v", err)
		}
		if !strings.Contains(s, `role="img"`) || !strings.Contains(s, "<title id=") || !strings.Contains(s, "<desc id=") {
			t.Errorf("a chart lacks role, title or desc: %.200s", s)
		}
	}
	for _, id := range []string{"sharing", "takeovers", "warnings", "reading", "growth", "newsletter"} {
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

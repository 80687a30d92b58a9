package main

import (
	"os"
	"regexp"
	"testing"
)

// TestDashboardUsesServedNames: every kiosko_ metric the Grafana dashboard
// queries is one /metrics serves, so the dashboard cannot drift.
func TestDashboardUsesServedNames(t *testing.T) {
	b, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	m := startMain(t)
	scrape(t, m, "") // counts a request, so the HTTP series exist
	fams := scrape(t, m, "")
	used := regexp.MustCompile(`\bkiosko_[a-z_]+`).FindAllString(string(b), -1)
	if len(used) < 10 {
		t.Fatalf("the dashboard queries only %d kiosko metrics", len(used))
	}
	for _, name := range used {
		base := regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(name, "")
		if fams[name] == nil && fams[base] == nil {
			t.Errorf("docs/grafana-dashboard.json queries %s, which /metrics does not serve", name)
		}
	}
}

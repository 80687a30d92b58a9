package main

import (
	"net/http"
	"strings"
	"testing"
)

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// A CMS pushes an article with a key made by "kiosko apikey create" on
// the server's own database; readers see it on the site; "revoke" shuts
// the key out at once.
func TestAPIKeyCommandAndPush(t *testing.T) {
	m := startMain(t)
	dir := m.Config.Data
	out, err := kioskoCLI(t, dir, "", "apikey", "create", "--name", "Our CMS", "--scopes", "newsroom")
	if err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	key := lastLine(out)
	if !strings.HasPrefix(key, "kiosko_") || strings.Contains(key, " ") {
		t.Fatalf("the key is not alone on the last line: %q", out)
	}
	if _, err := kioskoCLI(t, dir, "", "apikey", "create", "--name", "X", "--scopes", "newsroom,everything"); err == nil || !strings.Contains(err.Error(), "everything") {
		t.Errorf("an unknown scope: %v", err)
	}
	b := newBrowser(t, m)
	put := func(key string) int {
		req, _ := http.NewRequest("PUT", m.URL()+"/api/v1/newsroom/articles/us-pushed-story", strings.NewReader(
			`{"edition":"us","title":"Pushed from the CMS","dek":"It works.","body_markdown":"First *paragraph*.","access":"open","authors":["Desk"]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		status, body, _ := b.do(req)
		if status >= 300 && status != http.StatusUnauthorized {
			t.Errorf("PUT: %d %s", status, body)
		}
		return status
	}
	if st := put(key); st != http.StatusCreated {
		t.Fatalf("PUT with the new key: %d", st)
	}
	req, _ := http.NewRequest("GET", m.URL()+"/us/us-pushed-story", nil)
	status, page, _ := b.do(req)
	if status != http.StatusOK || !strings.Contains(page, "Pushed from the CMS") || !strings.Contains(page, "First <em>paragraph</em>.") {
		t.Fatalf("the pushed article's page: %d", status)
	}
	list, err := kioskoCLI(t, dir, "", "apikey", "list")
	if err != nil || !strings.Contains(list, "Our CMS") || strings.Contains(list, key) || strings.Contains(list, "never") {
		t.Errorf("apikey list (%v):\n%s", err, list)
	}
	if out, err := kioskoCLI(t, dir, "", "apikey", "revoke", "1"); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if st := put(key); st != http.StatusUnauthorized {
		t.Errorf("PUT with a revoked key: %d, want 401", st)
	}
	if _, err := kioskoCLI(t, dir, "", "apikey", "revoke", "99"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
}

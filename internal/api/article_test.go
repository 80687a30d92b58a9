package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

func TestListArticles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// The demo publication's articles, counted from its own files.
	demoArticles, err := demo.Articles(e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	perEdition := map[string]int{}
	for _, a := range demoArticles {
		perEdition[a.Edition]++
	}
	for _, tc := range []struct {
		name    string
		query   string
		status  int
		n       int
		edition string
	}{
		{"every edition", "", http.StatusOK, len(demoArticles), ""},
		{"Spanish edition", "?edition=es", http.StatusOK, perEdition["es"], "es"},
		{"English edition", "?edition=us", http.StatusOK, perEdition["us"], "us"},
		{"unknown edition", "?edition=xx", http.StatusNotFound, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Anyone may list; a signed-in reader sees the same.
			r := e.expect(t, call{method: "GET", path: "/api/v1/articles" + tc.query}, tc.status)
			if tc.status != http.StatusOK {
				if got := r.errorCode(t); got != kiosko.ENOTFOUND {
					t.Errorf("code %q", got)
				}
				return
			}
			var list []map[string]any
			if err := json.Unmarshal(r.body, &list); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
			if len(list) != tc.n {
				t.Fatalf("%d articles, want %d", len(list), tc.n)
			}
			var prev time.Time
			for i, a := range list {
				for _, k := range []string{"id", "edition", "title", "published_at", "access"} {
					if s, ok := a[k].(string); !ok || s == "" {
						t.Fatalf("article %d: %s is %v", i, k, a[k])
					}
				}
				if tc.edition != "" && a["edition"] != tc.edition {
					t.Errorf("article %v of edition %v", a["id"], a["edition"])
				}
				if acc, _ := a["access"].(string); !kiosko.ValidAccess(acc) {
					t.Errorf("access %v", acc)
				}
				at, err := time.Parse(time.RFC3339, a["published_at"].(string))
				if err != nil {
					t.Fatalf("published_at: %v", err)
				}
				if i > 0 && at.After(prev) {
					t.Errorf("not newest first at %v", a["id"])
				}
				prev = at
			}
		})
	}
}

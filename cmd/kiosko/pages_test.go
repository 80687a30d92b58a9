package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// Two nodes on one PostgreSQL and one Redis keep plans, articles and
// rendered pages in memory, yet a plan saved on node 1 is what node 2 sells
// within 1 s (here: half of it), and an article edited on node 1 is what
// node 2 shows at once.
func TestContentAndPlansReachEveryNode(t *testing.T) {
	redisURL := requireRedis(t)
	dbURL := pgtest.URL(t)
	prefix := fmt.Sprintf("kiosko-test-pages-%d:", time.Now().UnixNano())
	args := []string{"--database-url", dbURL, "--redis-url", redisURL, "--redis-prefix", prefix, "--secret", strings.Repeat("p", 40)}
	n1 := startMain(t, args...)
	n2 := startMain(t, append(args, "--seed-demo=false")...)
	if n2.Content == nil || n2.Plans.Changes == nil {
		t.Fatal("a node with Redis keeps no content or plans in memory")
	}
	// Redis carries a change in milliseconds; entries kept without the
	// feed would last a second or more, so half a second tells them apart.
	within := func(t *testing.T, what string, ok func() bool) {
		t.Helper()
		began := time.Now()
		for !ok() {
			if time.Since(began) > 500*time.Millisecond {
				t.Fatalf("node 2 does not show %s 0.5 s after it changed on node 1", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("node 2 showed %s after %v", what, time.Since(began))
	}

	t.Run("a plan saved on node 1", func(t *testing.T) {
		admin := newBrowser(t, n1)
		admin.signIn("admin@kiosko.test", demo.Password)
		for _, price := range []string{"19.25", "20.75"} {
			newBrowser(t, n2).get("/plans") // node 2 keeps the plans
			if _, err := n2.Plans.Find(kiosko.PlanPremium); err != nil {
				t.Fatal(err)
			}
			editPlan(t, admin, price)
			want := parseCentsForTest(price)
			within(t, "the new price", func() bool {
				p, err := n2.Plans.Find(kiosko.PlanPremium)
				return err == nil && kiosko.PriceFor(p, 2) == want
			})
		}
	})

	t.Run("an article edited on node 1", func(t *testing.T) {
		ctx := context.Background()
		arts, err := n1.Store.FindArticles(ctx, kiosko.ArticleFilter{Edition: "es", VisibleAt: time.Now(), Limit: 1})
		if err != nil || len(arts) == 0 {
			t.Fatalf("no article: %v", err)
		}
		a := arts[0]
		path := "/es/" + a.ID
		reader := newBrowser(t, n2)
		for range 2 { // kept by node 2
			if code, _ := reader.get(path); code != 200 {
				t.Fatalf("GET %s: %d", path, code)
			}
			reader.get("/es/")
		}
		a.Title = "Titular corregido en el nodo 1"
		if err := n1.Store.SaveArticle(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
		within(t, "the edited article", func() bool {
			_, page := reader.get(path)
			_, front := reader.get("/es/")
			return strings.Contains(page, a.Title) && strings.Contains(front, a.Title)
		})
	})
}

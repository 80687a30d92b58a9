package kiosko_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/sqlite"
)

func contentStore(t *testing.T) (*kiosko.NotifyingStore, *kiosko.ContentCache) {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	feed := inmem.NewChangeFeed("")
	ns := &kiosko.NotifyingStore{Store: db, Changes: feed}
	c := &kiosko.ContentCache{Store: ns, Changes: feed}
	feed.Listen(c.Forget)
	if err := ns.CreateEdition(context.Background(), &kiosko.Edition{Code: "es", Name: "España", Lang: "es"}); err != nil {
		t.Fatal(err)
	}
	return ns, c
}

func TestContentCacheFrontPageShowsAScheduledArticleAtItsTime(t *testing.T) {
	ns, c := contentStore(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	for _, a := range []*kiosko.Article{
		{ID: "ya", Edition: "es", Title: "Ya", Access: kiosko.AccessOpen, Status: kiosko.StatusPublished, PublishedAt: now.Add(-time.Hour)},
		{ID: "luego", Edition: "es", Title: "Luego", Access: kiosko.AccessOpen, Status: kiosko.StatusScheduled, PublishedAt: now.Add(time.Minute)},
	} {
		kiosko.ArticleDefaults(a)
		if err := ns.CreateArticle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	arts, s1, err := c.Front(ctx, "es", now, 10)
	if err != nil || len(arts) != 1 {
		t.Fatalf("front now: %d articles, %v", len(arts), err)
	}
	if _, s2, _ := c.Front(ctx, "es", now.Add(30*time.Second), 10); s2 != s1 {
		t.Error("the front page was read again before anything changed")
	}
	// No write happens when the scheduled time comes; the list ends then.
	arts, _, err = c.Front(ctx, "es", now.Add(time.Minute), 10)
	if err != nil || len(arts) != 2 || arts[0].ID != "luego" {
		t.Fatalf("at the scheduled time: %d articles, %v", len(arts), err)
	}
}

func TestContentCacheForgetsWhatChanged(t *testing.T) {
	ns, c := contentStore(t)
	ctx := context.Background()
	a := &kiosko.Article{ID: "nota", Edition: "es", Title: "Primera", Access: kiosko.AccessFree, Status: kiosko.StatusPublished, PublishedAt: time.Now().Add(-time.Hour)}
	kiosko.ArticleDefaults(a)
	if err := ns.CreateArticle(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Article(ctx, "nota"); err != nil || got.Title != "Primera" {
		t.Fatalf("article: %v", err)
	}
	_, s1, _ := c.Front(ctx, "es", time.Now(), 10)
	edit := *a
	edit.Title = "Segunda"
	if err := ns.SaveArticle(ctx, &edit, "test"); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Article(ctx, "nota"); got.Title != "Segunda" {
		t.Error("the cache kept the article as it was")
	}
	if arts, s2, _ := c.Front(ctx, "es", time.Now(), 10); s2 == s1 || arts[0].Title != "Segunda" {
		t.Error("the cache kept the front page as it was")
	}
	eds, e1, _ := c.Editions(ctx)
	if len(eds) != 1 {
		t.Fatalf("editions: %d", len(eds))
	}
	if err := ns.CreateEdition(ctx, &kiosko.Edition{Code: "us", Name: "US", Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	if eds, e2, _ := c.Editions(ctx); len(eds) != 2 || e2 == e1 {
		t.Error("a new edition is not listed")
	}
	if _, err := c.Edition(ctx, "zz"); !kiosko.IsNotFound(err) {
		t.Errorf("an unknown edition: %v", err)
	}
}

func TestSizedCacheStaysWithinItsBound(t *testing.T) {
	c := kiosko.NewSizedCache[int, string](100)
	for i := range 50 {
		c.Put(i, "x", 10)
		if _, ok := c.Get(i, time.Hour); !ok {
			t.Fatalf("entry %d not kept", i)
		}
	}
	if c.Len() != 10 {
		t.Errorf("%d entries of size 10 kept in 100", c.Len())
	}
	if _, ok := c.Get(0, time.Hour); ok {
		t.Error("the least recently used entry was kept")
	}
	c.Put(99, "big", 101)
	if _, ok := c.Get(99, time.Hour); ok {
		t.Error("an entry larger than the bound was kept")
	}
	if _, ok := c.Get(49, 0); ok {
		t.Error("an entry older than maxAge was returned")
	}
}

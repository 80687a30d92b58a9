package web

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// parsedFeed is what RFC 4287 requires of a feed and its entries.
type parsedFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  []struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Summary string `xml:"summary"`
		Content *struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

func TestFeedIsAtomWithoutSubscriberBodies(t *testing.T) {
	e := newEnv(t)
	open := &kiosko.Article{ID: "us-open-notice", Edition: "us", Title: "Water is safe again", Standfirst: "The city lifts the notice.",
		Authors: []string{"Desk"}, Access: kiosko.AccessOpen, BodyHTML: "<p>Open body.</p>", PublishedAt: testNow.Add(-time.Minute)}
	later := &kiosko.Article{ID: "us-later", Edition: "us", Title: "Later story", Access: kiosko.AccessFree, BodyHTML: "<p>Later.</p>",
		Status: kiosko.StatusScheduled, PublishedAt: testNow.Add(time.Hour)}
	for _, a := range []*kiosko.Article{open, later} {
		if err := e.store.CreateArticle(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser("en")
	p := b.get("/us/feed.xml")
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed: %d %s", p.status, p.header.Get("Content-Type"))
	}
	var f parsedFeed
	if err := xml.Unmarshal([]byte(p.body), &f); err != nil {
		t.Fatalf("not Atom: %v", err)
	}
	if f.ID == "" || f.Title == "" || len(f.Author) == 0 || len(f.Links) < 2 {
		t.Errorf("feed head: %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Errorf("feed updated %q", f.Updated)
	}
	subs := e.articles("us", kiosko.AccessSubscriber)
	openIDs := map[string]bool{}
	for _, a := range e.articles("us", kiosko.AccessOpen) {
		openIDs[a.ID] = true
	}
	ids := map[string]bool{}
	for _, en := range f.Entries {
		ids[en.ID] = true
		if en.Title == "" || en.Link.Href != en.ID || !strings.HasPrefix(en.ID, "http://kiosko.example/us/") {
			t.Errorf("entry %+v", en)
		}
		if _, err := time.Parse(time.RFC3339, en.Updated); err != nil {
			t.Errorf("entry updated %q", en.Updated)
		}
		// Only open articles may carry their body in the feed.
		if en.Content != nil && !openIDs[strings.TrimPrefix(en.ID, "http://kiosko.example/us/")] {
			t.Errorf("entry %s carries a body", en.ID)
		}
	}
	for _, a := range subs {
		if !ids["http://kiosko.example/us/"+a.ID] {
			t.Errorf("subscriber article %s is not listed", a.ID)
		}
		if strings.Contains(p.body, strings.SplitN(a.BodyHTML, "</p>", 2)[0][3:]) {
			t.Errorf("the feed carries the body of subscriber article %s", a.ID)
		}
	}
	if !strings.Contains(p.body, "Open body.") {
		t.Error("the open article's body is missing")
	}
	if ids["http://kiosko.example/us/us-later"] {
		t.Error("a scheduled article is in the feed before its time")
	}
	e.clock.Add(time.Hour)
	if !strings.Contains(b.get("/us/feed.xml").body, "us-later") || !strings.Contains(b.get("/us/").body, "Later story") {
		t.Error("a scheduled article is not in the feed and on the front page at its time")
	}
	if p := b.get("/fr/feed.xml"); p.status != http.StatusNotFound {
		t.Errorf("unknown edition's feed: %d", p.status)
	}
}

func TestSitemapsAndRobots(t *testing.T) {
	e := newEnv(t)
	b := e.browser("en")
	old := &kiosko.Article{ID: "us-old", Edition: "us", Title: "Old", Access: kiosko.AccessFree, PublishedAt: testNow.Add(-72 * time.Hour)}
	draft := &kiosko.Article{ID: "us-draft", Edition: "us", Title: "Draft", Access: kiosko.AccessFree, Status: kiosko.StatusDraft, PublishedAt: testNow.Add(-time.Hour)}
	fresh := &kiosko.Article{ID: "us-fresh", Edition: "us", Title: "Fresh & new", Access: kiosko.AccessFree, PublishedAt: testNow.Add(-time.Hour)}
	for _, a := range []*kiosko.Article{old, draft, fresh} {
		if err := e.store.CreateArticle(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	var set struct {
		URLs []struct {
			Loc  string `xml:"loc"`
			News *struct {
				Title string `xml:"title"`
				Date  string `xml:"publication_date"`
				Pub   struct {
					Name string `xml:"name"`
					Lang string `xml:"language"`
				} `xml:"publication"`
			} `xml:"news"`
		} `xml:"url"`
	}
	p := b.get("/sitemap.xml")
	if err := xml.Unmarshal([]byte(p.body), &set); err != nil || p.status != http.StatusOK {
		t.Fatalf("sitemap: %d %v", p.status, err)
	}
	locs := map[string]bool{}
	for _, u := range set.URLs {
		locs[u.Loc] = true
	}
	if !locs["http://kiosko.example/us/us-old"] || !locs["http://kiosko.example/es/"] || locs["http://kiosko.example/us/us-draft"] {
		t.Errorf("sitemap locations: %v", locs)
	}
	p = b.get("/us/news-sitemap.xml")
	set.URLs = nil
	if err := xml.Unmarshal([]byte(p.body), &set); err != nil || p.status != http.StatusOK || !strings.Contains(p.body, `xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"`) {
		t.Fatalf("news sitemap: %d %v", p.status, err)
	}
	found := false
	for _, u := range set.URLs {
		if u.News == nil || u.News.Pub.Lang != "en" || u.News.Pub.Name == "" || u.News.Date == "" {
			t.Errorf("news entry %+v", u)
		}
		found = found || u.Loc == "http://kiosko.example/us/us-fresh" && u.News.Title == "Fresh & new"
		if u.Loc == "http://kiosko.example/us/us-old" || u.Loc == "http://kiosko.example/us/us-draft" {
			t.Errorf("news sitemap lists %s", u.Loc)
		}
	}
	if !found {
		t.Error("the news sitemap lacks the article of the last hour")
	}
	r := b.get("/robots.txt")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Disallow: /newsroom/") || !strings.Contains(r.body, "Sitemap: http://kiosko.example/sitemap.xml") ||
		!strings.Contains(r.body, "Sitemap: http://kiosko.example/us/news-sitemap.xml") {
		t.Errorf("robots.txt: %d\n%s", r.status, r.body)
	}
}

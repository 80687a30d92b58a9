package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// Discovery: each edition's Atom feed and Google News sitemap, the site's
// sitemap and robots.txt. They list what readers see now (published, or
// scheduled for now or earlier), so a scheduled article appears in them
// at its time. A feed never carries a body that is not open.
func init() {
	routeHooks = append(routeHooks, func(s *Server, m *http.ServeMux) {
		s.Handle(m, "GET /sitemap.xml", s.sitemap)
		s.Handle(m, "GET /robots.txt", s.robots)
	})
}

// editionFile is the handler of /{edition}/NAME for the files every
// edition has, nil for an article's address. (A pattern of their own
// would conflict with /static/{file} and /invite/{token}; no article id,
// a slug, has a dot.)
func (s *Server) editionFile(name string) http.HandlerFunc {
	switch name {
	case "feed.xml":
		return s.feed
	case "news-sitemap.xml":
		return s.newsSitemap
	}
	return nil
}

// feedSize is how many articles a feed lists.
const feedSize = 50

// base is the site's absolute URL, without a trailing slash.
func (s *Server) base(r *http.Request) string {
	if b := strings.TrimRight(s.d.PublicURL, "/"); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  *atomPerson `xml:"author,omitempty"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

type atomEntry struct {
	ID        string        `xml:"id"`
	Title     string        `xml:"title"`
	Links     []atomLink    `xml:"link"`
	Published string        `xml:"published"`
	Updated   string        `xml:"updated"`
	Authors   []atomPerson  `xml:"author"`
	Category  *atomCategory `xml:"category,omitempty"`
	Summary   *atomText     `xml:"summary,omitempty"`
	Content   *atomText     `xml:"content,omitempty"`
}

// lastChange is when a last changed for a reader: its update, or its
// publication when that is later (a scheduled article).
func lastChange(a *kiosko.Article) time.Time {
	if a.UpdatedAt.After(a.PublishedAt) {
		return a.UpdatedAt
	}
	return a.PublishedAt
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) writeXML(w http.ResponseWriter, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	if err := enc.Encode(v); err != nil {
		s.d.Log.Warn("write xml", "err", err)
	}
}

// feed is GET /{edition}/feed.xml, Atom 1.0 (RFC 4287): title, link,
// summary (the standfirst), authors and dates of the newest articles; the
// body only of open ones.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	ed, ok := s.edition(w, r)
	if !ok {
		return
	}
	arts, err := s.d.Store.FindArticles(r.Context(), kiosko.ArticleFilter{Edition: ed.Code, VisibleAt: s.d.Clock.Now(), Limit: feedSize})
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("feed: %w", err))
		return
	}
	base := s.base(r)
	f := atomFeed{Lang: ed.Lang, ID: base + "/" + ed.Code + "/", Title: s.d.Catalog.T(ed.Lang, "web.site.name") + " · " + ed.Name,
		Links:  []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/" + ed.Code + "/feed.xml"}, {Rel: "alternate", Type: "text/html", Href: base + "/" + ed.Code + "/"}},
		Author: &atomPerson{Name: s.d.Catalog.T(ed.Lang, "web.site.name")}}
	var updated time.Time
	for _, a := range arts {
		url := base + "/" + a.Edition + "/" + a.ID
		e := atomEntry{ID: url, Title: a.Title, Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: url}},
			Published: atomTime(a.PublishedAt), Updated: atomTime(lastChange(a))}
		for _, name := range a.Authors {
			e.Authors = append(e.Authors, atomPerson{Name: name})
		}
		if a.Section != "" {
			e.Category = &atomCategory{Term: a.Section}
		}
		if a.Standfirst != "" {
			e.Summary = &atomText{Type: "text", Body: a.Standfirst}
		}
		if a.Access == kiosko.AccessOpen {
			e.Content = &atomText{Type: "html", Body: a.BodyHTML}
		}
		if u := lastChange(a); u.After(updated) {
			updated = u
		}
		f.Entries = append(f.Entries, e)
	}
	if updated.IsZero() {
		updated = time.Unix(0, 0)
	}
	f.Updated = atomTime(updated)
	s.writeXML(w, "application/atom+xml; charset=utf-8", f)
}

type urlSet struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	NewsNS  string       `xml:"xmlns:news,attr,omitempty"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string    `xml:"loc"`
	LastMod string    `xml:"lastmod,omitempty"`
	News    *newsItem `xml:"news:news,omitempty"`
}

type newsItem struct {
	Publication struct {
		Name     string `xml:"news:name"`
		Language string `xml:"news:language"`
	} `xml:"news:publication"`
	PublicationDate string `xml:"news:publication_date"`
	Title           string `xml:"news:title"`
}

const sitemapNS = "http://www.sitemaps.org/schemas/sitemap/0.9"

// sitemapLimit is the most URLs one sitemap file may hold.
const sitemapLimit = 50000

// sitemap is GET /sitemap.xml: every edition's front page and every
// article readers see now.
func (s *Server) sitemap(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	eds, err := s.d.Store.FindEditions(ctx)
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("sitemap: %w", err))
		return
	}
	base := s.base(r)
	set := urlSet{NS: sitemapNS}
	for _, ed := range eds {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + "/" + ed.Code + "/"})
	}
	arts, err := s.d.Store.FindArticles(ctx, kiosko.ArticleFilter{VisibleAt: s.d.Clock.Now(), Limit: sitemapLimit - len(set.URLs)})
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("sitemap: %w", err))
		return
	}
	for _, a := range arts {
		set.URLs = append(set.URLs, sitemapURL{Loc: base + "/" + a.Edition + "/" + a.ID, LastMod: atomTime(lastChange(a))})
	}
	s.writeXML(w, "application/xml; charset=utf-8", set)
}

// newsSitemap is GET /{edition}/news-sitemap.xml, Google News' format:
// the articles of the last 48 hours (at most 1,000).
func (s *Server) newsSitemap(w http.ResponseWriter, r *http.Request) {
	ed, ok := s.edition(w, r)
	if !ok {
		return
	}
	now := s.d.Clock.Now()
	arts, err := s.d.Store.FindArticles(r.Context(), kiosko.ArticleFilter{Edition: ed.Code, VisibleAt: now, Since: now.Add(-48 * time.Hour), Limit: 1000})
	if err != nil {
		s.ServerError(w, r, fmt.Errorf("news sitemap: %w", err))
		return
	}
	base := s.base(r)
	set := urlSet{NS: sitemapNS, NewsNS: "http://www.google.com/schemas/sitemap-news/0.9"}
	for _, a := range arts {
		n := &newsItem{PublicationDate: atomTime(a.PublishedAt), Title: a.Title}
		n.Publication.Name = s.d.Catalog.T(ed.Lang, "web.site.name")
		n.Publication.Language = ed.Lang
		set.URLs = append(set.URLs, sitemapURL{Loc: base + "/" + a.Edition + "/" + a.ID, News: n})
	}
	s.writeXML(w, "application/xml; charset=utf-8", set)
}

// robots is GET /robots.txt: everything readers see may be indexed; the
// newsroom, the API and readers' own pages may not; where the sitemaps are.
func (s *Server) robots(w http.ResponseWriter, r *http.Request) {
	base := s.base(r)
	var b strings.Builder
	b.WriteString("User-agent: *\nAllow: /\n")
	for _, p := range []string{"/newsroom/", "/api/", "/account", "/billing", "/signin", "/signup", "/password/"} {
		b.WriteString("Disallow: " + p + "\n")
	}
	b.WriteString("\nSitemap: " + base + "/sitemap.xml\n")
	if eds, err := s.d.Store.FindEditions(r.Context()); err == nil {
		for _, ed := range eds {
			b.WriteString("Sitemap: " + base + "/" + ed.Code + "/news-sitemap.xml\n")
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write([]byte(b.String()))
}

package postgres

import (
	"encoding/json"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/migrations"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// Articles stored before the newsroom keep their text, access and date,
// and become published articles with a Markdown body and one revision:
// the same as on SQLite, by the same rule as kiosko.ParagraphsBody.
func TestMigration0005CarriesArticlesOver(t *testing.T) {
	ctx := t.Context()
	url := pgtest.URL(t)
	all, err := migrations.Load(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	upTo4 := fstest.MapFS{}
	for _, m := range all {
		if m.Version <= 4 {
			upTo4[m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
		}
	}
	old, err := open(ctx, url, upTo4)
	if err != nil {
		t.Fatal(err)
	}
	paras := []string{
		"Plain prose with «comillas», ñ and \"quotes\" and it's.",
		"- not a list, * not emphasis *, _nor_ `this`, [nor](that) <b>nor</b> & &amp; # ! | ~ \\",
		"2026. Not a numbered list",
		"  12) nor this, indented",
		"> nor a quote",
	}
	body, _ := json.Marshal(paras)
	if _, err := old.pool.Exec(ctx, `INSERT INTO editions (code, name, lang, timezone) VALUES ('es', 'España', 'es', 'Europe/Madrid')`); err != nil {
		t.Fatal(err)
	}
	if _, err := old.pool.Exec(ctx, `INSERT INTO articles (id, edition, title, standfirst, author, body, access, published_at) VALUES
		('vieja', 'es', 'T', 'S', 'Ana', $1, 'free', 1000), ('sin-autor', 'es', 'T2', '', '', '[]', 'subscriber', 2000)`, string(body)); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := open(ctx, url, migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.FindArticleByID(ctx, "vieja")
	if err != nil {
		t.Fatal(err)
	}
	md, html := kiosko.ParagraphsBody(paras)
	if a.BodyMarkdown != md {
		t.Errorf("Markdown body:\n%q\nwant\n%q", a.BodyMarkdown, md)
	}
	if a.BodyHTML != html {
		t.Errorf("HTML body:\n%q\nwant\n%q", a.BodyHTML, html)
	}
	if a.Access != kiosko.AccessFree || a.Status != kiosko.StatusPublished || a.Revision != 1 || !slices.Equal(a.Authors, []string{"Ana"}) ||
		a.PublishedAt.UnixNano() != 1000 || !a.UpdatedAt.Equal(a.PublishedAt) {
		t.Errorf("carried over as %+v", a)
	}
	b, err := db.FindArticleByID(ctx, "sin-autor")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Authors) != 0 || b.BodyHTML != "" || b.Access != kiosko.AccessSubscriber {
		t.Errorf("article without author or body carried over as %+v", b)
	}
	revs, err := db.FindArticleRevisions(ctx, "vieja")
	if err != nil || len(revs) != 1 || revs[0].Article.BodyHTML != html {
		t.Errorf("revisions after the migration: %v, %v", revs, err)
	}
}

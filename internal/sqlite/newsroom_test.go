package sqlite

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kiosko/kiosko"
)

// migrationsUpTo is the embedded migrations up to version last.
func migrationsUpTo(t *testing.T, last int) fstest.MapFS {
	t.Helper()
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	out := fstest.MapFS{}
	for _, m := range ms {
		if m.Version <= last {
			out[m.Name] = &fstest.MapFile{Data: []byte(m.SQL)}
		}
	}
	return out
}

// legacyParagraphs is a body stored before 0005, with every kind of
// punctuation Markdown would otherwise read.
var legacyParagraphs = []string{
	"Plain prose with «comillas», ñ and \"quotes\" and it's.",
	"- not a list, * not emphasis *, _nor_ `this`, [nor](that) <b>nor</b> & &amp; # ! | ~ \\",
	"2026. Not a numbered list",
	"  12) nor this, indented",
	"> nor a quote",
}

// Articles stored before the newsroom keep their text, access and date,
// and become published articles with a Markdown body and one revision.
func TestMigration0005CarriesArticlesOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kiosko.db")
	old, err := open(path, migrationsUpTo(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(legacyParagraphs)
	for _, q := range []string{
		`INSERT INTO editions (code, name, lang, timezone) VALUES ('es', 'España', 'es', 'Europe/Madrid')`,
		`INSERT INTO articles (id, edition, title, standfirst, author, body, access, published_at) VALUES ('vieja', 'es', 'T', 'S', 'Ana', '` + strings.ReplaceAll(string(body), "'", "''") + `', 'free', 1000)`,
		`INSERT INTO articles (id, edition, title, standfirst, author, body, access, published_at) VALUES ('sin-autor', 'es', 'T2', '', '', '[]', 'subscriber', 2000)`,
	} {
		if _, err := old.write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := open(path, migrationFS)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	a, err := db.FindArticleByID(ctx, "vieja")
	if err != nil {
		t.Fatal(err)
	}
	md, html := kiosko.ParagraphsBody(legacyParagraphs)
	if a.BodyMarkdown != md {
		t.Errorf("Markdown body:\n%q\nwant\n%q", a.BodyMarkdown, md)
	}
	if a.BodyHTML != html {
		t.Errorf("HTML body:\n%q\nwant\n%q", a.BodyHTML, html)
	}
	if a.Access != kiosko.AccessFree || a.Status != kiosko.StatusPublished || a.Revision != 1 || !slices.Equal(a.Authors, []string{"Ana"}) ||
		a.Title != "T" || a.Standfirst != "S" || a.PublishedAt.UnixNano() != 1000 || !a.UpdatedAt.Equal(a.PublishedAt) {
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

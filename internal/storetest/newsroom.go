package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// draft is an unsaved article of edition es.
func draft(id string) *kiosko.Article {
	return &kiosko.Article{ID: id, Edition: "es", Title: "Título " + id, Standfirst: "Entradilla", Authors: []string{"Ana", "Luis"},
		Section: "Ciudad", Access: kiosko.AccessOpen, BodyMarkdown: "Uno *dos*.", BodyHTML: "<p>Uno <em>dos</em>.</p>\n",
		Image: "img1", ImageAlt: "Un tranvía", Status: kiosko.StatusDraft, PublishedAt: at(time.Hour), UpdatedAt: t0}
}

var newsroomTests = []test{
	{"SaveCreatesThenUpdatesWithRevisions", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := draft("nota")
		ok(t, s.SaveArticle(ctx, a, "editor@example.com"))
		if a.Revision != 1 {
			t.Fatalf("revision after the first save = %d, want 1", a.Revision)
		}
		got, err := s.FindArticleByID(ctx, "nota")
		ok(t, err)
		if got.Title != a.Title || got.Standfirst != a.Standfirst || !slices.Equal(got.Authors, a.Authors) || got.Section != a.Section ||
			got.Access != kiosko.AccessOpen || got.BodyMarkdown != a.BodyMarkdown || got.BodyHTML != a.BodyHTML ||
			got.Image != "img1" || got.ImageAlt != "Un tranvía" || got.Status != kiosko.StatusDraft || got.Revision != 1 {
			t.Errorf("stored %+v, want %+v", got, a)
		}
		sameTime(t, "PublishedAt", got.PublishedAt, at(time.Hour))
		sameTime(t, "UpdatedAt", got.UpdatedAt, t0)

		got.Title, got.Status, got.UpdatedAt = "Otro título", kiosko.StatusPublished, at(time.Minute)
		ok(t, s.SaveArticle(ctx, got, "cms"))
		if got.Revision != 2 {
			t.Fatalf("revision after the second save = %d, want 2", got.Revision)
		}
		revs, err := s.FindArticleRevisions(ctx, "nota")
		ok(t, err)
		if len(revs) != 2 || revs[0].Number != 2 || revs[1].Number != 1 {
			t.Fatalf("revisions = %d, want 2 newest first", len(revs))
		}
		if revs[0].Article.Title != "Otro título" || revs[0].SavedBy != "cms" || revs[1].Article.Title != a.Title ||
			revs[1].SavedBy != "editor@example.com" || revs[1].Article.Status != kiosko.StatusDraft || revs[1].Article.BodyHTML != a.BodyHTML {
			t.Errorf("revisions hold %+v and %+v", revs[0], revs[1])
		}
		sameTime(t, "revision 2 saved", revs[0].SavedAt, at(time.Minute))
		one, err := s.FindArticleRevision(ctx, "nota", 1)
		ok(t, err)
		if one.Article.Title != a.Title || !slices.Equal(one.Article.Authors, a.Authors) {
			t.Errorf("revision 1 = %+v", one.Article)
		}
		_, err = s.FindArticleRevision(ctx, "nota", 3)
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"SaveFromAStaleRevisionConflicts", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := draft("nota")
		ok(t, s.SaveArticle(ctx, a, ""))
		stale := *a
		a.Title = "Primero"
		ok(t, s.SaveArticle(ctx, a, ""))
		stale.Title = "Segundo"
		wantError(t, s.SaveArticle(ctx, &stale, ""), kiosko.ECONFLICT, "error.article_changed")
		fresh := draft("nota")
		wantCode(t, s.SaveArticle(ctx, fresh, ""), kiosko.ECONFLICT) // revision 0: must not exist
		got, err := s.FindArticleByID(ctx, "nota")
		ok(t, err)
		if got.Title != "Primero" || got.Revision != 2 {
			t.Errorf("after the conflicts: %q at revision %d", got.Title, got.Revision)
		}
		revs, err := s.FindArticleRevisions(ctx, "nota")
		ok(t, err)
		if len(revs) != 2 {
			t.Errorf("a refused save left a revision: %d", len(revs))
		}
		wantCode(t, s.SaveArticle(ctx, &kiosko.Article{ID: "x", Edition: "fr", Title: "T", Access: kiosko.AccessFree}, ""), kiosko.EINVALID)
	}},
	{"RacingSavesOneWins", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := draft("nota")
		ok(t, s.SaveArticle(ctx, a, ""))
		errs := race(6, func(i int) error {
			b := *a
			b.Title = "Versión"
			return s.SaveArticle(ctx, &b, "")
		})
		oneWinner(t, errs, kiosko.ECONFLICT, "error.article_changed")
	}},
	{"EventsCommitWithTheSaveOnly", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := draft("nota")
		ev := kiosko.NewEvent(kiosko.EventArticlePublished, 0, 0, map[string]string{"id": "nota"}, t0)
		ok(t, s.SaveArticle(kiosko.WithEvents(ctx, ev), a, ""))
		stale := draft("nota")
		wantCode(t, s.SaveArticle(kiosko.WithEvents(ctx, ev), stale, ""), kiosko.ECONFLICT)
		evs, err := s.FindEvents(ctx, kiosko.EventFilter{Types: []string{kiosko.EventArticlePublished}})
		ok(t, err)
		if len(evs) != 1 {
			t.Errorf("article.published events = %d, want 1 (the refused save's is not stored)", len(evs))
		}
	}},
	{"ReadersSeePublishedAndDueOnly", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		for _, c := range []struct {
			id, status string
			at         time.Duration
		}{
			{"borrador", kiosko.StatusDraft, 0},
			{"publicada", kiosko.StatusPublished, -time.Hour},
			{"programada-vencida", kiosko.StatusScheduled, -time.Minute},
			{"programada", kiosko.StatusScheduled, time.Hour},
			{"retirada", kiosko.StatusUnpublished, -2 * time.Hour},
		} {
			a := draft(c.id)
			a.Status, a.PublishedAt = c.status, t0.Add(c.at)
			ok(t, s.SaveArticle(ctx, a, ""))
		}
		for _, c := range []struct {
			name string
			f    kiosko.ArticleFilter
			want []string
		}{
			{"default", kiosko.ArticleFilter{}, []string{"programada", "programada-vencida", "publicada"}},
			{"visible now", kiosko.ArticleFilter{VisibleAt: t0}, []string{"programada-vencida", "publicada"}},
			{"drafts", kiosko.ArticleFilter{Statuses: []string{kiosko.StatusDraft}}, []string{"borrador"}},
			{"scheduled due", kiosko.ArticleFilter{Statuses: []string{kiosko.StatusScheduled}, VisibleAt: t0}, []string{"programada-vencida"}},
			{"every status", kiosko.ArticleFilter{Statuses: []string{kiosko.StatusDraft, kiosko.StatusScheduled, kiosko.StatusPublished, kiosko.StatusUnpublished}},
				[]string{"programada", "borrador", "programada-vencida", "publicada", "retirada"}},
		} {
			got, err := s.FindArticles(ctx, c.f)
			ok(t, err)
			if ids := articleIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("%s: %v, want %v", c.name, ids, c.want)
			}
		}
		a, err := s.FindArticleByID(ctx, "retirada")
		ok(t, err)
		if !a.Gone() || a.VisibleAt(t0) {
			t.Errorf("an unpublished article: gone %v, visible %v", a.Gone(), a.VisibleAt(t0))
		}
	}},
	{"OldArticlesArePublished", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		ok(t, s.CreateArticle(ctx, &kiosko.Article{ID: "vieja", Edition: "es", Title: "T", Access: kiosko.AccessFree, PublishedAt: t0}))
		a, err := s.FindArticleByID(ctx, "vieja")
		ok(t, err)
		if a.Status != kiosko.StatusPublished || a.Revision != 1 || a.Authors == nil {
			t.Errorf("an article stored without a status: %q revision %d authors %v", a.Status, a.Revision, a.Authors)
		}
		sameTime(t, "UpdatedAt", a.UpdatedAt, t0)
	}},
}

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

var apiKeyTests = []test{
	{"CreateFindListRevoke", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		k, secret, err := kiosko.NewAPIKey("Our CMS", []string{kiosko.ScopeNewsroom, kiosko.ScopeWebhooks, kiosko.ScopeNewsroom}, t0)
		ok(t, err)
		ok(t, s.CreateAPIKey(ctx, k))
		if k.ID == 0 {
			t.Fatal("CreateAPIKey set no ID")
		}
		got, err := s.FindAPIKeyByHash(ctx, kiosko.HashAPIKey(secret))
		ok(t, err)
		if got.ID != k.ID || got.Name != "Our CMS" || !slices.Equal(got.Scopes, []string{kiosko.ScopeNewsroom, kiosko.ScopeWebhooks}) ||
			got.Prefix != secret[:len(got.Prefix)] || got.Revoked() || got.LastUsedAt != nil {
			t.Errorf("found %+v", got)
		}
		sameTime(t, "CreatedAt", got.CreatedAt, t0)
		_, err = s.FindAPIKeyByHash(ctx, kiosko.HashAPIKey(secret+"x"))
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindAPIKeyByHash(ctx, secret) // the key itself is not what is stored
		wantCode(t, err, kiosko.ENOTFOUND)

		ok(t, s.TouchAPIKey(ctx, k.ID, at(time.Minute)))
		ok(t, s.RevokeAPIKey(ctx, k.ID, at(time.Hour)))
		ok(t, s.RevokeAPIKey(ctx, k.ID, at(2*time.Hour)))
		wantCode(t, s.RevokeAPIKey(ctx, k.ID+100, t0), kiosko.ENOTFOUND)
		other, _, err := kiosko.NewAPIKey("Backend", []string{kiosko.ScopeAdmin}, t0)
		ok(t, err)
		ok(t, s.CreateAPIKey(ctx, other))
		all, err := s.FindAPIKeys(ctx)
		ok(t, err)
		if len(all) != 2 || all[0].ID != k.ID || all[1].ID != other.ID {
			t.Fatalf("FindAPIKeys = %d keys", len(all))
		}
		if !all[0].Revoked() || all[1].Revoked() {
			t.Errorf("revoked: %v, %v", all[0].Revoked(), all[1].Revoked())
		}
		sameTimePtr(t, "RevokedAt", all[0].RevokedAt, ptr(at(time.Hour)))
		sameTimePtr(t, "LastUsedAt", all[0].LastUsedAt, ptr(at(time.Minute)))
	}},
}

var imageTests = []test{
	{"CreateAndServe", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		img := &kiosko.ArticleImage{ID: "abc123", Width: 2000, Height: 1000, CreatedAt: t0, CreatedBy: "editor@example.com"}
		files := []kiosko.ImageFile{{Width: 320, ContentType: "image/jpeg", Data: []byte{0xff, 0xd8, 1}}, {Width: 960, ContentType: "image/jpeg", Data: []byte{0xff, 0xd8, 2, 0}}}
		ok(t, s.CreateArticleImage(ctx, img, files))
		got, err := s.FindArticleImage(ctx, "abc123")
		ok(t, err)
		if got.Width != 2000 || got.Height != 1000 || !slices.Equal(got.Widths, []int{320, 960}) || got.CreatedBy != "editor@example.com" {
			t.Errorf("FindArticleImage = %+v", got)
		}
		f, err := s.FindImageFile(ctx, "abc123", 960)
		ok(t, err)
		if f.ContentType != "image/jpeg" || !slices.Equal(f.Data, files[1].Data) {
			t.Errorf("FindImageFile = %+v", f)
		}
		_, err = s.FindImageFile(ctx, "abc123", 640)
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindArticleImage(ctx, "nope")
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.CreateArticleImage(ctx, &kiosko.ArticleImage{ID: "abc123", CreatedAt: t0}, nil), kiosko.ECONFLICT)
	}},
}

var editionDataTests = []test{
	{"NewsletterDayRoundTrips", func(t *testing.T, s kiosko.Store) {
		e := &kiosko.Edition{Code: "mx", Name: "Edición México", Lang: kiosko.LangSpanish, Timezone: "America/Mexico_City", NewsletterDay: "monday"}
		ok(t, s.CreateEdition(t.Context(), e))
		got, err := s.FindEdition(t.Context(), "mx")
		ok(t, err)
		if *got != *e {
			t.Errorf("FindEdition = %+v, want %+v", got, e)
		}
	}},
}

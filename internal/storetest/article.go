package storetest

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func newEdition(t *testing.T, s kiosko.Store, code, lang string) *kiosko.Edition {
	t.Helper()
	e := &kiosko.Edition{Code: code, Name: "Edition " + code, Lang: lang, Timezone: "Europe/Madrid"}
	if err := s.CreateEdition(t.Context(), e); err != nil {
		t.Fatalf("CreateEdition: %v", err)
	}
	return e
}

func newArticle(t *testing.T, s kiosko.Store, id, edition string, published time.Time) *kiosko.Article {
	t.Helper()
	a := &kiosko.Article{ID: id, Edition: edition, Title: "Title " + id, Standfirst: "Standfirst", Authors: []string{"Redacción"},
		BodyMarkdown: "First paragraph.\n\nSecond, with \"quotes\" and ñ.", BodyHTML: "<p>First paragraph.</p>\n<p>Second, with &#34;quotes&#34; and ñ.</p>\n",
		Access: kiosko.AccessSubscriber, PublishedAt: published}
	if err := s.CreateArticle(t.Context(), a); err != nil {
		t.Fatalf("CreateArticle: %v", err)
	}
	return a
}

func articleIDs(as []*kiosko.Article) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

var articleTests = []test{
	{"Editions", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		es := newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		got, err := s.FindEdition(ctx, "es")
		ok(t, err)
		if *got != *es {
			t.Errorf("FindEdition = %+v, want %+v", got, es)
		}
		_, err = s.FindEdition(ctx, "fr")
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.CreateEdition(ctx, &kiosko.Edition{Code: "es", Name: "Again", Lang: "es"}), kiosko.ECONFLICT)
		all, err := s.FindEditions(ctx)
		ok(t, err)
		var codes []string
		for _, e := range all {
			codes = append(codes, e.Code)
		}
		sort.Strings(codes)
		if !slices.Equal(codes, []string{"es", "us"}) {
			t.Errorf("FindEditions = %v", codes)
		}
	}},
	{"NoEditions", func(t *testing.T, s kiosko.Store) {
		all, err := s.FindEditions(t.Context())
		ok(t, err)
		if len(all) != 0 {
			t.Errorf("FindEditions on an empty store = %d", len(all))
		}
	}},
	{"CreateAndFind", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := newArticle(t, s, "la-noticia", "es", t0)
		got, err := s.FindArticleByID(ctx, "la-noticia")
		ok(t, err)
		if got.ID != a.ID || got.Edition != a.Edition || got.Title != a.Title || got.Standfirst != a.Standfirst ||
			!slices.Equal(got.Authors, a.Authors) || got.Access != a.Access || got.BodyMarkdown != a.BodyMarkdown || got.BodyHTML != a.BodyHTML ||
			got.Status != kiosko.StatusPublished || got.Revision != 1 {
			t.Errorf("FindArticleByID = %+v, want %+v", got, a)
		}
		sameTime(t, "PublishedAt", got.PublishedAt, t0)
		_, err = s.FindArticleByID(ctx, "no-such-story")
		wantCode(t, err, kiosko.ENOTFOUND)
	}},
	{"IDTaken", func(t *testing.T, s kiosko.Store) {
		newEdition(t, s, "es", kiosko.LangSpanish)
		a := newArticle(t, s, "la-noticia", "es", t0)
		dup := *a
		dup.Title = "Another"
		wantCode(t, s.CreateArticle(t.Context(), &dup), kiosko.ECONFLICT)
	}},
	{"FindNewestFirstAndFilters", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		for i := range 5 {
			newArticle(t, s, fmt.Sprintf("es-%d", i), "es", at(time.Duration(i)*time.Hour))
		}
		newArticle(t, s, "us-0", "us", at(150*time.Minute))
		for _, c := range []struct {
			name string
			f    kiosko.ArticleFilter
			want []string
		}{
			{"all", kiosko.ArticleFilter{}, []string{"es-4", "es-3", "us-0", "es-2", "es-1", "es-0"}},
			{"edition", kiosko.ArticleFilter{Edition: "es"}, []string{"es-4", "es-3", "es-2", "es-1", "es-0"}},
			{"since inclusive", kiosko.ArticleFilter{Since: at(2 * time.Hour)}, []string{"es-4", "es-3", "us-0", "es-2"}},
			{"until exclusive", kiosko.ArticleFilter{Until: at(2 * time.Hour)}, []string{"es-1", "es-0"}},
			{"week", kiosko.ArticleFilter{Edition: "es", Since: at(time.Hour), Until: at(3 * time.Hour)}, []string{"es-2", "es-1"}},
			{"limit", kiosko.ArticleFilter{Edition: "es", Limit: 2}, []string{"es-4", "es-3"}},
			{"none", kiosko.ArticleFilter{Edition: "fr"}, []string{}},
		} {
			got, err := s.FindArticles(ctx, c.f)
			ok(t, err)
			if !slices.Equal(articleIDs(got), c.want) {
				t.Errorf("%s: FindArticles = %v, want %v", c.name, articleIDs(got), c.want)
			}
		}
	}},
}

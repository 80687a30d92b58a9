package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/markup"
)

type renderer struct{}

func (renderer) Markdown(s string) (string, error) { return markup.Markdown(s) }
func (renderer) HTML(s string) string              { return markup.HTML(s) }

// withNewsroom gives the API the newsroom service.
func withNewsroom(d *httpx.Deps) {
	d.PublicURL = "https://news.example"
	d.Newsroom = &kiosko.Newsroom{Store: d.Store, Render: renderer{}, Clock: d.Clock, PublicURL: "https://news.example", Log: d.Log}
}

// newsroomKey stores an API key with scopes and returns it.
func newsroomKey(t *testing.T, e *env, scopes ...string) string {
	t.Helper()
	key, secret, err := kiosko.NewAPIKey("CMS", scopes, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.deps.Store.CreateAPIKey(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	return secret
}

// newsroomEnv is the API with the newsroom service and an API key of
// each kind.
func newsroomEnv(t *testing.T) (e *env, newsroomKey, webhooksKey string) {
	t.Helper()
	e = newEnv(t, func(d *httpx.Deps) {
		d.PublicURL = "https://news.example"
		d.Newsroom = &kiosko.Newsroom{Store: d.Store, Render: renderer{}, Clock: d.Clock, PublicURL: "https://news.example", Log: d.Log}
	})
	for _, k := range []struct {
		scope string
		out   *string
	}{{kiosko.ScopeNewsroom, &newsroomKey}, {kiosko.ScopeWebhooks, &webhooksKey}} {
		key, secret, err := kiosko.NewAPIKey("CMS "+k.scope, []string{k.scope}, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := e.deps.Store.CreateAPIKey(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		*k.out = secret
	}
	return e, newsroomKey, webhooksKey
}

func decodeArticle(t *testing.T, r response) NewsroomArticleJSON {
	t.Helper()
	var a NewsroomArticleJSON
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("answer %s: %v", r.body, err)
	}
	return a
}

func TestNewsroomPutIsIdempotentAndReadersSeeIt(t *testing.T) {
	t.Parallel()
	e, key, _ := newsroomEnv(t)
	path := "/api/v1/newsroom/articles/us-council-votes"
	body := map[string]any{"edition": "us", "title": "Council votes on the budget", "dek": "A close vote.",
		"body_markdown": "The council **voted**.\n\n<script>alert(1)</script>[x](javascript:alert(1))", "authors": []string{"Sam Lee"},
		"section": "City", "access": "free"}
	r := e.expect(t, call{method: "PUT", path: path, token: key, body: body}, http.StatusCreated)
	a := decodeArticle(t, r)
	if a.Status != kiosko.StatusPublished || a.Revision != 1 || a.Dek != "A close vote." || a.Authors[0] != "Sam Lee" ||
		a.URL != "https://news.example/us/us-council-votes" || !strings.Contains(a.BodyHTML, "<strong>voted</strong>") {
		t.Errorf("created: %+v", a)
	}
	if strings.Contains(a.BodyHTML, "<script") || strings.Contains(a.BodyHTML, `href="javascript:`) {
		t.Errorf("stored body is not sanitized: %s", a.BodyHTML)
	}
	// The same push again changes nothing: 200, same revision.
	again := decodeArticle(t, e.expect(t, call{method: "PUT", path: path, token: key, body: body}, http.StatusOK))
	if again.Revision != 1 || again.UpdatedAt != a.UpdatedAt {
		t.Errorf("a repeated PUT made revision %d (updated %s, was %s)", again.Revision, again.UpdatedAt, a.UpdatedAt)
	}
	body["title"] = "Council passes the budget"
	upd := decodeArticle(t, e.expect(t, call{method: "PUT", path: path, token: key, body: body}, http.StatusOK))
	if upd.Revision != 2 || upd.Title != "Council passes the budget" || upd.PublishedAt != a.PublishedAt {
		t.Errorf("updated: %+v", upd)
	}
	evs, err := e.deps.Store.FindEvents(t.Context(), kiosko.EventFilter{Types: []string{kiosko.EventArticlePublished}})
	if err != nil || len(evs) != 1 {
		t.Fatalf("article.published events = %d (%v), want 1: publishing once, however often pushed", len(evs), err)
	}
	// Readers: listed, and the body comes with the meter.
	got := e.expect(t, call{method: "GET", path: "/api/v1/articles/us-council-votes"}, http.StatusOK).json(t)
	if got["dek"] != "A close vote." || got["access"] != "free" || !strings.Contains(got["body_html"].(string), "voted") {
		t.Errorf("reader's article: %v", got)
	}
	list := e.expect(t, call{method: "GET", path: "/api/v1/articles?edition=us"}, http.StatusOK)
	if !strings.Contains(string(list.body), `"us-council-votes"`) {
		t.Error("a published article is not listed")
	}
	// DELETE: 204, then readers get 410; the newsroom still has it.
	e.expect(t, call{method: "DELETE", path: path, token: key}, http.StatusNoContent)
	e.expect(t, call{method: "DELETE", path: path, token: key}, http.StatusNoContent)
	if code := e.expect(t, call{method: "GET", path: "/api/v1/articles/us-council-votes"}, http.StatusGone).errorCode(t); code != kiosko.EGONE {
		t.Errorf("code %q", code)
	}
	if st := decodeArticle(t, e.expect(t, call{method: "GET", path: path, token: key}, http.StatusOK)).Status; st != kiosko.StatusUnpublished {
		t.Errorf("status after DELETE: %q", st)
	}
	if list := e.expect(t, call{method: "GET", path: "/api/v1/articles?edition=us"}, http.StatusOK); strings.Contains(string(list.body), `"us-council-votes"`) {
		t.Error("an unpublished article is still listed")
	}
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: e.signIn(t, "digital@kiosko.test", "Phone").token,
		body: map[string]any{"article": "us-council-votes"}}, http.StatusNotFound)
}

func TestNewsroomDraftsScheduleAndHTML(t *testing.T) {
	t.Parallel()
	e, key, _ := newsroomEnv(t)
	put := func(id string, body map[string]any, status int) NewsroomArticleJSON {
		t.Helper()
		return decodeArticle(t, e.expect(t, call{method: "PUT", path: "/api/v1/newsroom/articles/" + id, token: key, body: body}, status))
	}
	d := put("es-borrador", map[string]any{"edition": "es", "title": "Borrador", "body_markdown": "Texto.", "access": "open", "status": "draft"}, http.StatusCreated)
	if d.Status != kiosko.StatusDraft {
		t.Errorf("draft stored as %q", d.Status)
	}
	e.expect(t, call{method: "GET", path: "/api/v1/articles/es-borrador"}, http.StatusNotFound)
	e.expect(t, call{method: "GET", path: "/api/v1/newsroom/articles/es-borrador", token: key}, http.StatusOK)

	later := e.clock.Now().Add(2 * time.Hour).Format(time.RFC3339)
	s := put("es-programada", map[string]any{"edition": "es", "title": "Programada", "body_html": `<p onclick="x()">Hola <a href="javascript:alert(1)">y</a><img src=x onerror=alert(1)></p>`,
		"access": "open", "published_at": later}, http.StatusCreated)
	if s.Status != kiosko.StatusScheduled || s.PublishedAt != later || s.BodyMarkdown != "" {
		t.Errorf("scheduled: %+v", s)
	}
	for _, bad := range []string{"onclick", "javascript:", "onerror", "<img src=x"} {
		if strings.Contains(s.BodyHTML, bad) {
			t.Errorf("pushed HTML kept %q: %s", bad, s.BodyHTML)
		}
	}
	e.expect(t, call{method: "GET", path: "/api/v1/articles/es-programada"}, http.StatusNotFound)
	e.clock.Add(2*time.Hour + time.Second)
	got := e.expect(t, call{method: "GET", path: "/api/v1/articles/es-programada"}, http.StatusOK).json(t)
	if _, ok := got["body_html"]; !ok {
		t.Errorf("an open article without its body: %v", got)
	}
	n, err := e.deps.Newsroom.PublishDue(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("PublishDue = %d, %v; want 1", n, err)
	}
	if n, _ := e.deps.Newsroom.PublishDue(t.Context()); n != 0 {
		t.Errorf("PublishDue again = %d, want 0", n)
	}
	if st := decodeArticle(t, e.expect(t, call{method: "GET", path: "/api/v1/newsroom/articles/es-programada", token: key}, http.StatusOK)).Status; st != kiosko.StatusPublished {
		t.Errorf("after its time: %q", st)
	}
}

func TestNewsroomErrors(t *testing.T) {
	t.Parallel()
	e, key, webhooksKey := newsroomEnv(t)
	path := "/api/v1/newsroom/articles/us-x"
	good := map[string]any{"edition": "us", "title": "T", "body_markdown": "B", "access": "free"}
	reader := e.signIn(t, "digital@kiosko.test", "Laptop")
	editor := e.signIn(t, "editor@kiosko.test", "Desk")
	for _, c := range []struct {
		name   string
		call   call
		status int
		code   string
		lang   string // message language
		field  string
	}{
		{"no credentials", call{method: "PUT", path: path, body: good}, 401, kiosko.EUNAUTHORIZED, "", ""},
		{"unknown key", call{method: "PUT", path: path, token: kiosko.APIKeyPrefix + "nope", body: good}, 401, kiosko.EUNAUTHORIZED, "", ""},
		{"key without the scope", call{method: "PUT", path: path, token: webhooksKey, body: good}, 403, kiosko.EFORBIDDEN, "", ""},
		{"a reader's session", call{method: "PUT", path: path, token: reader.token, body: good}, 403, kiosko.EFORBIDDEN, "", ""},
		{"not JSON", call{method: "PUT", path: path, token: key, body: "title=T"}, 400, kiosko.EINVALID, "", ""},
		{"unknown field", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "title": "T", "body": "B", "access": "free"}}, 400, kiosko.EINVALID, "", "body"},
		{"no title, in Spanish", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "access": "free"}, header: map[string]string{"Accept-Language": "es"}}, 400, kiosko.EINVALID, "es", "title"},
		{"bad access", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "title": "T", "access": "premium"}}, 400, kiosko.EINVALID, "", "access"},
		{"unknown edition", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "fr", "title": "T", "access": "free"}}, 400, kiosko.EINVALID, "", "edition"},
		{"bad slug", call{method: "PUT", path: "/api/v1/newsroom/articles/Not%20A%20Slug", token: key, body: good}, 400, kiosko.EINVALID, "", "id"},
		{"both bodies", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "title": "T", "access": "free", "body_markdown": "a", "body_html": "b"}}, 400, kiosko.EINVALID, "", "body"},
		{"bad date", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "title": "T", "access": "free", "published_at": "tomorrow"}}, 400, kiosko.EINVALID, "", "published_at"},
		{"too large", call{method: "PUT", path: path, token: key, body: map[string]any{"edition": "us", "title": "T", "access": "free", "body_markdown": strings.Repeat("a", MaxArticleBytes)}}, 413, kiosko.ETOOLARGE, "", ""},
		{"unknown article", call{method: "GET", path: "/api/v1/newsroom/articles/nothing", token: key}, 404, kiosko.ENOTFOUND, "", ""},
		{"unpublish unknown", call{method: "DELETE", path: "/api/v1/newsroom/articles/nothing", token: editor.token}, 404, kiosko.ENOTFOUND, "", ""},
		{"stale revision", call{method: "PUT", path: "/api/v1/newsroom/articles/us-ferry-returns", token: key,
			body: map[string]any{"edition": "us", "title": "T", "access": "free", "revision": 7}}, 409, kiosko.ECONFLICT, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.expect(t, c.call, c.status)
			var body httpx.ErrorBody
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error.Code != c.code || body.Error.Message == "" {
				t.Fatalf("error body %s (%v), want code %q", r.body, err, c.code)
			}
			if c.field != "" && body.Error.Field != c.field {
				t.Errorf("field %q, want %q", body.Error.Field, c.field)
			}
			if c.lang == "es" && body.Error.Message == e.deps.Catalog.T("en", "error.article_title") {
				t.Errorf("message in English for a Spanish request: %q", body.Error.Message)
			}
		})
	}
	if _, err := e.deps.Store.FindArticleByID(t.Context(), "us-x"); !kiosko.IsNotFound(err) {
		t.Errorf("a refused PUT stored something: %v", err)
	}
	// An editor's session may push too; the revision names them.
	e.expect(t, call{method: "PUT", path: path, token: editor.token, body: good}, http.StatusCreated)
	revs, err := e.deps.Store.FindArticleRevisions(t.Context(), "us-x")
	if err != nil || len(revs) != 1 || revs[0].SavedBy != "editor@kiosko.test" {
		t.Errorf("revisions %v, %v", revs, err)
	}
	// A revoked key is refused at once.
	keys, _ := e.deps.Store.FindAPIKeys(t.Context())
	for _, k := range keys {
		if err := e.deps.Store.RevokeAPIKey(t.Context(), k.ID, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	e.expect(t, call{method: "GET", path: path, token: key}, http.StatusUnauthorized)
}

// body_html comes only to a caller who may read the article now.
func TestReaderArticleBody(t *testing.T) {
	t.Parallel()
	e, _, _ := newsroomEnv(t)
	sub := "/api/v1/articles/" + subscriberArticle
	if m := e.expect(t, call{method: "GET", path: sub}, http.StatusOK).json(t); m["body_html"] != nil || m["access"] != "subscriber" {
		t.Errorf("anonymous reader got a subscriber body: %v", m)
	}
	phone := e.signIn(t, "digital@kiosko.test", "Phone")
	if m := e.expect(t, call{method: "GET", path: sub, token: phone.token}, http.StatusOK).json(t); m["body_html"] != nil {
		t.Error("a subscriber got the body without holding the lease")
	}
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: map[string]any{"article": subscriberArticle}}, http.StatusOK)
	if m := e.expect(t, call{method: "GET", path: sub, token: phone.token}, http.StatusOK).json(t); m["body_html"] == nil {
		t.Error("the lease holder did not get the body")
	}
	laptop := e.signIn(t, "digital@kiosko.test", "Laptop")
	if m := e.expect(t, call{method: "GET", path: sub, token: laptop.token}, http.StatusOK).json(t); m["body_html"] != nil {
		t.Error("another device of the seat got the body while the phone reads")
	}
	free := e.signIn(t, "free@kiosko.test", "Tablet")
	if m := e.expect(t, call{method: "GET", path: "/api/v1/articles/" + freeArticle, token: free.token}, http.StatusOK).json(t); m["body_html"] == nil {
		t.Error("a free account within its meter did not get a free body")
	}
	month := kiosko.MeterMonth(e.clock.Now())
	acct, _ := e.deps.Store.FindAccountByEmail(t.Context(), "free@kiosko.test")
	if read, _ := e.deps.Store.FindMeteredReads(t.Context(), acct.ID, month); len(read) != 1 {
		t.Errorf("metered reads after one free body: %v", read)
	}
}

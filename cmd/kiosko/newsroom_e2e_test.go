package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/demo"
)

// lastLine is the last non-empty line of out.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// A CMS pushes an article with a key made by "kiosko apikey create" on
// the server's own database; readers see it on the site; "revoke" shuts
// the key out at once.
func TestAPIKeyCommandAndPush(t *testing.T) {
	m := startMain(t)
	dir := m.Config.Data
	out, err := kioskoCLI(t, dir, "", "apikey", "create", "--name", "Our CMS", "--scopes", "newsroom")
	if err != nil {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	key := lastLine(out)
	if !strings.HasPrefix(key, "kiosko_") || strings.Contains(key, " ") {
		t.Fatalf("the key is not alone on the last line: %q", out)
	}
	if _, err := kioskoCLI(t, dir, "", "apikey", "create", "--name", "X", "--scopes", "newsroom,everything"); err == nil || !strings.Contains(err.Error(), "everything") {
		t.Errorf("an unknown scope: %v", err)
	}
	b := newBrowser(t, m)
	put := func(key string) int {
		req, _ := http.NewRequest("PUT", m.URL()+"/api/v1/newsroom/articles/us-pushed-story", strings.NewReader(
			`{"edition":"us","title":"Pushed from the CMS","dek":"It works.","body_markdown":"First *paragraph*.","access":"open","authors":["Desk"]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		status, body, _ := b.do(req)
		if status >= 300 && status != http.StatusUnauthorized {
			t.Errorf("PUT: %d %s", status, body)
		}
		return status
	}
	if st := put(key); st != http.StatusCreated {
		t.Fatalf("PUT with the new key: %d", st)
	}
	req, _ := http.NewRequest("GET", m.URL()+"/us/us-pushed-story", nil)
	status, page, _ := b.do(req)
	if status != http.StatusOK || !strings.Contains(page, "Pushed from the CMS") || !strings.Contains(page, "First <em>paragraph</em>.") {
		t.Fatalf("the pushed article's page: %d", status)
	}
	list, err := kioskoCLI(t, dir, "", "apikey", "list")
	if err != nil || !strings.Contains(list, "Our CMS") || strings.Contains(list, key) || strings.Contains(list, "never") {
		t.Errorf("apikey list (%v):\n%s", err, list)
	}
	if out, err := kioskoCLI(t, dir, "", "apikey", "revoke", "1"); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	if st := put(key); st != http.StatusUnauthorized {
		t.Errorf("PUT with a revoked key: %d, want 401", st)
	}
	if _, err := kioskoCLI(t, dir, "", "apikey", "revoke", "99"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
}

// editorForm is a complete editor's form; mod changes it.
func editorForm(id, title string, mod func(url.Values)) url.Values {
	v := url.Values{"new": {"1"}, "id": {id}, "title": {title}, "dek": {"A standfirst."}, "edition": {"us"}, "access": {"open"},
		"authors": {"Ana Desk\nLuis Desk"}, "section": {"City"}, "format": {"markdown"}, "body": {"First **bold** paragraph.\n\n<script>alert(1)</script>"},
		"action": {"publish"}}
	if mod != nil {
		mod(v)
	}
	return v
}

// The newsroom end to end through HTTP: who may enter, writing and
// publishing, field errors that store nothing, drafts, scheduling,
// unpublishing (410), revisions and restore.
func TestNewsroomSite(t *testing.T) {
	m := startMain(t)
	anon := newBrowser(t, m)
	if code, _ := anon.get("/newsroom/"); code != http.StatusNotFound {
		t.Errorf("anonymous /newsroom/: %d, want 404", code)
	}
	reader := newBrowser(t, m)
	reader.signIn("digital@kiosko.test", demo.Password)
	for _, p := range []string{"/newsroom/", "/newsroom/new", "/newsroom/articles/us-ferry-returns"} {
		if code, _ := reader.get(p); code != http.StatusNotFound {
			t.Errorf("a reader's %s: %d, want 404", p, code)
		}
	}
	if code, _, _ := reader.post("/newsroom/articles", editorForm("us-by-reader", "Sneaky", nil)); code != http.StatusNotFound {
		t.Errorf("a reader's POST: %d, want 404", code)
	}
	ed := newBrowser(t, m)
	ed.signIn("editor@kiosko.test", demo.Password)
	code, list := ed.get("/newsroom/")
	if code != http.StatusOK || !strings.Contains(list, `data-article="us-ferry-returns"`) || !strings.Contains(list, "Artículos") {
		t.Fatalf("the editor's list: %d", code)
	}

	// A form with errors shows each next to its field and stores nothing.
	code, page, _ := ed.post("/newsroom/articles", editorForm("Bad Slug", "", func(v url.Values) { v.Set("access", "gold") }))
	if code != http.StatusBadRequest || strings.Count(page, `class="nr-field-error"`) != 3 ||
		!strings.Contains(page, "Un artículo necesita un titular.") || !strings.Contains(page, "A standfirst.") {
		t.Errorf("a bad form: %d, %d field errors", code, strings.Count(page, `class="nr-field-error"`))
	}
	if code, _ := anon.get("/us/bad-slug"); code != http.StatusNotFound {
		t.Errorf("a refused form was stored: %d", code)
	}

	// Publish now: readers see it on the front page and its own page, sanitized.
	code, _, h := ed.post("/newsroom/articles", editorForm("us-newsroom-story", "Written in the newsroom", nil))
	if code != http.StatusSeeOther || h.Get("Location") != "/newsroom/articles/us-newsroom-story?done=saved" {
		t.Fatalf("publish: %d %s", code, h.Get("Location"))
	}
	code, art := anon.get("/us/us-newsroom-story")
	if code != http.StatusOK || !strings.Contains(art, "First <strong>bold</strong> paragraph.") || strings.Contains(art, "alert(1)") ||
		!strings.Contains(art, "Ana Desk, Luis Desk") {
		t.Errorf("the published article: %d", code)
	}
	if _, front := anon.get("/us/"); !strings.Contains(front, "Written in the newsroom") {
		t.Error("the published article is not on the front page")
	}
	if code, _, _ := ed.post("/newsroom/articles", editorForm("us-newsroom-story", "Same id", nil)); code != http.StatusConflict {
		t.Errorf("a new article with a taken id: %d, want 409", code)
	}

	// A draft stays out of readers' sight; a schedule needs a date ahead.
	ed.post("/newsroom/articles", editorForm("us-draft-story", "Still a draft", func(v url.Values) { v.Set("action", "draft") }))
	if code, _ := anon.get("/us/us-draft-story"); code != http.StatusNotFound {
		t.Errorf("a draft for readers: %d", code)
	}
	if code, page, _ := ed.post("/newsroom/articles", editorForm("us-later", "Later", func(v url.Values) { v.Set("action", "schedule") })); code != http.StatusBadRequest ||
		!strings.Contains(page, "elige una fecha y una hora futuras") {
		t.Errorf("schedule without a date: %d", code)
	}
	later := time.Now().In(mustZone(t, "America/New_York")).Add(3 * time.Hour).Format("2006-01-02T15:04")
	ed.post("/newsroom/articles", editorForm("us-later", "Later", func(v url.Values) { v.Set("action", "schedule"); v.Set("published_at", later) }))
	if _, page := ed.get("/newsroom/articles/us-later"); !strings.Contains(page, `data-status="scheduled"`) {
		t.Error("a scheduled article is not shown as scheduled")
	}
	if code, _ := anon.get("/us/us-later"); code != http.StatusNotFound {
		t.Errorf("a scheduled article before its time: %d", code)
	}

	// Edit, then restore the first revision; unpublish: 410.
	edit := editorForm("us-newsroom-story", "A better headline", func(v url.Values) { v.Del("new"); v.Set("revision", "1") })
	if code, _, _ := ed.post("/newsroom/articles", edit); code != http.StatusSeeOther {
		t.Fatalf("edit: %d", code)
	}
	if code, page, _ := ed.post("/newsroom/articles", edit); code != http.StatusConflict || !strings.Contains(page, "Otra persona ha guardado") {
		t.Errorf("a save from a stale revision: %d", code)
	}
	if _, art := anon.get("/us/us-newsroom-story"); !strings.Contains(art, "A better headline") {
		t.Error("the edit is not on the site")
	}
	if _, revs := ed.get("/newsroom/articles/us-newsroom-story/revisions"); !strings.Contains(revs, `id="revision-2"`) || !strings.Contains(revs, "editor@kiosko.test") {
		t.Error("the revisions page lacks revision 2")
	}
	if code, _, _ := ed.post("/newsroom/articles/us-newsroom-story/revisions/1/restore", nil); code != http.StatusSeeOther {
		t.Fatalf("restore: %d", code)
	}
	if _, art := anon.get("/us/us-newsroom-story"); !strings.Contains(art, "Written in the newsroom") {
		t.Error("the restored headline is not on the site")
	}
	if code, _, _ := ed.post("/newsroom/articles/us-newsroom-story/unpublish", nil); code != http.StatusSeeOther {
		t.Fatalf("unpublish: %d", code)
	}
	if code, _ := anon.get("/us/us-newsroom-story"); code != http.StatusGone {
		t.Errorf("an unpublished article: %d, want 410", code)
	}
	if code, page := ed.get("/newsroom/?status=unpublished"); code != http.StatusOK || !strings.Contains(page, `data-article="us-newsroom-story"`) ||
		strings.Contains(page, `data-article="us-ferry-returns"`) {
		t.Error("the list by status")
	}
	// The preview renders like a save: sanitized.
	code, prev, _ := ed.post("/newsroom/preview", url.Values{"body": {"*hi* <img src=x onerror=alert(1)>"}, "format": {"markdown"}})
	if code != http.StatusOK || !strings.Contains(prev, "<em>hi</em>") || strings.Contains(prev, "onerror") {
		t.Errorf("preview: %d %s", code, prev)
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// An editor uploads a lead image with the article; readers get it in
// several widths with srcset, from the database.
func TestNewsroomImageUpload(t *testing.T) {
	m := startMain(t)
	ed := newBrowser(t, m)
	ed.signIn("editor@kiosko.test", demo.Password)
	src := image.NewRGBA(image.Rect(0, 0, 1200, 600))
	for x := range 1200 {
		for y := range 600 {
			src.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, src); err != nil {
		t.Fatal(err)
	}
	post := func(file []byte, name string) (int, string, http.Header) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for k, vs := range editorForm("us-with-photo", "With a photo", func(v url.Values) { v.Set("image_alt", "A gradient") }) {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile("image_file", name)
		fw.Write(file)
		mw.Close()
		req, _ := http.NewRequest("POST", m.URL()+"/newsroom/articles", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return ed.do(req)
	}
	if code, page, _ := post([]byte("GIF89a not an image"), "x.gif"); code != http.StatusBadRequest || !strings.Contains(page, "JPEG, PNG o WebP") {
		t.Errorf("a GIF: %d", code)
	}
	if code, _, _ := post(pngData.Bytes(), "photo.png"); code != http.StatusSeeOther {
		t.Fatalf("upload: %d", code)
	}
	anon := newBrowser(t, m)
	_, art := anon.get("/us/us-with-photo")
	re := regexp.MustCompile(`srcset="(/images/[0-9a-f]+/320 320w, /images/[0-9a-f]+/640 640w, /images/[0-9a-f]+/960 960w, /images/[0-9a-f]+/1200 1200w)"`)
	mm := re.FindStringSubmatch(art)
	if mm == nil || !strings.Contains(art, `alt="A gradient"`) {
		t.Fatalf("the article page has no srcset of 4 widths")
	}
	first := strings.Fields(mm[1])[0]
	req, _ := http.NewRequest("GET", m.URL()+first, nil)
	code, data, h := anon.do(req)
	if code != http.StatusOK || h.Get("Content-Type") != "image/png" || !strings.Contains(h.Get("Cache-Control"), "immutable") {
		t.Fatalf("GET %s: %d %s", first, code, h.Get("Content-Type"))
	}
	cfg, err := png.DecodeConfig(strings.NewReader(data))
	if err != nil || cfg.Width != 320 || cfg.Height != 160 {
		t.Errorf("the 320 width is %dx%d (%v)", cfg.Width, cfg.Height, err)
	}
}

// An edition added from the command line has its front page, feed and
// news sitemap on the running server at once; articles imported from
// Markdown files appear there; a bad directory imports nothing and says
// which file is wrong and why; importing again changes nothing.
func TestEditionAddAndArticlesImport(t *testing.T) {
	m := startMain(t)
	dir := m.Config.Data
	cli := func(args ...string) (string, error) { return kioskoCLI(t, dir, "", args...) }
	if out, err := cli("edition", "add", "--code", "mx", "--name", "Edición México", "--lang", "es", "--tz", "America/Mexico_City", "--newsletter-day", "monday"); err != nil {
		t.Fatalf("edition add: %v %s", err, out)
	}
	for _, bad := range [][]string{
		{"--code", "mx", "--name", "Again", "--lang", "es"},
		{"--code", "newsroom", "--name", "N", "--lang", "es"},
		{"--code", "fr", "--name", "France", "--lang", "fr"},
		{"--code", "ar", "--name", "Argentina", "--lang", "es", "--tz", "Mars/Olympus"},
	} {
		if out, err := cli(append([]string{"edition", "add"}, bad...)...); err == nil {
			t.Errorf("edition add %v succeeded: %s", bad, out)
		}
	}
	if list, _ := cli("edition", "list"); !strings.Contains(list, "Edición México") || !strings.Contains(list, "monday") || !strings.Contains(list, "es ") {
		t.Errorf("edition list:\n%s", list)
	}
	b := newBrowser(t, m)
	for _, p := range []string{"/mx/", "/mx/feed.xml", "/mx/news-sitemap.xml"} {
		if code, _ := b.get(p); code != http.StatusOK {
			t.Errorf("GET %s of the new edition: %d", p, code)
		}
	}

	src := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("mx-mercado.md", "---\nedition: mx\ntitle: Reabre el mercado de San Juan\ndek: Tras dos años de obras.\nauthors: [Rosa Díaz, Iván Ruiz]\nsection: Ciudad\naccess: free\npublished_at: 2026-11-30T09:00:00Z\n---\nEl mercado **reabre** hoy.\n\nCon 200 puestos.\n")
	write("mx-lluvias.md", "---\nid: mx-lluvias\nedition: mx\ntitle: Alerta por lluvias\naccess: open\nauthors: Redacción\n---\nProtección civil pide precaución.\n")
	write("mx-sin-titulo.md", "---\nedition: mx\naccess: free\n---\nTexto.\n")
	write("mx-sin-cabecera.md", "Solo texto.\n")
	write("mx-fecha.md", "---\nedition: mx\ntitle: T\naccess: gratis\npublished_at: mañana\n---\n")
	out, err := cli("articles", "import", src)
	if err == nil {
		t.Fatal("an import with bad files succeeded")
	}
	for _, want := range []string{"mx-sin-titulo.md: title:", "mx-sin-cabecera.md: no front matter", "mx-fecha.md: published_at", "nothing was imported"} {
		if !strings.Contains(out+err.Error(), want) {
			t.Errorf("the report lacks %q:\n%s%v", want, out, err)
		}
	}
	if code, _ := b.get("/mx/mx-mercado"); code != http.StatusNotFound {
		t.Errorf("a good file of a bad import was imported: %d", code)
	}
	for _, f := range []string{"mx-sin-titulo.md", "mx-sin-cabecera.md", "mx-fecha.md"} {
		os.Remove(filepath.Join(src, f))
	}
	if out, err := cli("articles", "import", src); err != nil || !strings.Contains(out, "2 new") {
		t.Fatalf("import: %v %s", err, out)
	}
	code, page := b.get("/mx/mx-mercado")
	if code != http.StatusOK || !strings.Contains(page, "El mercado <strong>reabre</strong> hoy.") || !strings.Contains(page, "Rosa Díaz, Iván Ruiz") {
		t.Errorf("the imported article: %d", code)
	}
	if _, front := b.get("/mx/"); !strings.Contains(front, "Alerta por lluvias") || !strings.Contains(front, "Reabre el mercado") {
		t.Error("the imported articles are not on the edition's front page")
	}
	if _, feed := b.get("/mx/feed.xml"); !strings.Contains(feed, "Reabre el mercado de San Juan") {
		t.Error("the imported article is not in the edition's feed")
	}
	if out, err := cli("articles", "import", src); err != nil || !strings.Contains(out, "2 unchanged") {
		t.Errorf("a second import: %v %s", err, out)
	}
}

// A WordPress export imports its posts: published ones on the site,
// the scheduled one kept for its date, the draft out of sight; the script
// in a post never reaches a reader; importing it again changes nothing.
func TestArticlesImportWordPress(t *testing.T) {
	m := startMain(t)
	dir := m.Config.Data
	export := filepath.Join("..", "..", "internal", "newsroom", "testdata", "wordpress.xml")
	if _, err := kioskoCLI(t, dir, "", "articles", "import", export); err == nil || !strings.Contains(err.Error(), "--edition") {
		t.Errorf("a WXR import without --edition: %v", err)
	}
	out, err := kioskoCLI(t, dir, "", "articles", "import", export, "--edition", "es", "--access", "free")
	if err != nil || !strings.Contains(out, "4 new") {
		t.Fatalf("import: %v %s", err, out)
	}
	b := newBrowser(t, m)
	code, page := b.get("/es/cafe-del-puerto")
	if code != http.StatusOK || !strings.Contains(page, "café de puchero") || strings.Contains(page, `alert("wp")`) || !strings.Contains(page, "Rosa Díaz") {
		t.Errorf("the imported post: %d", code)
	}
	for _, p := range []string{"/es/fiestas-2036", "/es/wp-15"} {
		if code, _ := b.get(p); code != http.StatusNotFound {
			t.Errorf("%s (scheduled or draft) for readers: %d", p, code)
		}
	}
	if out, err := kioskoCLI(t, dir, "", "articles", "import", export, "--edition", "es"); err != nil || !strings.Contains(out, "4 unchanged") {
		t.Errorf("a second import: %v %s", err, out)
	}
}

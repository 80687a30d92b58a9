package web

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
)

func TestInfoPages(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path, lang string
		want       []string
	}{
		{"/terms", "en", []string{"One device reads at a time", "continue reading on the device in front of you", "told at once", "considered shared"}},
		{"/terms", "es", []string{"Se lee en un dispositivo a la vez", "recibe el aviso al instante"}},
		{"/plans", "es", []string{"9,99\u00a0€", "al mes", "2 personas", "20 artículos gratuitos al mes", "El pago en línea no está configurado en este sitio", "escríbenos", `Escríbenos a <a href="mailto:suscripciones@kiosko.test">`}},
		{"/plans", "en", []string{"€9.99", "a month", "Online payment is not configured on this site", "write to us", `Write to us at <a href="mailto:suscripciones@kiosko.test">`}},
		{"/business", "es", []string{"Escríbenos con el número de plazas", `href="mailto:suscripciones@kiosko.test"`}},
		{"/business", "en", []string{"Subscriptions for companies", "own email and password"}},
	} {
		p := e.browser(tc.lang).get(tc.path)
		if p.status != http.StatusOK {
			t.Errorf("%s: status %d", tc.path, p.status)
		}
		for _, w := range tc.want {
			if !p.has(w) {
				t.Errorf("%s (%s) lacks %q", tc.path, tc.lang, w)
			}
		}
		if p.has("checkout") || p.has("Checkout") {
			t.Errorf("%s mentions a checkout", tc.path)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	p := e.browser("en").get("/us/")
	for _, name := range []string{"site", "favicon"} {
		m := regexp.MustCompile(`/static/` + name + `\.[0-9a-f]{8}\.(css|svg)`).FindString(p.body)
		if m == "" {
			t.Fatalf("no fingerprinted %s in the page", name)
		}
		res := e.browser("").get(m)
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", m, res.status, res.header.Get("Cache-Control"))
		}
	}
	if res := e.browser("").get("/static/site.00000000.css"); res.status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", res.status)
	}
	if p.has(`<script src="/static/reading.`) {
		t.Error("the page script is loaded for an anonymous reader")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/us/a": "/us/a", "/account?x=1": "/account?x=1", "": "", "us/a": "", "//evil": "", "/\\evil": "",
		"https://evil/": "", "javascript:alert(1)": "", "/a\nb": "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFormat(t *testing.T) {
	c := i18n.Default()
	d := testNow
	if got := formatDate(c, "es", d); got != "14 de marzo de 2026" {
		t.Errorf("es date %q", got)
	}
	if got := formatDate(c, "en", d); got != "March 14, 2026" {
		t.Errorf("en date %q", got)
	}
	if got := formatPrice("en", 1499, "USD"); got != "$14.99" {
		t.Errorf("price %q", got)
	}
	if got := formatAgo(c, "es", d.Add(-5*60e9), d); got != "hace 5 minutos" {
		t.Errorf("ago %q", got)
	}
}

// TestTemplateKeys fails when a template names a catalog key that either
// language lacks.
func TestTemplateKeys(t *testing.T) {
	c := i18n.Default()
	key := regexp.MustCompile(`\bT "([a-z0-9_.]+)"`)
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d templates (%v): the pattern no longer matches them", len(files), files)
	}
	for _, f := range files {
		data, err := fs.ReadFile(templateFS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range key.FindAllStringSubmatch(string(data), -1) {
			for _, lang := range kiosko.Languages {
				if !c.Has(lang, m[1]) {
					t.Errorf("%s: key %q missing in %s", f, m[1], lang)
				}
			}
		}
	}
}

package embed

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
)

// DemoSite is a plain "publisher site" on another origin whose article
// pages use only embed.js: what a newspaper's own CMS would render, with
// a style sheet of its own (deliberately heavy-handed, to show it cannot
// reach kiosko's UI). kiosko is the base URL of the kiosko server.
func DemoSite(store kiosko.Store, cat *i18n.Catalog, kioskoURL string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		eds, err := store.FindEditions(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		type item struct{ Path, Title, Access string }
		type section struct {
			Name  string
			Items []item
		}
		var secs []section
		for _, ed := range eds {
			arts, err := store.FindArticles(r.Context(), kiosko.ArticleFilter{Edition: ed.Code})
			if err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			s := section{Name: ed.Name}
			for _, a := range arts {
				s.Items = append(s.Items, item{Path: "/" + ed.Code + "/" + a.ID, Title: a.Title, Access: a.Access})
			}
			secs = append(secs, s)
		}
		render(w, indexPage, map[string]any{"Sections": secs, "T": texts(cat, kiosko.LangEnglish)})
	})
	mux.HandleFunc("GET /{edition}/{article}", func(w http.ResponseWriter, r *http.Request) {
		a, err := store.FindArticleByID(r.Context(), r.PathValue("article"))
		if err != nil || a.Edition != r.PathValue("edition") {
			http.NotFound(w, r)
			return
		}
		lang := kiosko.LangSpanish
		if eds, err := store.FindEditions(r.Context()); err == nil {
			for _, ed := range eds {
				if ed.Code == a.Edition {
					lang = ed.Lang
				}
			}
		}
		render(w, articlePage, map[string]any{"A": a, "Lang": lang, "Kiosko": strings.TrimRight(kioskoURL, "/"), "T": texts(cat, lang),
			"Fail": r.URL.Query().Get("fail")})
	})
	return mux
}

func texts(cat *i18n.Catalog, lang string) map[string]string {
	return map[string]string{
		"name": cat.T(lang, "integration.demo_name"), "tagline": cat.T(lang, "integration.demo_tagline"),
		"cms": cat.T(lang, "integration.demo_cms"), "home": cat.T(lang, "integration.demo_home"),
	}
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := t.Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

const demoStyle = `<style>
* { font-family: Georgia, serif !important; color: #5a0000 !important; }
button, a { background: #ff0 !important; border: 4px dashed #f0f !important; }
div { padding: 2rem; }
</style>`

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.T.name}}</title>` + demoStyle + `</head>
<body><header><h1>{{.T.name}}</h1><p>{{.T.tagline}}</p></header>
{{range .Sections}}<section><h2>{{.Name}}</h2><ul>{{range .Items}}<li><a href="{{.Path}}">{{.Title}}</a> ({{.Access}})</li>{{end}}</ul></section>{{end}}
</body></html>`))

var articlePage = template.Must(template.New("article").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.A.Title}} · {{.T.name}}</title>` + demoStyle + `</head>
<body><header><a href="/">{{.T.home}}</a> · <strong>{{.T.name}}</strong></header>
<article>
<h1 id="headline">{{.A.Title}}</h1>
<p class="dek">{{.A.Standfirst}}</p>
<div id="story" data-kiosko-body>
<p>{{.A.Standfirst}}</p>
<p>{{.T.cms}}</p>
</div>
</article>
<script src="{{.Kiosko}}/embed.js" data-article="{{.A.ID}}" data-edition="{{.A.Edition}}"{{if .Fail}} data-fail="{{.Fail}}"{{end}} async></script>
</body></html>`))

package main

import (
	"context"
	"net/http"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/markup"
	"github.com/kiosko/kiosko/internal/newsroom"
	"github.com/kiosko/kiosko/internal/web"
)

// scheduleEvery is how often scheduled articles are looked for: each
// appears within this long of its time (readers see it from its time on
// regardless; this makes its article.published event).
const scheduleEvery = 15 * time.Second

// bodyRenderer is internal/markup as a kiosko.BodyRenderer.
type bodyRenderer struct{}

func (bodyRenderer) Markdown(src string) (string, error) { return markup.Markdown(src) }
func (bodyRenderer) HTML(src string) string              { return markup.HTML(src) }

func newNewsroom(store kiosko.Store, clock kiosko.Clock, publicURL string, m *Main) *kiosko.Newsroom {
	return &kiosko.Newsroom{Store: store, Render: bodyRenderer{}, Clock: clock, PublicURL: publicURL, Log: m.Log}
}

// startNewsroom wires the newsroom service and its scheduler, which runs
// on every node: of two nodes publishing one article, one wins.
func (m *Main) startNewsroom(workers context.Context) {
	m.Deps.Newsroom = newNewsroom(m.Store, m.Clock, m.Deps.PublicURL, m)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.Deps.Newsroom.RunScheduler(workers, scheduleEvery)
	}()
}

func init() {
	// The editor's form and the upload carry images.
	uploadLimits["/newsroom/"] = newsroom.MaxImageBytes + 1<<20
}

// mountNewsroom serves /newsroom/ (editors only; readers get the site's
// 404) and the uploaded images at /images/.
func (m *Main) mountNewsroom(mux *http.ServeMux, site *web.Server) error {
	nr, err := newsroom.New(m.Deps, site.NotFound)
	if err != nil {
		return err
	}
	mux.Handle("/newsroom/", nr)
	mux.Handle("GET /images/", nr)
	return nil
}

package web

import (
	"strconv"
	"strings"
	"sync"

	"github.com/kiosko/kiosko"
)

// publicPage is the Cache-Control of a page every reader without a session
// sees alike (an open article, a front page): a CDN may keep it for a
// minute, a browser asks again each time. docs/deploy.md says why the
// meter and the reading rule stay exact behind one.
const publicPage = "public, max-age=0, s-maxage=60"

// Rendered pages shared by many readers are kept, so the template runs
// once per page and version rather than once per view. A page's key holds
// everything the template reads that may differ between two views: the
// path with its query, the language, today's date, which read of the
// editions and of the edition's newest articles it shows (serials of the
// content cache, new after every change), the article's id, revision and
// update time, and the paywall's decision for this view. The decision is
// still made for every request (the meter cookie is read and written each
// time); only its rendering is shared. A changed page therefore gets a new
// key at once, and the old one leaves the cache as it is least used.
//
// Only pages of readers without a session are kept: a signed-in page shows
// the reader's own things.
const pageCacheBytes = 32 << 20

type pageCache struct {
	once  sync.Once
	pages *kiosko.SizedCache[string, []byte]
}

func (c *pageCache) cache() *kiosko.SizedCache[string, []byte] {
	c.once.Do(func() { c.pages = kiosko.NewSizedCache[string, []byte](pageCacheBytes) })
	return c.pages
}

func (c *pageCache) get(key string) ([]byte, bool) {
	if key == "" {
		return nil, false
	}
	return c.cache().Get(key, kiosko.DefaultCacheMaxAge)
}

func (c *pageCache) put(key string, page []byte) {
	if key != "" {
		c.cache().Put(key, page, int64(len(page)+len(key)+64))
	}
}

// pageKey starts the key of a page for p, or returns false when the page
// may not be kept: a signed-in reader, or content read past the cache.
func pageKey(kind string, p *Page, listSerial uint64) (*strings.Builder, bool) {
	if p.Identity != nil || p.editionsSerial == 0 || listSerial == 0 {
		return nil, false
	}
	var b strings.Builder
	b.Grow(128)
	b.WriteString(kind)
	for _, part := range []string{p.Lang, p.Path, p.Date(p.Now)} {
		b.WriteByte(0)
		b.WriteString(part)
	}
	for _, n := range []uint64{p.editionsSerial, listSerial} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatUint(n, 10))
	}
	return &b, true
}

// articleKey is the key of an article page, "" when it may not be kept.
func articleKey(p *Page, v *ArticleView, listSerial uint64) string {
	b, ok := pageKey("article", p, listSerial)
	if !ok || v.HasSeat || v.Reading || v.Conflict {
		return ""
	}
	a, d := v.Article, v.Decision
	b.WriteByte(0)
	b.WriteString(a.ID)
	for _, n := range []int64{int64(a.Revision), a.UpdatedAt.UnixNano(), int64(v.RegisteredMeter), int64(d.Remaining), int64(d.Limit)} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte(0)
	for _, f := range []bool{v.ShowBody, d.Allowed, d.Count, d.Metered} {
		if f {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	b.WriteString(d.Wall)
	return b.String()
}

// frontKey is the key of a front page, "" when it may not be kept.
func frontKey(p *Page, listSerial uint64) string {
	b, ok := pageKey("front", p, listSerial)
	if !ok {
		return ""
	}
	return b.String()
}

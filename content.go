package kiosko

import (
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Readers who are not signed in make most of a newspaper's traffic, and
// every one of them asks for the same few things: the editions, an
// article, an edition's newest articles. ContentCache keeps those in
// memory, so a page view at steady state reads nothing from the database.
//
// How fresh it is:
//   - every write that changes content goes through NotifyingStore, which
//     publishes a Change (Article, Editions, Plans) on the change feed;
//     each node forgets what the change makes stale as it arrives (within
//     one poll of the change file, or one Redis message), so an edit made
//     on any node, or by the command line, shows at once everywhere;
//   - an article scheduled for later appears on its front page at its
//     time without any write: a front page is kept no longer than the
//     publication time of the edition's next scheduled article;
//   - while the feed is not live (Redis unreachable, or no feed at all)
//     entries are kept for ContentCacheShortTTL only, and with a live feed
//     for at most DefaultCacheMaxAge (changes made behind kiosko's back).
//
// What it hands out is shared between requests: callers must not change it.
type ContentCache struct {
	Store   Store
	Changes ChangeFeed // nil: entries live for ContentCacheShortTTL
	// MaxBytes bounds the articles kept, by the size of their text
	// (0: DefaultContentCacheBytes); the least recently read go first.
	MaxBytes int64

	once     sync.Once
	gen      atomic.Uint64 // bumped by every change; a read that raced one is not kept
	articles *SizedCache[string, *Article]
	images   *SizedCache[string, *ArticleImage]

	mu       sync.Mutex
	editions *contentEntry[[]*Edition]
	fronts   map[string]*frontEntry
}

// contentSerial numbers every front page and editions list read, in the
// whole process, so no two reads share a number.
var contentSerial atomic.Uint64

// Defaults of ContentCache.
const (
	DefaultContentCacheBytes = 64 << 20
	ContentCacheShortTTL     = time.Second
	maxCachedImages          = 4096
)

type contentEntry[T any] struct {
	v      T
	at     time.Time
	serial uint64
}

type frontEntry struct {
	contentEntry[[]*Article]
	until time.Time // the next scheduled article of the edition appears then (zero: none)
	limit int       // the list was read with this limit
}

func (c *ContentCache) init() {
	c.once.Do(func() {
		size := c.MaxBytes
		if size <= 0 {
			size = DefaultContentCacheBytes
		}
		c.articles = NewSizedCache[string, *Article](size)
		c.images = NewSizedCache[string, *ArticleImage](maxCachedImages)
		c.fronts = map[string]*frontEntry{}
	})
}

// ttl is how long an entry read now may be kept. It first hears what the
// command line wrote.
func (c *ContentCache) ttl() time.Duration {
	if c.Changes != nil {
		CatchUp(c.Changes)
	}
	if c.Changes != nil && c.Changes.Live() {
		return DefaultCacheMaxAge
	}
	return ContentCacheShortTTL
}

// Forget drops what the change makes stale. Register it on the change feed.
func (c *ContentCache) Forget(ch Change) {
	c.init()
	switch {
	case ch.Everything():
		c.gen.Add(1)
		c.articles.Clear()
		c.images.Clear()
		c.mu.Lock()
		c.editions, c.fronts = nil, map[string]*frontEntry{}
		c.mu.Unlock()
	case ch.Article != "":
		c.gen.Add(1)
		c.articles.Delete(ch.Article)
		// The article may have moved edition: every front page goes.
		c.mu.Lock()
		c.fronts = map[string]*frontEntry{}
		c.mu.Unlock()
	case ch.Editions:
		c.gen.Add(1)
		c.mu.Lock()
		c.editions = nil
		c.mu.Unlock()
	}
}

// Article returns the article with id, or ENOTFOUND (never kept: a
// missing page costs a read, and made-up addresses fill no memory).
func (c *ContentCache) Article(ctx context.Context, id string) (*Article, error) {
	c.init()
	if a, ok := c.articles.Get(id, c.ttl()); ok {
		return a, nil
	}
	gen := c.gen.Load()
	a, err := c.Store.FindArticleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.gen.Load() == gen {
		c.articles.Put(id, a, int64(512+len(a.BodyHTML)+len(a.BodyMarkdown)+len(a.Title)+len(a.Standfirst)))
	}
	return a, nil
}

// Editions returns every edition, and a number that changes whenever the
// list is read again (part of the key of a page that shows them).
func (c *ContentCache) Editions(ctx context.Context) ([]*Edition, uint64, error) {
	c.init()
	ttl, now := c.ttl(), time.Now() // ttl first: it may deliver changes, which lock c.mu
	c.mu.Lock()
	if e := c.editions; e != nil && now.Sub(e.at) < ttl {
		c.mu.Unlock()
		return e.v, e.serial, nil
	}
	c.mu.Unlock()
	gen := c.gen.Load()
	eds, err := c.Store.FindEditions(ctx)
	if err != nil {
		return nil, 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	serial := contentSerial.Add(1)
	if c.gen.Load() == gen {
		c.editions = &contentEntry[[]*Edition]{v: eds, at: now, serial: serial}
	}
	return eds, serial, nil
}

// Edition returns the edition with code, or ENOTFOUND.
func (c *ContentCache) Edition(ctx context.Context, code string) (*Edition, error) {
	eds, _, err := c.Editions(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range eds {
		if e.Code == code {
			return e, nil
		}
	}
	return nil, &Error{Code: ENOTFOUND, Key: "error.edition_unknown", Message: "No such edition."}
}

// Front returns up to limit of the edition's articles visible at now,
// newest first, and a number that changes whenever the list is read again.
func (c *ContentCache) Front(ctx context.Context, edition string, now time.Time, limit int) ([]*Article, uint64, error) {
	c.init()
	ttl, wall := c.ttl(), time.Now() // ttl first: it may deliver changes, which lock c.mu
	c.mu.Lock()
	if e := c.fronts[edition]; e != nil && wall.Sub(e.at) < ttl && e.limit >= limit && (e.until.IsZero() || now.Before(e.until)) {
		c.mu.Unlock()
		return e.v[:min(limit, len(e.v))], e.serial, nil
	}
	c.mu.Unlock()
	gen := c.gen.Load()
	arts, err := c.Store.FindArticles(ctx, ArticleFilter{Edition: edition, VisibleAt: now, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	// The edition's next scheduled article ends this list's life.
	later, err := c.Store.FindArticles(ctx, ArticleFilter{Edition: edition, Statuses: []string{StatusScheduled, StatusPublished}, Since: now.Add(time.Nanosecond)})
	if err != nil {
		return nil, 0, err
	}
	var until time.Time
	for _, a := range later {
		if a.PublishedAt.After(now) && (until.IsZero() || a.PublishedAt.Before(until)) {
			until = a.PublishedAt
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	serial := contentSerial.Add(1)
	if c.gen.Load() == gen {
		c.fronts[edition] = &frontEntry{contentEntry: contentEntry[[]*Article]{v: arts, at: wall, serial: serial}, until: until, limit: limit}
	}
	return arts, serial, nil
}

// ArticleImage returns an image, or ENOTFOUND. Images never change once
// stored, so they are kept until memory is needed.
func (c *ContentCache) ArticleImage(ctx context.Context, id string) (*ArticleImage, error) {
	c.init()
	if img, ok := c.images.Get(id, DefaultCacheMaxAge); ok {
		return img, nil
	}
	gen := c.gen.Load()
	img, err := c.Store.FindArticleImage(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.gen.Load() == gen {
		c.images.Put(id, img, 1)
	}
	return img, nil
}

// SizedCache is a map of bounded size: each entry has a size, and the
// least recently used entries go once the sizes add up to more than the
// bound. Entries also expire: Get takes the age past which an entry is
// not good any more.
type SizedCache[K comparable, V any] struct {
	mu   sync.Mutex
	max  int64
	size int64
	m    map[K]*list.Element
	ll   list.List // front: most recently used
}

type sizedEntry[K comparable, V any] struct {
	k    K
	v    V
	size int64
	at   time.Time
}

// NewSizedCache returns a cache whose entries' sizes add up to at most max.
func NewSizedCache[K comparable, V any](max int64) *SizedCache[K, V] {
	return &SizedCache[K, V]{max: max, m: map[K]*list.Element{}}
}

// Get returns the entry for k if it was put less than maxAge ago.
func (c *SizedCache[K, V]) Get(k K, maxAge time.Duration) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		var zero V
		return zero, false
	}
	e := el.Value.(*sizedEntry[K, V])
	if age := time.Since(e.at); age >= maxAge || age < 0 {
		c.remove(el)
		var zero V
		return zero, false
	}
	c.ll.MoveToFront(el)
	return e.v, true
}

// Put keeps v under k; an entry larger than the whole bound is not kept.
func (c *SizedCache[K, V]) Put(k K, v V, size int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		c.remove(el)
	}
	if size > c.max {
		return
	}
	c.m[k] = c.ll.PushFront(&sizedEntry[K, V]{k: k, v: v, size: size, at: time.Now()})
	c.size += size
	for c.size > c.max {
		c.remove(c.ll.Back())
	}
}

// Delete forgets k.
func (c *SizedCache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		c.remove(el)
	}
}

// Clear forgets everything.
func (c *SizedCache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m, c.size = map[K]*list.Element{}, 0
	c.ll.Init()
}

// Len is the number of entries.
func (c *SizedCache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *SizedCache[K, V]) remove(el *list.Element) {
	e := c.ll.Remove(el).(*sizedEntry[K, V])
	delete(c.m, e.k)
	c.size -= e.size
}

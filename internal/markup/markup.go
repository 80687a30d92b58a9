// Package markup turns what editors and CMSs send into HTML that is safe
// to give readers: Markdown through goldmark (CommonMark, plus tables and
// strikethrough), and any HTML, pasted or rendered, through bluemonday.
// Nothing here trusts its input: no script, no event handler, no
// javascript: (or data:, vbscript:) link survives.
package markup

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

var md = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough),
	// Raw HTML in the source is kept so that the sanitizer, not the
	// Markdown renderer, decides what of it stays: an editor may paste a
	// <figure> or an <iframe> that the policy then drops.
	goldmark.WithRendererOptions(html.WithUnsafe()),
)

// policy is what an article body may hold: the elements of ordinary
// prose, tables, figures, images and links, with http(s), mailto and
// relative URLs only. Links to other sites get rel="nofollow noopener".
var policy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("figure", "figcaption", "picture", "source", "aside", "mark", "small", "time")
	p.AllowAttrs("srcset", "sizes", "media", "type").OnElements("source", "img")
	p.AllowAttrs("loading", "width", "height").OnElements("img")
	p.AllowAttrs("datetime").OnElements("time")
	p.RequireNoReferrerOnFullyQualifiedLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	return p
})

// Markdown renders a Markdown source to sanitized HTML.
func Markdown(src string) (string, error) {
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		return "", fmt.Errorf("markdown: %w", err)
	}
	return policy().Sanitize(b.String()), nil
}

// HTML sanitizes HTML from outside (a CMS, a paste).
func HTML(src string) string { return policy().Sanitize(src) }

package newsroom

import (
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/kiosko/kiosko"
)

// A WordPress export (WXR: RSS 2.0 with WordPress's namespaces), the
// format most newspapers' sites can produce. Only what kiosko needs is
// read: posts, their authors, categories, dates and status.
type wxrFile struct {
	Channel struct {
		Authors []struct {
			Login   string `xml:"http://wordpress.org/export/1.2/ author_login"`
			Display string `xml:"http://wordpress.org/export/1.2/ author_display_name"`
		} `xml:"http://wordpress.org/export/1.2/ author"`
		Items []wxrItem `xml:"item"`
	} `xml:"channel"`
}

type wxrItem struct {
	Title    string `xml:"title"`
	Creator  string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	Content  string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
	Excerpt  string `xml:"http://wordpress.org/export/1.2/excerpt/ encoded"`
	PostID   string `xml:"http://wordpress.org/export/1.2/ post_id"`
	Name     string `xml:"http://wordpress.org/export/1.2/ post_name"`
	DateGMT  string `xml:"http://wordpress.org/export/1.2/ post_date_gmt"`
	Date     string `xml:"http://wordpress.org/export/1.2/ post_date"`
	Status   string `xml:"http://wordpress.org/export/1.2/ status"`
	PostType string `xml:"http://wordpress.org/export/1.2/ post_type"`
	Category []struct {
		Domain string `xml:"domain,attr"`
		Name   string `xml:",chardata"`
	} `xml:"category"`
}

// WXRPost is one post of a WordPress export as an article, with where it
// came from for messages.
type WXRPost struct {
	Where string // "post 12 (slug)"
	In    kiosko.ArticleInput
}

// ParseWXR reads the posts of a WordPress export for edition, each with
// access: published ones stay published (at their date), scheduled ones
// ("future") are scheduled, drafts, pending and private ones become
// drafts; pages, attachments and trashed posts are left out. Categories
// become the section (the first one), the author's display name the
// byline, the excerpt the standfirst. The body is WordPress's HTML (its
// blank-line paragraphs made <p>), sanitized when saved.
func ParseWXR(r io.Reader, edition, access string) ([]WXRPost, error) {
	var f wxrFile
	dec := xml.NewDecoder(r)
	dec.Strict = true
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a WordPress export (WXR): %v", err)
	}
	names := map[string]string{}
	for _, a := range f.Channel.Authors {
		names[a.Login] = a.Display
	}
	var out []WXRPost
	for _, it := range f.Channel.Items {
		if it.PostType != "post" || it.Status == "trash" || it.Status == "auto-draft" || it.Status == "inherit" {
			continue
		}
		id := wxrSlug(it.Name)
		if id == "" {
			id = "wp-" + it.PostID
		}
		body := autop(it.Content)
		in := kiosko.ArticleInput{ID: id, Edition: edition, Title: strings.TrimSpace(it.Title), Standfirst: strings.TrimSpace(plainText(it.Excerpt)),
			Access: access, BodyHTML: &body, Status: kiosko.StatusPublished}
		if name := names[it.Creator]; name != "" {
			in.Authors = []string{name}
		} else if it.Creator != "" {
			in.Authors = []string{it.Creator}
		}
		for _, c := range it.Category {
			if c.Domain == "category" && strings.TrimSpace(c.Name) != "" && c.Name != "Uncategorized" {
				in.Section = strings.TrimSpace(c.Name)
				break
			}
		}
		switch it.Status {
		case "publish", "future":
		default: // draft, pending, private
			in.Status = kiosko.StatusDraft
		}
		if t, ok := wxrDate(it.DateGMT, it.Date); ok {
			in.PublishedAt = &t
		}
		out = append(out, WXRPost{Where: fmt.Sprintf("post %s (%s)", it.PostID, id), In: in})
	}
	return out, nil
}

// wxrDate reads post_date_gmt, else post_date (the site's local time,
// taken as UTC); WordPress writes 0000-00-00 00:00:00 for drafts.
func wxrDate(gmt, local string) (time.Time, bool) {
	for _, s := range []string{gmt, local} {
		if t, err := time.Parse("2006-01-02 15:04:05", strings.TrimSpace(s)); err == nil && t.Year() > 1 {
			return t, true
		}
	}
	return time.Time{}, false
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// wxrSlug makes a kiosko slug of a WordPress post_name, which may be
// percent-encoded and accented ("caf%c3%a9-abierto" is cafe-abierto).
func wxrSlug(name string) string {
	if dec, err := url.PathUnescape(name); err == nil {
		name = dec
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	s := strings.Trim(nonSlug.ReplaceAllString(b.String(), "-"), "-")
	if len(s) > 120 {
		s = strings.TrimRight(s[:120], "-")
	}
	return s
}

var blockStart = regexp.MustCompile(`(?i)^<(p|div|h[1-6]|ul|ol|li|blockquote|figure|table|pre|hr|!--)[\s>/]`)

// autop is what WordPress does on display: text separated by blank lines
// becomes paragraphs, unless it is already a block.
func autop(src string) string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	var b strings.Builder
	for _, chunk := range strings.Split(src, "\n\n") {
		chunk = strings.TrimSpace(chunk)
		if chunk == "" {
			continue
		}
		if blockStart.MatchString(chunk) {
			b.WriteString(chunk)
		} else {
			b.WriteString("<p>" + strings.ReplaceAll(chunk, "\n", "<br>\n") + "</p>")
		}
		b.WriteString("\n")
	}
	return b.String()
}

var tags = regexp.MustCompile(`<[^>]*>`)

// plainText is an excerpt without its markup.
func plainText(s string) string {
	return html.UnescapeString(strings.Join(strings.Fields(tags.ReplaceAllString(s, " ")), " "))
}

package newsroom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kiosko/kiosko"
)

// frontMatter is the YAML head of an imported Markdown file.
type frontMatter struct {
	ID          string   `yaml:"id"`
	Edition     string   `yaml:"edition"`
	Title       string   `yaml:"title"`
	Dek         string   `yaml:"dek"`
	Authors     authors  `yaml:"authors"`
	Section     string   `yaml:"section"`
	Access      string   `yaml:"access"`
	PublishedAt string   `yaml:"published_at"`
	Status      string   `yaml:"status"`
	Tags        []string `yaml:"tags"` // read and ignored: many static-site exports carry them
}

// authors reads a list of names or one name.
type authors []string

func (a *authors) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*a = []string{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return errors.New("authors must be a name or a list of names")
	}
	*a = list
	return nil
}

// dateLayouts are the forms published_at may take; a date alone is
// midnight UTC.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// ParseMarkdownFile reads one article: YAML front matter between "---"
// lines (id, edition, title, dek, authors, section, access,
// published_at, optionally status), then the Markdown body. An id may be
// left out when the file is named after it (tram-line.md).
func ParseMarkdownFile(name string, data []byte) (kiosko.ArticleInput, error) {
	var in kiosko.ArticleInput
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	rest, ok := strings.CutPrefix(text, "---\n")
	if !ok {
		return in, errors.New(`no front matter: the file must start with a line "---"`)
	}
	head, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		if head, ok = strings.CutSuffix(rest, "\n---"); !ok {
			return in, errors.New(`the front matter has no closing "---" line`)
		}
	}
	var fm frontMatter
	dec := yaml.NewDecoder(strings.NewReader(head))
	dec.KnownFields(true)
	if err := dec.Decode(&fm); err != nil && !errors.Is(err, io.EOF) {
		return in, fmt.Errorf("front matter: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if fm.ID == "" {
		base := name[strings.LastIndexAny(name, `/\`)+1:]
		fm.ID = strings.TrimSuffix(base, ".md")
	}
	body = strings.TrimLeft(body, "\n")
	in = kiosko.ArticleInput{ID: fm.ID, Edition: fm.Edition, Title: fm.Title, Standfirst: fm.Dek, Authors: fm.Authors,
		Section: fm.Section, Access: fm.Access, Status: fm.Status, BodyMarkdown: &body}
	if in.Access == "" {
		return in, errors.New("access is missing: open, free or subscriber")
	}
	if fm.PublishedAt != "" {
		var t time.Time
		var err error
		for _, l := range dateLayouts {
			if t, err = time.Parse(l, fm.PublishedAt); err == nil {
				break
			}
		}
		if err != nil {
			return in, fmt.Errorf("published_at %q is not a date such as 2026-12-01T09:30:00Z", fm.PublishedAt)
		}
		in.PublishedAt = &t
	}
	return in, nil
}

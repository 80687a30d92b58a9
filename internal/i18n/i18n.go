// Package i18n holds kiosko's message catalogs, Spanish and English, and
// picks the reader's language.
//
// Catalogs are flat JSON files in locale/, named AREA.LANG.json (web.es.json,
// errors.en.json, ...); each area belongs to one package so people can work
// on them side by side. Messages may hold fmt verbs (%d, %s).
package i18n

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/kiosko/kiosko"
)

//go:embed locale/*.json
var files embed.FS

// Catalog maps language -> key -> message.
type Catalog struct {
	msgs map[string]map[string]string
	// origin remembers which file defined a key, for error messages.
	origin map[string]string
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
	defaultErr  error
)

// Default returns the embedded catalogs. It panics if they do not load,
// which the package's tests rule out.
func Default() *Catalog {
	defaultOnce.Do(func() { defaultCat, defaultErr = Load(files) })
	if defaultErr != nil {
		panic(defaultErr)
	}
	return defaultCat
}

// Load reads every locale/AREA.LANG.json file of fsys.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}, origin: map[string]string{}}
	names, err := fs.Glob(fsys, "locale/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		parts := strings.Split(strings.TrimSuffix(path.Base(name), ".json"), ".")
		if len(parts) != 2 || !kiosko.IsLanguage(parts[1]) {
			return nil, fmt.Errorf("i18n: %s: name must be AREA.LANG.json with a known language", name)
		}
		lang := parts[1]
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		if c.msgs[lang] == nil {
			c.msgs[lang] = map[string]string{}
		}
		for k, v := range m {
			if prev, ok := c.origin[lang+":"+k]; ok {
				return nil, fmt.Errorf("i18n: key %q is in both %s and %s", k, prev, name)
			}
			c.origin[lang+":"+k] = name
			c.msgs[lang][k] = v
		}
	}
	return c, nil
}

// T returns the message key in lang, formatted with args. A missing key
// falls back to the other language, then to the key itself (the catalog
// test makes sure neither happens).
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	if !ok {
		for _, l := range kiosko.Languages {
			if msg, ok = c.msgs[l][key]; ok {
				break
			}
		}
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether lang has key.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Keys returns every key of lang.
func (c *Catalog) Keys(lang string) []string {
	out := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		out = append(out, k)
	}
	return out
}

// Error returns the message of err in lang: the catalog text of a
// *kiosko.Error's key, or the generic internal error.
func (c *Catalog) Error(lang string, err error) string {
	var e *kiosko.Error
	if errors.As(err, &e) && e.Key != "" && c.Has(lang, e.Key) {
		return c.T(lang, e.Key)
	}
	return c.T(lang, "error.internal")
}

// Negotiate picks a supported language from an Accept-Language header,
// honouring q-values; fallback when none matches.
func Negotiate(acceptLanguage, fallback string) string {
	best, bestQ := "", -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		tag, q := part, 1.0
		if i := strings.Index(part, ";"); i >= 0 {
			tag = strings.TrimSpace(part[:i])
			for _, p := range strings.Split(part[i+1:], ";") {
				p = strings.TrimSpace(p)
				if v, ok := strings.CutPrefix(p, "q="); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil {
						q = f
					}
				}
			}
		}
		base := strings.ToLower(tag)
		if i := strings.IndexAny(base, "-_"); i >= 0 {
			base = base[:i]
		}
		if kiosko.IsLanguage(base) && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

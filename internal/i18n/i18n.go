// Package i18n holds kiosko's message catalogs, Spanish and English, and
// picks the reader's language.
//
// Catalogs are flat JSON files in locale/, named AREA.LANG.json (web.es.json,
// errors.en.json, ...); each area belongs to one package so people can work
// on them side by side. Messages may hold fmt verbs (%d, %s).
//
// A message whose words depend on a number is an object of CLDR plural
// forms instead of a string:
//
//	"web.meter.left": {"one": "%d free article left.", "other": "%d free articles left."}
//
// The form is chosen with the language's CLDR cardinal rules
// (golang.org/x/text/feature/plural) from the first integer argument, or
// from the argument named by "arg" (1-based) when another one counts:
//
//	"billing.seats.used": {"arg": 2, "one": "%d of %d seat taken", "other": "%d of %d seats taken"}
//
// "other" is required; forms a language does not use (Spanish "few") are
// ignored, and a missing form falls back to "other".
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

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/kiosko/kiosko"
)

//go:embed locale/*.json
var files embed.FS

// Catalog maps language -> key -> message.
type Catalog struct {
	msgs map[string]map[string]message
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
	c := &Catalog{msgs: map[string]map[string]message{}, origin: map[string]string{}}
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
		var m map[string]message
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		if c.msgs[lang] == nil {
			c.msgs[lang] = map[string]message{}
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

// T returns the message key in lang, formatted with args; a plural
// message takes the form lang's CLDR rules give its count. A missing key
// falls back to the other language, then to the key itself (the catalog
// test makes sure neither happens).
func (c *Catalog) T(lang, key string, args ...any) string {
	msg, ok := c.msgs[lang][key]
	msgLang := lang
	if !ok {
		for _, l := range kiosko.Languages {
			if msg, ok = c.msgs[l][key]; ok {
				msgLang = l
				break
			}
		}
		if !ok {
			return key
		}
	}
	text := msg.text
	if msg.forms != nil {
		text = msg.form(msgLang, args)
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, args...)
}

// message is one catalog entry: a plain text, or plural forms.
type message struct {
	text  string
	forms map[plural.Form]string
	arg   int // 1-based argument that counts; 0: the first integer
}

// pluralForms names the CLDR forms a catalog may give.
var pluralForms = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

// UnmarshalJSON reads a plain string or an object of plural forms.
func (m *message) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &m.text); err == nil {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return errors.New("a message must be a string or an object of plural forms")
	}
	m.forms = map[plural.Form]string{}
	for k, v := range raw {
		if k == "arg" {
			if err := json.Unmarshal(v, &m.arg); err != nil || m.arg < 1 {
				return errors.New(`plural "arg" must be a positive argument number`)
			}
			continue
		}
		f, ok := pluralForms[k]
		if !ok {
			return fmt.Errorf("unknown plural form %q (zero, one, two, few, many, other)", k)
		}
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return fmt.Errorf("plural form %q must be a string", k)
		}
		m.forms[f] = text
	}
	other, ok := m.forms[plural.Other]
	if !ok {
		return errors.New(`a plural message needs an "other" form`)
	}
	m.text = other
	return nil
}

// form picks the plural form for the count among args.
func (m message) form(lang string, args []any) string {
	n, ok := m.count(args)
	if !ok {
		return m.text
	}
	if n < 0 {
		n = -n
	}
	tag := language.Make(lang)
	f := plural.Cardinal.MatchPlural(tag, n%1_000_000_000, 0, 0, 0, 0)
	if n >= 1_000_000_000 {
		f = plural.Other
	}
	if text, ok := m.forms[f]; ok {
		return text
	}
	return m.text
}

// count finds the number a plural message depends on.
func (m message) count(args []any) (int, bool) {
	if m.arg > 0 {
		if m.arg > len(args) {
			return 0, false
		}
		return asInt(args[m.arg-1])
	}
	for _, a := range args {
		if n, ok := asInt(a); ok {
			return n, true
		}
	}
	return 0, false
}

func asInt(a any) (int, bool) {
	switch v := a.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case int32:
		return int(v), true
	case uint:
		return int(v), true
	case uint64:
		return int(v), true
	}
	return 0, false
}

// Forms returns the plural forms of key in lang by CLDR name ("one",
// "other"), or nil for a plain message; the page script uses them with
// Intl.PluralRules, which follows the same CLDR rules.
func (c *Catalog) Forms(lang, key string) map[string]string {
	msg, ok := c.msgs[lang][key]
	if !ok || msg.forms == nil {
		return nil
	}
	out := map[string]string{}
	for name, f := range pluralForms {
		if text, ok := msg.forms[f]; ok {
			out[name] = text
		}
	}
	return out
}

// IsPlural reports whether key is a plural message in lang.
func (c *Catalog) IsPlural(lang, key string) bool {
	msg, ok := c.msgs[lang][key]
	return ok && msg.forms != nil
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

package i18n

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
)

// TestEveryMessageRendersWithCounts renders every message of both
// languages with 0, 1 and 2 for its numbers: nothing may be left
// unformatted or mis-formatted, and a message that counts something in the
// reader's areas must be a plural message, so "1 libres" cannot happen.
func TestEveryMessageRendersWithCounts(t *testing.T) {
	c := Default()
	verb := regexp.MustCompile(`%(\[\d+\])?[a-z]`)
	// Numbers that are not counts, or that no word agrees with ("lee %d
	// al mes", "Plazas ocupadas: %d de %d"): one text serves every number.
	notCounts := map[string]bool{"billing.csv.line": true, "web.meter.signup_more": true, "web.plans.seats_per_unit": true,
		"es:billing.seats.count": true, "es:billing.csv.report": true}
	countAreas := []string{"web.", "billing.", "reader."}
	for _, lang := range kiosko.Languages {
		for _, key := range c.Keys(lang) {
			text := c.T(lang, key)
			verbs := verb.FindAllString(text, -1)
			for _, n := range []int{0, 1, 2} {
				args := make([]any, len(verbs))
				for i, v := range verbs {
					pos := i
					if m := verb.FindStringSubmatch(v); m[1] != "" {
						pos = int(m[1][1]-'0') - 1
					}
					if pos >= len(args) {
						continue
					}
					if strings.HasSuffix(v, "d") {
						args[pos] = n
					} else {
						args[pos] = "Ana"
					}
				}
				if key == "reader.at_time" {
					args = []any{"1:05", n}
				}
				got := c.T(lang, key, args...)
				if strings.Contains(got, "%!") || strings.TrimSpace(got) == "" {
					t.Errorf("%s %s with %d: %q", lang, key, n, got)
				}
			}
			counts := strings.Contains(text, "%d")
			for _, area := range countAreas {
				if counts && strings.HasPrefix(key, area) && !notCounts[key] && !notCounts[lang+":"+key] && !c.IsPlural(lang, key) {
					t.Errorf("%s %s counts something but has no plural forms: %q", lang, key, text)
				}
			}
		}
	}
}

// TestPluralForms checks the CLDR rules pick the right form in each
// language, for the texts the issue found wrong.
func TestPluralForms(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"es", "web.meter.left", []any{1}, "Te queda 1 artículo gratuito este mes."},
		{"es", "web.meter.left", []any{0}, "Te quedan 0 artículos gratuitos este mes."},
		{"es", "web.meter.left", []any{2}, "Te quedan 2 artículos gratuitos este mes."},
		{"en", "web.meter.left", []any{1}, "1 free article left this month."},
		{"en", "web.meter.left", []any{0}, "0 free articles left this month."},
		{"en", "billing.seats.count", []any{1, 1, 0}, "1 of 1 seat used, 0 free."},
		{"en", "billing.seats.count", []any{1, 2, 1}, "1 of 2 seats used, 1 free."},
		{"es", "billing.seats.count", []any{1, 2, 1}, "Plazas ocupadas: 1 de 2. Libres: 1."},
		{"es", "web.ago.minutes", []any{1}, "hace 1 minuto"},
		{"es", "web.ago.minutes", []any{5}, "hace 5 minutos"},
		{"es", "reader.at_time", []any{"1:05", 1}, "a la 1:05"},
		{"es", "reader.at_time", []any{"21:22", 21}, "a las 21:22"},
		{"en", "reader.at_time", []any{"9:22 PM", 21}, "at 9:22 PM"},
		{"es", "web.wall.register.title", []any{1}, "Has leído tu 1 artículo gratuito de este mes"},
	} {
		if got := c.T(tc.lang, tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %s %v = %q, want %q", tc.lang, tc.key, tc.args, got, tc.want)
		}
	}
}

func TestPluralMessageMustHaveOther(t *testing.T) {
	for _, bad := range []string{`{"one": "x"}`, `{"one": "x", "other": 3}`, `{"lots": "x", "other": "y"}`, `{"arg": 0, "other": "y"}`, `[1]`} {
		var m message
		if err := m.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

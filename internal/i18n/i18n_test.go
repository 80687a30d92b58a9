package i18n

import (
	"regexp"
	"sort"
	"testing"

	"github.com/kiosko/kiosko"
)

// TestCatalogsComplete fails when a key exists in one language and not the
// other, or when the two disagree on their fmt verbs.
func TestCatalogsComplete(t *testing.T) {
	c := Default()
	verbs := regexp.MustCompile(`%[a-z]`)
	for _, a := range kiosko.Languages {
		for _, b := range kiosko.Languages {
			if a == b {
				continue
			}
			keys := c.Keys(a)
			sort.Strings(keys)
			for _, k := range keys {
				if !c.Has(b, k) {
					t.Errorf("key %q is in %s but missing in %s (%s)", k, a, b, c.origin[a+":"+k])
					continue
				}
				va, vb := verbs.FindAllString(c.T(a, k), -1), verbs.FindAllString(c.T(b, k), -1)
				if len(va) != len(vb) {
					t.Errorf("key %q: %s has verbs %v, %s has %v", k, a, va, b, vb)
				}
			}
		}
	}
	if len(c.Keys(kiosko.LangEnglish)) == 0 {
		t.Fatal("no messages loaded")
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{"", "es"},
		{"en-US,en;q=0.9", "en"},
		{"fr-FR, en;q=0.5, es;q=0.8", "es"},
		{"fr", "es"},
		{"EN_gb", "en"},
		{"es;q=0, en;q=0.1", "en"},
		{"garbage;;;q=x, ,", "es"},
	} {
		if got := Negotiate(tc.header, "es"); got != tc.want {
			t.Errorf("Negotiate(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	c := Default()
	err := kiosko.FieldError("password", "error.password_too_short", "x")
	if got := c.Error("es", err); got == "error.password_too_short" || got == "" {
		t.Fatalf("no Spanish message for a domain error: %q", got)
	}
	if c.Error("en", err) == c.Error("es", err) {
		t.Fatal("English and Spanish messages are identical")
	}
}

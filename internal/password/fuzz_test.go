package password

import (
	"testing"
	"unicode/utf8"
)

// FuzzJudge: the estimator answers for any password the length rule lets
// through (12 to 128 characters), whatever the hints.
func FuzzJudge(f *testing.F) {
	f.Add("correct horse battery", "ana@example.com")
	f.Add("            ", "")
	f.Add("1991-02-03!!Zz\u202e", "Ana García")
	f.Fuzz(func(t *testing.T, pw, hint string) {
		if n := utf8.RuneCountInString(pw); n < 12 || n > 128 {
			return
		}
		Judge{}.Guessable(pw, hint)
	})
}

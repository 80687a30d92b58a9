package kiosko

import (
	"strings"
	"unicode"
)

// CleanName makes a name a person or an app typed (account name, device
// name, newsletter name) safe to show anywhere: control characters go
// (line breaks included, so a name cannot forge lines of an email or a
// log), and so do the invisible bidirectional controls, which could make
// "Firefox on Linux" read as something else on another reader's screen.
// Spaces are trimmed and runs of spaces kept as they were typed.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), isBidiControl(r), r == '\u2028', r == '\u2029', r == '\ufeff':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// isBidiControl reports the characters that change the direction of text:
// embeddings and overrides (U+202A..U+202E), isolates (U+2066..U+2069) and
// the directional marks.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

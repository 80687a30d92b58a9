package password

import (
	"strings"

	"github.com/trustelem/zxcvbn"
)

// MinGuesses is the fewest guesses a new password must be estimated to
// need. zxcvbn's estimate rests on its ranked lists (30,000 passwords of a
// 10-million leaked-password corpus, 30,000 Wikipedia words, 19,160 film
// and television words, 14,695 first names and surnames) and on patterns
// (keyboard walks, sequences, repeats, dates, l33t and reversed words), so
// a password refused here is one of those lists, a small variation of one,
// or a pattern. 10^6 is zxcvbn's line between "very guessable" and
// "somewhat guessable": beyond what an online attacker gets through the
// sign-in limits.
const MinGuesses = 1e6

// Judge refuses guessable passwords (kiosko.PasswordJudge).
type Judge struct{}

// Guessable reports whether pw needs fewer than MinGuesses guesses, knowing
// the hints (the account's email and name count as known to an attacker).
func (Judge) Guessable(pw string, hints ...string) bool {
	var inputs []string
	for _, h := range hints {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		inputs = append(inputs, h)
		if local, _, ok := strings.Cut(h, "@"); ok && local != "" {
			inputs = append(inputs, local)
		}
		inputs = append(inputs, strings.Fields(h)...)
	}
	return zxcvbn.PasswordStrength(pw, inputs).Guesses < MinGuesses
}

package kiosko

import "unicode/utf8"

// PasswordJudge tells guessable passwords apart, beyond the length rule and
// the short embedded list: internal/password judges them with an estimator
// built on lists of hundreds of thousands of leaked passwords, words and
// names. Hints are what an attacker knows of the person (email, name).
type PasswordJudge interface {
	Guessable(password string, hints ...string) bool
}

func errPasswordCommon() *Error {
	return FieldError("password", "error.password_common", "That password is too common; choose another.")
}

// oneCharacter reports a password of one character repeated ("            ").
func oneCharacter(pw string) bool {
	first, _ := utf8.DecodeRuneInString(pw)
	for _, r := range pw {
		if r != first {
			return false
		}
	}
	return true
}

// validatePassword is ValidatePassword and the judge's verdict.
func (s *Auth) validatePassword(pw string, hints ...string) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	if s.Judge != nil && s.Judge.Guessable(pw, hints...) {
		return errPasswordCommon()
	}
	return nil
}

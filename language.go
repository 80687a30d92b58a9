package kiosko

import (
	"context"
	"fmt"
)

// SetLanguage stores the language of the account's emails and of its pages
// outside an edition: the edition its reader uses, or the one they chose
// with the site's switch. EINVALID for a language kiosko does not speak;
// the account's cached sessions see the change at once.
func (s *Auth) SetLanguage(ctx context.Context, accountID int64, lang string) error {
	if !IsLanguage(lang) {
		return Errorf(EINVALID, "error.bad_request", "unknown language %q", lang)
	}
	if err := s.Store.UpdateAccountLang(ctx, accountID, lang); err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	s.forgetSessions(accountID)
	return nil
}

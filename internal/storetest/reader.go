package storetest

import (
	"testing"

	"github.com/kiosko/kiosko"
)

// readerTests: the account keeps the language of the edition its reader
// uses, for emails and for pages outside an edition.
var readerTests = []test{
	{"UpdateAccountLang", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		a := newAccount(t, s) // Spanish
		ok(t, s.UpdateAccountLang(ctx, a.ID, kiosko.LangEnglish))
		got, err := s.FindAccountByID(ctx, a.ID)
		ok(t, err)
		if got.Lang != kiosko.LangEnglish {
			t.Errorf("Lang = %q after UpdateAccountLang(en)", got.Lang)
		}
		if err := s.UpdateAccountLang(ctx, a.ID, "fr"); kiosko.ErrorCode(err) != kiosko.EINVALID {
			t.Errorf("UpdateAccountLang(fr) = %v, want EINVALID", err)
		}
		if got, _ := s.FindAccountByID(ctx, a.ID); got.Lang != kiosko.LangEnglish {
			t.Errorf("a refused language changed the account: %q", got.Lang)
		}
		if err := s.UpdateAccountLang(ctx, a.ID+1000, kiosko.LangSpanish); !kiosko.IsNotFound(err) {
			t.Errorf("UpdateAccountLang(unknown account) = %v, want ENOTFOUND", err)
		}
	}},
}

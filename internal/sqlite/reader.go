package sqlite

import (
	"context"

	"github.com/kiosko/kiosko"
)

// UpdateAccountLang sets the account's language.
func (db *DB) UpdateAccountLang(ctx context.Context, id int64, lang string) error {
	if !kiosko.IsLanguage(lang) {
		return kiosko.Errorf(kiosko.EINVALID, "error.bad_request", "unknown language %q", lang)
	}
	return execOne(ctx, db.write, errAccountNotFound(), `UPDATE accounts SET lang = ? WHERE id = ?`, lang, id)
}

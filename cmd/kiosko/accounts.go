package main

import (
	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/web"
)

// newAccounts wires the reader's own-data service (verification, email
// change, export, receipts, deletion). The console reaches it as
// Main.Deps.Accounts.
func newAccounts(m *Main) *kiosko.Accounts {
	return &kiosko.Accounts{Store: m.Store, Auth: m.Auth, Billing: m.Deps.Billing, Mail: web.NewAccountDataMail(m.Deps),
		Clock: m.Clock, Settings: kiosko.DefaultAccountSettings(), Log: m.Log}
}

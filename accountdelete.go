package kiosko

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AccountExport is the file a reader downloads from /account/export: every
// row stored about them (GDPR articles 15 and 20), in a documented,
// machine-readable form.
type AccountExport struct {
	Format     string      `json:"format"` // "kiosko-account-export/1"
	ExportedAt time.Time   `json:"exported_at"`
	Site       string      `json:"site,omitempty"`
	Account    ExportedID  `json:"account"`
	About      string      `json:"about"`
	Tables     AccountData `json:"tables"`
}

// ExportedID names the account an export is about.
type ExportedID struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
}

// ErrExportLimit is what a reader is told after ExportsPerHour exports in
// an hour: each one reads every table about them.
var ErrExportLimit = &Error{Code: ETOOMANY, Key: "accounts.error.export_limit",
	Message: "You have downloaded your data several times in the last hour. Use the last file, or try again later."}

// Export gathers everything stored about the account, at most
// ExportsPerHour times an hour per account (ErrExportLimit). The site's
// download and the API's give the same file (AccountExport.JSON).
func (s *Accounts) Export(ctx context.Context, a *Account, site string) (*AccountExport, error) {
	now := s.now()
	key := exportKey(a.ID)
	n, err := s.Store.CountFailedSignIns(ctx, key, now.Add(-time.Hour))
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if max := s.Settings.ExportsPerHour; max > 0 && n >= max {
		return nil, ErrExportLimit
	}
	data, err := s.Store.ExportAccountData(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := s.Store.RecordFailedSignIn(ctx, key, now); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &AccountExport{
		Format: "kiosko-account-export/1", ExportedAt: s.now().UTC(), Site: site,
		Account: ExportedID{ID: a.ID, Email: a.Email, Name: a.Name},
		About: "Every row this site stores about this account, table by table; times in UTC (RFC 3339). " +
			"Password and link hashes are left out: they are secrets, not data about you. " +
			"Invoices are kept by the payment provider; see /account/receipts.",
		Tables: data,
	}, nil
}

func exportKey(accountID int64) string { return fmt.Sprintf("export:account:%d", accountID) }

// JSON is the export as the reader downloads it: indented, one trailing
// newline.
func (e *AccountExport) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return append(b, '\n'), nil
}

// FileName is the name the export is downloaded under.
func (e *AccountExport) FileName() string {
	return "kiosko-account-" + e.ExportedAt.UTC().Format("2006-01-02") + ".json"
}

// DeleteOwn is a reader deleting their own account: the current password
// first (a wrong one counts as a failed sign-in), then Delete.
func (s *Accounts) DeleteOwn(ctx context.Context, id *Identity, current string) (*DeletionReport, error) {
	if err := s.Auth.CheckPassword(ctx, id, current); err != nil {
		return nil, err
	}
	return s.Delete(ctx, id.Account, id.Account.ID)
}

// DeletionReport says what deleting an account did.
type DeletionReport struct {
	Canceled []string   // provider subscriptions set to end at the period's end
	Members  []*Account // members whose seat of the reader's subscription ended (told by email)
}

// Delete erases an account (GDPR article 17): what the reader pays for is
// canceled at the provider at the end of the paid period (if that fails,
// nothing is deleted); every session ends at once and its pages are told;
// the seats the reader gave are freed and their members told by email;
// then the account and every row about it are erased in one transaction
// with an account.deleted event. Anonymous events and lease events stay
// for the insights. actorID is who asked: the reader, or an admin.
func (s *Accounts) Delete(ctx context.Context, a *Account, actorID int64) (*DeletionReport, error) {
	now := s.now()
	rep := &DeletionReport{}
	subs, err := s.Store.FindSubscriptionsByOwner(ctx, a.ID)
	if err != nil {
		return nil, fmt.Errorf("delete account: %w", err)
	}
	var seatsToRelease []int64
	for _, sub := range subs {
		if !sub.Grants(now) {
			continue
		}
		if sub.Provider != ProviderManual && sub.ProviderRef != "" && !sub.CancelAtPeriodEnd {
			if err := s.cancelAtPeriodEnd(ctx, sub); err != nil {
				s.log().Error("cancel a deleted account's subscription", "account", a.ID, "subscription", sub.ID, "err", err)
				return nil, &Error{Code: EUNAVAILABLE, Key: "accounts.error.cancel_failed",
					Message: "Your subscription could not be canceled at the payment provider, so nothing was deleted; try again later."}
			}
			rep.Canceled = append(rep.Canceled, sub.ProviderRef)
		}
		seats, err := s.Store.FindSeats(ctx, sub.ID)
		if err != nil {
			return nil, fmt.Errorf("delete account: %w", err)
		}
		for _, seat := range seats {
			seatsToRelease = append(seatsToRelease, seat.ID)
			if seat.AccountID != 0 && seat.AccountID != a.ID {
				m, err := s.Store.FindAccountByID(ctx, seat.AccountID)
				if err == nil {
					rep.Members = append(rep.Members, m)
				} else if !IsNotFound(err) {
					return nil, fmt.Errorf("delete account: %w", err)
				}
			}
		}
	}
	if held, _, err := s.Store.FindSeatForAccount(ctx, a.ID, now); err == nil {
		seatsToRelease = append(seatsToRelease, held.ID)
	} else if !IsNotFound(err) {
		return nil, fmt.Errorf("delete account: %w", err)
	}

	ended, err := s.Store.DeleteSessionsByAccount(ctx, a.ID, 0)
	if err != nil {
		return nil, fmt.Errorf("delete account: end sessions: %w", err)
	}
	s.Auth.forgetSessions(a.ID)
	s.Auth.signedOut(ctx, a.ID, ended, "deleted", EventRemoteSignOut)

	keys := []string{
		emailKey("signin:email:", a.Email), emailKey("mail:address:", a.Email),
		fmt.Sprintf("verify:account:%d", a.ID), fmt.Sprintf("change:account:%d", a.ID), fmt.Sprintf("reset:account:%d", a.ID), exportKey(a.ID),
	}
	by := "reader"
	if actorID != a.ID {
		by = "admin"
	}
	ctx = WithEvents(ctx, NewEvent(EventAccountDeleted, a.ID, actorID, map[string]any{"account_id": a.ID, "by": by}, now))
	if err := s.Store.DeleteAccountData(ctx, a, keys); err != nil {
		return nil, fmt.Errorf("delete account: %w", err)
	}
	s.Auth.forgetSessions(a.ID)
	if s.Auth.Reading != nil {
		for _, id := range seatsToRelease {
			s.Auth.Reading.ReleaseSeat(ctx, id)
		}
	}
	if s.Mail != nil {
		if err := s.Mail.AccountDeleted(ctx, a); err != nil {
			s.log().Error("account deleted email", "err", err)
		}
		for _, m := range rep.Members {
			if err := s.Mail.SeatEnded(ctx, m); err != nil {
				s.log().Error("seat ended email", "member", m.ID, "err", err)
			}
		}
	}
	return rep, nil
}

func (s *Accounts) cancelAtPeriodEnd(ctx context.Context, sub *Subscription) error {
	if s.Billing == nil || s.Billing.Provider == nil || s.Billing.Provider.Name() != sub.Provider {
		return fmt.Errorf("no %s provider configured", sub.Provider)
	}
	if c, ok := s.Billing.Provider.(PeriodEndCanceler); ok {
		return c.CancelAtPeriodEnd(ctx, sub.ProviderRef)
	}
	return s.Billing.Provider.Cancel(ctx, sub.ProviderRef)
}

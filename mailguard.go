package kiosko

import (
	"context"
	"fmt"
	"time"
)

// MailLimits bound the email kiosko sends on behalf of people who are not
// signed in (newsletter confirmations, sign-up and password reset emails),
// so nobody can use it to fill someone's inbox or to send mail in bulk.
// The three limits are shared by every kind of such email.
type MailLimits struct {
	PerAddress int // emails to one address per hour; beyond: silently none
	PerClient  int // emails asked for by one client address per hour; beyond: ETOOMANY
	Total      int // emails per minute in all; beyond: ETOOMANY
}

// DefaultMailLimits: 3 emails an hour to an address, 10 an hour asked for
// from one client address, 120 a minute in all.
func DefaultMailLimits() MailLimits {
	return MailLimits{PerAddress: 3, PerClient: 10, Total: 120}
}

// MailClientLimited is ETOOMANY when the client at ip, or everyone
// together, asked for their share of emails already. It counts nothing:
// callers that may end up sending nothing (an address already subscribed)
// ask it first, so the answer does not depend on what the address is,
// then AllowMail when they are about to send.
func MailClientLimited(ctx context.Context, store SessionStore, l MailLimits, ip string, now time.Time) error {
	if ip != "" && l.PerClient > 0 {
		n, err := store.CountFailedSignIns(ctx, "mail:ip:"+AddressKey(ip), now.Add(-time.Hour))
		if err != nil {
			return fmt.Errorf("mail limit: %w", err)
		}
		if n >= l.PerClient {
			return errTooMany()
		}
	}
	if l.Total > 0 {
		n, err := store.CountFailedSignIns(ctx, "mail:total", now.Add(-time.Minute))
		if err != nil {
			return fmt.Errorf("mail limit: %w", err)
		}
		if n >= l.Total {
			return errTooMany()
		}
	}
	return nil
}

// AllowMail decides whether an email to address, asked for by a client at
// ip, may go. send is false (and err nil) when the address had its share:
// the caller answers as if it sent it, so the answer tells nothing. err is
// ETOOMANY when the client or everyone together asked for too many. A mail
// allowed is counted at once. The counts live in the failed sign-ins table,
// so every node of a site shares them.
func AllowMail(ctx context.Context, store SessionStore, l MailLimits, address, ip string, now time.Time) (send bool, err error) {
	count := func(key string, since time.Time) (int, error) {
		n, err := store.CountFailedSignIns(ctx, key, since)
		if err != nil {
			return 0, fmt.Errorf("mail limit: %w", err)
		}
		return n, nil
	}
	clientKey := "mail:ip:" + AddressKey(ip)
	if ip == "" {
		l.PerClient = 0 // asked for by kiosko itself, not a client
	}
	if l.PerClient > 0 {
		n, err := count(clientKey, now.Add(-time.Hour))
		if err != nil {
			return false, err
		}
		if n >= l.PerClient {
			return false, errTooMany()
		}
	}
	if l.Total > 0 {
		n, err := count("mail:total", now.Add(-time.Minute))
		if err != nil {
			return false, err
		}
		if n >= l.Total {
			return false, errTooMany()
		}
	}
	// The client's asking counts even when the address gets nothing.
	if l.PerClient > 0 {
		if err := store.RecordFailedSignIn(ctx, clientKey, now); err != nil {
			return false, fmt.Errorf("mail limit: %w", err)
		}
	}
	addrKey := emailKey("mail:address:", address)
	if l.PerAddress > 0 {
		n, err := count(addrKey, now.Add(-time.Hour))
		if err != nil {
			return false, err
		}
		if n >= l.PerAddress {
			return false, nil
		}
		if err := store.RecordFailedSignIn(ctx, addrKey, now); err != nil {
			return false, fmt.Errorf("mail limit: %w", err)
		}
	}
	if l.Total > 0 {
		if err := store.RecordFailedSignIn(ctx, "mail:total", now); err != nil {
			return false, fmt.Errorf("mail limit: %w", err)
		}
	}
	return true, nil
}

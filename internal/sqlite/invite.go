package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kiosko/kiosko"
)

func errInvitationNotFound() *kiosko.Error {
	return notFound("error.invitation_unknown", "This invitation link is not valid.")
}

const invitationColumns = `id, token_hash, subscription_id, kind, email, invited_by, created_at, expires_at, accepted_at, accepted_by`

func scanInvitation(sc scanner) (*kiosko.Invitation, error) {
	var inv kiosko.Invitation
	var invitedBy, acceptedBy, accepted sql.NullInt64
	var created, expires int64
	if err := sc.Scan(&inv.ID, &inv.TokenHash, &inv.SubscriptionID, &inv.Kind, &inv.Email, &invitedBy, &created, &expires, &accepted, &acceptedBy); err != nil {
		return nil, err
	}
	inv.InvitedBy, inv.AcceptedBy = invitedBy.Int64, acceptedBy.Int64
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromNanos(created), fromNanos(expires), fromNullNanos(accepted)
	return &inv, nil
}

// nullID stores an optional reference; 0 is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateInvitation stores inv and sets its ID.
func (db *DB) CreateInvitation(ctx context.Context, inv *kiosko.Invitation) error {
	err := db.write.QueryRowContext(ctx, `INSERT INTO invitations (token_hash, subscription_id, kind, email, invited_by, created_at, expires_at, accepted_at, accepted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inv.TokenHash, inv.SubscriptionID, inv.Kind, inv.Email, nullID(inv.InvitedBy), nanos(inv.CreatedAt), nanos(inv.ExpiresAt),
		nullNanos(inv.AcceptedAt), nullID(inv.AcceptedBy)).Scan(&inv.ID)
	if err != nil {
		return fmt.Errorf("create invitation: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "The invitation exists.")))
	}
	return nil
}

// FindInvitationByTokenHash returns ENOTFOUND for an unknown token.
func (db *DB) FindInvitationByTokenHash(ctx context.Context, hash []byte) (*kiosko.Invitation, error) {
	return queryOne(ctx, db.read, errInvitationNotFound(), scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, hash)
}

// FindPendingInvitations lists a subscription's owner invitations neither
// used nor expired at now, oldest first.
func (db *DB) FindPendingInvitations(ctx context.Context, subscriptionID int64, now time.Time) ([]*kiosko.Invitation, error) {
	out, err := queryList(ctx, db.read, scanInvitation, `SELECT `+invitationColumns+` FROM invitations
		WHERE subscription_id = ? AND kind = ? AND accepted_at IS NULL AND expires_at > ? ORDER BY created_at, id`,
		subscriptionID, kiosko.InviteByOwner, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("find invitations: %w", err)
	}
	return out, nil
}

// ClaimInvitation marks an invitation used by accountID, once. The check
// and the update are one write transaction, so of two racing claims one wins.
func (db *DB) ClaimInvitation(ctx context.Context, hash []byte, accountID int64, now time.Time) (*kiosko.Invitation, error) {
	var inv *kiosko.Invitation
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = queryOne(ctx, tx, errInvitationNotFound(), scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = ?`, hash)
		switch {
		case err != nil:
			return err
		case inv.AcceptedAt != nil:
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invitation_used", Message: "This invitation was already used."}
		case !now.Before(inv.ExpiresAt):
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invitation_expired", Message: "This invitation has expired; ask for a new one."}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?`, nanos(now), accountID, inv.ID); err != nil {
			return err
		}
		inv.AcceptedAt, inv.AcceptedBy = &now, accountID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim invitation: %w", err)
	}
	return inv, nil
}

// UnclaimInvitation makes a claimed invitation usable again.
func (db *DB) UnclaimInvitation(ctx context.Context, id int64) error {
	return execOne(ctx, db.write, errInvitationNotFound(), `UPDATE invitations SET accepted_at = NULL, accepted_by = NULL WHERE id = ?`, id)
}

// DeleteInvitation removes an invitation.
func (db *DB) DeleteInvitation(ctx context.Context, id int64) error {
	return execOne(ctx, db.write, errInvitationNotFound(), `DELETE FROM invitations WHERE id = ?`, id)
}

func errDomainTaken() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.domain_taken", Message: "Another subscription already has one of these domains.", Field: "domains"}
}

// SetSubscriptionDomains replaces a subscription's domains in one
// transaction: a domain of another subscription changes nothing.
func (db *DB) SetSubscriptionDomains(ctx context.Context, subscriptionID int64, domains []string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := findSubscription(ctx, tx, subscriptionID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscription_domains WHERE subscription_id = ?`, subscriptionID); err != nil {
			return err
		}
		for _, d := range domains {
			if _, err := tx.ExecContext(ctx, `INSERT INTO subscription_domains (domain, subscription_id) VALUES (?, ?)`, d, subscriptionID); err != nil {
				return constraintErr(err, errDomainTaken())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set domains: %w", err)
	}
	return nil
}

// FindSubscriptionDomains lists a subscription's domains, sorted.
func (db *DB) FindSubscriptionDomains(ctx context.Context, subscriptionID int64) ([]string, error) {
	out, err := queryList(ctx, db.read, scanString, `SELECT domain FROM subscription_domains WHERE subscription_id = ? ORDER BY domain`, subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("find domains: %w", err)
	}
	return out, nil
}

// FindSubscriptionByDomain returns the subscription of a domain.
func (db *DB) FindSubscriptionByDomain(ctx context.Context, domain string) (*kiosko.Subscription, error) {
	return queryOne(ctx, db.read, notFound("error.join_no_company", "No company subscription has this domain."), scanSubscription,
		`SELECT `+qualified("subscriptions", subscriptionColumns)+` FROM subscriptions
		JOIN subscription_domains ON subscription_domains.subscription_id = subscriptions.id WHERE subscription_domains.domain = ?`, domain)
}

// SetBillingCustomer records the account's customer at a provider.
// ECONFLICT when the customer belongs to another account.
func (db *DB) SetBillingCustomer(ctx context.Context, accountID int64, provider, ref string) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO billing_customers (account_id, provider, customer_ref) VALUES (?, ?, ?)
		ON CONFLICT (account_id, provider) DO UPDATE SET customer_ref = excluded.customer_ref`, accountID, provider, ref)
	if err != nil {
		return fmt.Errorf("set billing customer: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Customer %s belongs to another account.", ref)))
	}
	return nil
}

func errCustomerNotFound() *kiosko.Error {
	return notFound("error.no_online_subscription", "No customer at the payment provider.")
}

// FindBillingCustomer returns the account's customer ref at a provider.
func (db *DB) FindBillingCustomer(ctx context.Context, accountID int64, provider string) (string, error) {
	return queryOne(ctx, db.read, errCustomerNotFound(), scanString,
		`SELECT customer_ref FROM billing_customers WHERE account_id = ? AND provider = ?`, accountID, provider)
}

// FindAccountIDByBillingCustomer returns the account of a provider's customer.
func (db *DB) FindAccountIDByBillingCustomer(ctx context.Context, provider, ref string) (int64, error) {
	return queryOne(ctx, db.read, errCustomerNotFound(), func(sc scanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT account_id FROM billing_customers WHERE provider = ? AND customer_ref = ?`, provider, ref)
}

// RecordBillingEvent notes an event as handled; ECONFLICT when it was.
func (db *DB) RecordBillingEvent(ctx context.Context, r *kiosko.BillingEventRecord) error {
	_, err := db.write.ExecContext(ctx, `INSERT INTO billing_events (provider, event_id, kind, subscription_ref, created_at, handled_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Provider, r.ID, r.Kind, r.SubscriptionRef, nanos(r.Created), nanos(r.HandledAt))
	if err != nil {
		return fmt.Errorf("record billing event: %w", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Event %s was already handled.", r.ID)))
	}
	return nil
}

// HasBillingEvent reports whether an event was handled.
func (db *DB) HasBillingEvent(ctx context.Context, provider, id string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM billing_events WHERE provider = ? AND event_id = ?`, provider, id).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("has billing event: %w", err)
	}
	return n > 0, nil
}

// LastBillingEventAt is the creation time of the newest handled event of a
// provider subscription, or the zero time.
func (db *DB) LastBillingEventAt(ctx context.Context, provider, subscriptionRef string) (time.Time, error) {
	var n sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT max(created_at) FROM billing_events WHERE provider = ? AND subscription_ref = ?`, provider, subscriptionRef).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("last billing event: %w", err)
	}
	return fromNanos(n.Int64), nil
}

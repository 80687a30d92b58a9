package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

func errInvitationNotFound() *kiosko.Error {
	return notFound("error.invitation_unknown", "This invitation link is not valid.")
}

const invitationColumns = `id, token_hash, subscription_id, kind, email, invited_by, created_at, expires_at, accepted_at, accepted_by`

func scanInvitation(sc pgx.Row) (*kiosko.Invitation, error) {
	var inv kiosko.Invitation
	var invitedBy, acceptedBy, accepted *int64
	var created, expires int64
	if err := sc.Scan(&inv.ID, &inv.TokenHash, &inv.SubscriptionID, &inv.Kind, &inv.Email, &invitedBy, &created, &expires, &accepted, &acceptedBy); err != nil {
		return nil, err
	}
	if invitedBy != nil {
		inv.InvitedBy = *invitedBy
	}
	if acceptedBy != nil {
		inv.AcceptedBy = *acceptedBy
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt = fromNanos(created), fromNanos(expires), fromNullNanos(accepted)
	return &inv, nil
}

// nullID stores an optional reference; 0 is NULL.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CreateInvitation stores inv and sets its ID.
func (db *DB) CreateInvitation(ctx context.Context, inv *kiosko.Invitation) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO invitations (token_hash, subscription_id, kind, email, invited_by, created_at, expires_at, accepted_at, accepted_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		inv.TokenHash, inv.SubscriptionID, inv.Kind, inv.Email, nullID(inv.InvitedBy), nanos(inv.CreatedAt), nanos(inv.ExpiresAt),
		nullNanos(inv.AcceptedAt), nullID(inv.AcceptedBy)).Scan(&inv.ID)
	return fail("create invitation", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "The invitation exists.")))
}

// FindInvitationByTokenHash returns ENOTFOUND for an unknown token.
func (db *DB) FindInvitationByTokenHash(ctx context.Context, hash []byte) (*kiosko.Invitation, error) {
	return queryOne(ctx, db.pool, errInvitationNotFound(), scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1`, hash)
}

// FindPendingInvitations lists a subscription's owner invitations neither
// used nor expired at now, oldest first.
func (db *DB) FindPendingInvitations(ctx context.Context, subscriptionID int64, now time.Time) ([]*kiosko.Invitation, error) {
	out, err := queryList(ctx, db.pool, scanInvitation, `SELECT `+invitationColumns+` FROM invitations
		WHERE subscription_id = $1 AND kind = $2 AND accepted_at IS NULL AND expires_at > $3 ORDER BY created_at, id`,
		subscriptionID, kiosko.InviteByOwner, nanos(now))
	if err != nil {
		return nil, fail("find invitations", err)
	}
	return out, nil
}

// ClaimInvitation marks an invitation used by accountID, once. The row is
// read FOR UPDATE, so of two racing claims (on any nodes) one wins and the
// other then sees it used.
func (db *DB) ClaimInvitation(ctx context.Context, hash []byte, accountID int64, now time.Time) (*kiosko.Invitation, error) {
	var inv *kiosko.Invitation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		inv, err = queryOne(ctx, tx, errInvitationNotFound(), scanInvitation, `SELECT `+invitationColumns+` FROM invitations WHERE token_hash = $1 FOR UPDATE`, hash)
		switch {
		case err != nil:
			return err
		case inv.AcceptedAt != nil:
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invitation_used", Message: "This invitation was already used."}
		case !now.Before(inv.ExpiresAt):
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.invitation_expired", Message: "This invitation has expired; ask for a new one."}
		}
		if _, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3`, nanos(now), accountID, inv.ID); err != nil {
			return constraintErr(err, nil)
		}
		inv.AcceptedAt, inv.AcceptedBy = &now, accountID
		return nil
	})
	if err != nil {
		return nil, fail("claim invitation", err)
	}
	return inv, nil
}

// UnclaimInvitation makes a claimed invitation usable again.
func (db *DB) UnclaimInvitation(ctx context.Context, id int64) error {
	return execOne(ctx, db.pool, errInvitationNotFound(), `UPDATE invitations SET accepted_at = NULL, accepted_by = NULL WHERE id = $1`, id)
}

// DeleteInvitation removes an invitation.
func (db *DB) DeleteInvitation(ctx context.Context, id int64) error {
	return execOne(ctx, db.pool, errInvitationNotFound(), `DELETE FROM invitations WHERE id = $1`, id)
}

func errDomainTaken() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.domain_taken", Message: "Another subscription already has one of these domains.", Field: "domains"}
}

// SetSubscriptionDomains replaces a subscription's domains in one
// transaction: a domain of another subscription changes nothing.
func (db *DB) SetSubscriptionDomains(ctx context.Context, subscriptionID int64, domains []string) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockSubscription(ctx, tx, subscriptionID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM subscription_domains WHERE subscription_id = $1`, subscriptionID); err != nil {
			return err
		}
		for _, d := range domains {
			if _, err := tx.Exec(ctx, `INSERT INTO subscription_domains (domain, subscription_id) VALUES ($1, $2)`, d, subscriptionID); err != nil {
				return constraintErr(err, errDomainTaken())
			}
		}
		return nil
	})
	return fail("set domains", err)
}

// FindSubscriptionDomains lists a subscription's domains, sorted.
func (db *DB) FindSubscriptionDomains(ctx context.Context, subscriptionID int64) ([]string, error) {
	out, err := queryList(ctx, db.pool, scanString, `SELECT domain FROM subscription_domains WHERE subscription_id = $1 ORDER BY domain COLLATE "C"`, subscriptionID)
	if err != nil {
		return nil, fail("find domains", err)
	}
	return out, nil
}

// FindSubscriptionByDomain returns the subscription of a domain.
func (db *DB) FindSubscriptionByDomain(ctx context.Context, domain string) (*kiosko.Subscription, error) {
	return queryOne(ctx, db.pool, notFound("error.join_no_company", "No company subscription has this domain."), scanSubscription,
		`SELECT `+qualified("subscriptions", subscriptionColumns)+` FROM subscriptions
		JOIN subscription_domains ON subscription_domains.subscription_id = subscriptions.id WHERE subscription_domains.domain = $1`, domain)
}

// SetBillingCustomer records the account's customer at a provider.
// ECONFLICT when the customer belongs to another account.
func (db *DB) SetBillingCustomer(ctx context.Context, accountID int64, provider, ref string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO billing_customers (account_id, provider, customer_ref) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, provider) DO UPDATE SET customer_ref = excluded.customer_ref`, accountID, provider, ref)
	return fail("set billing customer", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Customer %s belongs to another account.", ref)))
}

func errCustomerNotFound() *kiosko.Error {
	return notFound("error.no_online_subscription", "No customer at the payment provider.")
}

// FindBillingCustomer returns the account's customer ref at a provider.
func (db *DB) FindBillingCustomer(ctx context.Context, accountID int64, provider string) (string, error) {
	return queryOne(ctx, db.pool, errCustomerNotFound(), scanString,
		`SELECT customer_ref FROM billing_customers WHERE account_id = $1 AND provider = $2`, accountID, provider)
}

// FindAccountIDByBillingCustomer returns the account of a provider's customer.
func (db *DB) FindAccountIDByBillingCustomer(ctx context.Context, provider, ref string) (int64, error) {
	return queryOne(ctx, db.pool, errCustomerNotFound(), func(sc pgx.Row) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT account_id FROM billing_customers WHERE provider = $1 AND customer_ref = $2`, provider, ref)
}

// RecordBillingEvent notes an event as handled; ECONFLICT when it was.
func (db *DB) RecordBillingEvent(ctx context.Context, r *kiosko.BillingEventRecord) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO billing_events (provider, event_id, kind, subscription_ref, created_at, handled_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.Provider, r.ID, r.Kind, r.SubscriptionRef, nanos(r.Created), nanos(r.HandledAt))
	return fail("record billing event", constraintErr(err, kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Event %s was already handled.", r.ID)))
}

// HasBillingEvent reports whether an event was handled.
func (db *DB) HasBillingEvent(ctx context.Context, provider, id string) (bool, error) {
	var found bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM billing_events WHERE provider = $1 AND event_id = $2)`, provider, id).Scan(&found)
	if err != nil {
		return false, fail("has billing event", err)
	}
	return found, nil
}

// LastBillingEventAt is the creation time of the newest handled event of a
// provider subscription, or the zero time.
func (db *DB) LastBillingEventAt(ctx context.Context, provider, subscriptionRef string) (time.Time, error) {
	var n *int64
	err := db.pool.QueryRow(ctx, `SELECT max(created_at) FROM billing_events WHERE provider = $1 AND subscription_ref = $2`, provider, subscriptionRef).Scan(&n)
	if err != nil {
		return time.Time{}, fail("last billing event", err)
	}
	if n == nil {
		return time.Time{}, nil
	}
	return fromNanos(*n), nil
}

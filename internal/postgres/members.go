package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

// ImportMembers stores members in one transaction (see kiosko.MemberStore).
func (db *DB) ImportMembers(ctx context.Context, ms []*kiosko.MemberImport, now time.Time) (*kiosko.MemberImportResult, error) {
	res := &kiosko.MemberImportResult{}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// pgx caches prepared statements per connection: each query text
		// below is prepared once for the whole file.
		prep := func(q string) (stmt, error) { return stmt{tx: tx, q: q}, nil }
		findAccount, err := prep(`SELECT id FROM accounts WHERE email = $1`)
		if err != nil {
			return err
		}
		insertAccount, err := prep(`INSERT INTO accounts (email, name, password_hash, role, lang, email_verified_at, password_changed_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`)
		if err != nil {
			return err
		}
		fillName, err := prep(`UPDATE accounts SET name = $1 WHERE id = $2 AND name = ''`)
		if err != nil {
			return err
		}
		customer, err := prep(`INSERT INTO billing_customers (account_id, provider, customer_ref) VALUES ($1, 'stripe', $2) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		running, err := prep(`SELECT count(*) FROM subscriptions WHERE owner_id = $1 AND status IN ('active', 'past_due', 'canceled')
			AND (current_period_end = 0 OR current_period_end > $2)`)
		if err != nil {
			return err
		}
		findSub, err := prep(`SELECT id, status FROM newsletter_subscribers WHERE edition = $1 AND email = $2`)
		if err != nil {
			return err
		}
		confirm, err := prep(`UPDATE newsletter_subscribers SET status = 'confirmed', confirmed_at = $1 WHERE id = $2`)
		if err != nil {
			return err
		}
		unsubscribe, err := prep(`UPDATE newsletter_subscribers SET status = 'unsubscribed', unsubscribed_at = $1 WHERE id = $2`)
		if err != nil {
			return err
		}

		for _, m := range ms {
			if !m.NoAccount {
				a := &m.Account
				err := findAccount.QueryRow(ctx, a.Email).Scan(&a.ID)
				switch {
				case errors.Is(err, pgx.ErrNoRows):
					if err := insertAccount.QueryRow(ctx, a.Email, a.Name, a.PasswordHash, a.Role, a.Lang, nullNanos(a.EmailVerifiedAt),
						nanos(a.PasswordChangedAt), nanos(a.CreatedAt)).Scan(&a.ID); err != nil {
						return fmt.Errorf("line %d: %w", m.Line, err)
					}
					res.Created++
				case err != nil:
					return err
				default:
					res.Existing++
					if a.Name != "" {
						if _, err := fillName.Exec(ctx, a.Name, a.ID); err != nil {
							return err
						}
					}
				}
				if m.StripeCustomer != "" {
					if _, err := customer.Exec(ctx, a.ID, m.StripeCustomer); err != nil {
						return err
					}
				}
				if g := m.Grant; g != nil {
					var n int
					if err := running.QueryRow(ctx, a.ID, nanos(now)).Scan(&n); err != nil {
						return err
					}
					if n == 0 {
						g.OwnerID = a.ID
						if err := tx.QueryRow(ctx, `INSERT INTO subscriptions (owner_id, plan_code, status, seats, price_cents, currency, provider, provider_ref, current_period_end, cancel_at_period_end, created_at)
							VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, false, $9) RETURNING id`, g.OwnerID, g.PlanCode, g.Status, g.Seats, g.PriceCents, g.Currency, g.Provider,
							nanos(g.CurrentPeriodEnd), nanos(g.CreatedAt)).Scan(&g.ID); err != nil {
							return err
						}
						if _, err := tx.Exec(ctx, `INSERT INTO seats (subscription_id, account_id, position, assigned_at) VALUES ($1, $2, 1, $3)`, g.ID, a.ID, nanos(g.CreatedAt)); err != nil {
							return err
						}
						if err := addFreeSeats(ctx, tx, g.ID, 1, g.Seats-1); err != nil {
							return err
						}
						res.Granted++
					}
				}
			}
			for i := range m.Newsletters {
				n := &m.Newsletters[i]
				var id int64
				var status string
				err := findSub.QueryRow(ctx, n.Edition, n.Email).Scan(&id, &status)
				switch {
				case errors.Is(err, pgx.ErrNoRows):
					if err := createSubscriber(ctx, tx, n); err != nil {
						return err
					}
					if n.Status == kiosko.SubscriberConfirmed {
						res.Subscribed++
					} else {
						res.Unsubscribed++
					}
				case err != nil:
					return err
				case n.Status == kiosko.SubscriberConfirmed && status == kiosko.SubscriberPending:
					if _, err := confirm.Exec(ctx, nanos(now), id); err != nil {
						return err
					}
					res.Subscribed++
				case n.Status == kiosko.SubscriberUnsubscribed && (status == kiosko.SubscriberPending || status == kiosko.SubscriberConfirmed):
					if _, err := unsubscribe.Exec(ctx, nanos(now), id); err != nil {
						return err
					}
					res.Unsubscribed++
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import members: %w", err)
	}
	return res, nil
}

// FindMembers lists every account, then the newsletter subscribers
// without one, by email.
func (db *DB) FindMembers(ctx context.Context, now time.Time) ([]*kiosko.Member, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return nil, fail("find members", err)
	}
	defer tx.Rollback(ctx)
	accounts, err := queryList(ctx, tx, scanAccount, `SELECT `+accountColumns+` FROM accounts ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	byID := map[int64]*kiosko.Member{}
	byEmail := map[string]*kiosko.Member{}
	var out []*kiosko.Member
	for _, a := range accounts {
		m := &kiosko.Member{Account: *a, Newsletters: map[string]string{}}
		byID[a.ID], byEmail[a.Email] = m, m
		out = append(out, m)
	}
	type pair struct {
		id  int64
		ref string
	}
	customers, err := queryList(ctx, tx, func(r pgx.Row) (pair, error) { var p pair; return p, r.Scan(&p.id, &p.ref) },
		`SELECT account_id, customer_ref FROM billing_customers WHERE provider = 'stripe'`)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	for _, c := range customers {
		if m := byID[c.id]; m != nil {
			m.StripeCustomer = c.ref
		}
	}
	subs, err := queryList(ctx, tx, func(r pgx.Row) (*kiosko.Subscription, error) {
		var s kiosko.Subscription
		var end int64
		err := r.Scan(&s.ID, &s.OwnerID, &s.PlanCode, &s.Status, &s.Seats, &s.Provider, &end)
		s.CurrentPeriodEnd = fromNanos(end)
		return &s, err
	}, `SELECT id, owner_id, plan_code, status, seats, provider, current_period_end FROM subscriptions ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	for _, s := range subs {
		if m := byID[s.OwnerID]; m != nil && s.Grants(now) {
			m.Subscription = s
		}
	}
	type row struct {
		edition, email, name, status string
		created                      int64
	}
	rows, err := queryList(ctx, tx, func(r pgx.Row) (row, error) {
		var x row
		return x, r.Scan(&x.edition, &x.email, &x.name, &x.status, &x.created)
	}, `SELECT edition, email, name, status, created_at FROM newsletter_subscribers ORDER BY email, edition`)
	if err != nil {
		return nil, fmt.Errorf("find members: %w", err)
	}
	var only []*kiosko.Member
	for _, x := range rows {
		m := byEmail[x.email]
		if m == nil {
			m = &kiosko.Member{Account: kiosko.Account{Email: x.email, Name: x.name, CreatedAt: fromNanos(x.created)}, Newsletters: map[string]string{}}
			byEmail[x.email] = m
			only = append(only, m)
		}
		m.Newsletters[x.edition] = x.status
	}
	return append(out, only...), nil
}

// stmt runs one query text inside a transaction.
type stmt struct {
	tx pgx.Tx
	q  string
}

func (s stmt) QueryRow(ctx context.Context, args ...any) pgx.Row {
	return s.tx.QueryRow(ctx, s.q, args...)
}

func (s stmt) Exec(ctx context.Context, args ...any) (any, error) {
	return s.tx.Exec(ctx, s.q, args...)
}

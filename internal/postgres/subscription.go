package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kiosko/kiosko"
)

func errSubscriptionNotFound() *kiosko.Error {
	return notFound("error.subscription_unknown", "No such subscription.")
}

func errSeatNotFound() *kiosko.Error { return notFound("error.seat_unknown", "No such seat.") }

const subscriptionColumns = `id, owner_id, plan_code, status, seats, price_cents, currency, provider, provider_ref, current_period_end, cancel_at_period_end, created_at`

// subscriptionRow holds the scan destinations of subscriptionColumns.
type subscriptionRow struct {
	s                  kiosko.Subscription
	periodEnd, created int64
}

func (r *subscriptionRow) dest() []any {
	s := &r.s
	return []any{&s.ID, &s.OwnerID, &s.PlanCode, &s.Status, &s.Seats, &s.PriceCents, &s.Currency, &s.Provider, &s.ProviderRef,
		&r.periodEnd, &s.CancelAtPeriodEnd, &r.created}
}

func (r *subscriptionRow) value() *kiosko.Subscription {
	r.s.CurrentPeriodEnd, r.s.CreatedAt = fromNanos(r.periodEnd), fromNanos(r.created)
	return &r.s
}

func scanSubscription(sc pgx.Row) (*kiosko.Subscription, error) {
	var r subscriptionRow
	if err := sc.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.value(), nil
}

// seatColumns are qualified so they also serve joins with subscriptions.
const seatColumns = `seats.id, seats.subscription_id, seats.account_id, seats.position, seats.sharing_warning, seats.assigned_at`

// seatRow holds the scan destinations of seatColumns.
type seatRow struct {
	s                          kiosko.Seat
	account, warning, assigned *int64
}

func (r *seatRow) dest() []any {
	return []any{&r.s.ID, &r.s.SubscriptionID, &r.account, &r.s.Position, &r.warning, &r.assigned}
}

func (r *seatRow) value() *kiosko.Seat {
	if r.account != nil {
		r.s.AccountID = *r.account
	}
	r.s.SharingWarning, r.s.AssignedAt = fromNullNanos(r.warning), fromNullNanos(r.assigned)
	return &r.s
}

func scanSeat(sc pgx.Row) (*kiosko.Seat, error) {
	var r seatRow
	if err := sc.Scan(r.dest()...); err != nil {
		return nil, err
	}
	return r.value(), nil
}

func errProviderRefTaken(s *kiosko.Subscription) *kiosko.Error {
	return kiosko.Errorf(kiosko.ECONFLICT, "error.conflict", "Subscription %s/%s already exists.", s.Provider, s.ProviderRef)
}

func errSeatsNegative() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.seats_invalid", Message: "The number of seats cannot be negative.", Field: "seats"}
}

// CreateSubscription stores s with s.Seats seats, the first held by the
// owner, and sets s.ID. ECONFLICT when another subscription has the same
// provider and non-empty provider reference.
func (db *DB) CreateSubscription(ctx context.Context, s *kiosko.Subscription) error {
	if s.Seats < 0 {
		return errSeatsNegative()
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO subscriptions (owner_id, plan_code, status, seats, price_cents, currency, provider, provider_ref, current_period_end, cancel_at_period_end, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
			s.OwnerID, s.PlanCode, s.Status, s.Seats, s.PriceCents, s.Currency, s.Provider, s.ProviderRef,
			nanos(s.CurrentPeriodEnd), s.CancelAtPeriodEnd, nanos(s.CreatedAt)).Scan(&s.ID)
		if err != nil {
			return constraintErr(err, errProviderRefTaken(s))
		}
		if s.Seats > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO seats (subscription_id, account_id, position, assigned_at) VALUES ($1, $2, 1, $3)`,
				s.ID, s.OwnerID, nanos(s.CreatedAt)); err != nil {
				return err
			}
		}
		if err := addFreeSeats(ctx, tx, s.ID, 1, s.Seats-1); err != nil {
			return err
		}
		return emit(ctx, tx, kiosko.SubscriptionEvent(kiosko.EventSubscriptionCreated, s, s.CreatedAt))
	})
	if err != nil {
		s.ID = 0
		return fail("create subscription", err)
	}
	return nil
}

// addFreeSeats adds n free seats after position after, in one statement.
func addFreeSeats(ctx context.Context, tx pgx.Tx, subscriptionID int64, after, n int) error {
	if n <= 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO seats (subscription_id, position)
		SELECT $1, p FROM generate_series($2::integer + 1, $2::integer + $3::integer) AS p ORDER BY p`, subscriptionID, after, n)
	return err
}

// FindSubscriptionByID returns a subscription, or ENOTFOUND.
func (db *DB) FindSubscriptionByID(ctx context.Context, id int64) (*kiosko.Subscription, error) {
	return queryOne(ctx, db.pool, errSubscriptionNotFound(), scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = $1`, id)
}

// lockSubscription reads a subscription and locks its row until the
// transaction ends: every change to its seats takes this lock first, so
// they happen one after the other on any number of nodes.
func lockSubscription(ctx context.Context, tx pgx.Tx, id int64) (*kiosko.Subscription, error) {
	return queryOne(ctx, tx, errSubscriptionNotFound(), scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = $1 FOR UPDATE`, id)
}

// FindSubscriptionByProviderRef returns the subscription a payment
// provider knows as ref, or ENOTFOUND (always, for an empty ref).
func (db *DB) FindSubscriptionByProviderRef(ctx context.Context, provider, ref string) (*kiosko.Subscription, error) {
	if ref == "" {
		return nil, errSubscriptionNotFound()
	}
	return queryOne(ctx, db.pool, errSubscriptionNotFound(), scanSubscription,
		`SELECT `+subscriptionColumns+` FROM subscriptions WHERE provider = $1 AND provider_ref = $2`, provider, ref)
}

// FindSubscriptionsByOwner lists an account's subscriptions, newest first.
func (db *DB) FindSubscriptionsByOwner(ctx context.Context, ownerID int64) ([]*kiosko.Subscription, error) {
	subs, err := queryList(ctx, db.pool, scanSubscription,
		`SELECT `+subscriptionColumns+` FROM subscriptions WHERE owner_id = $1 ORDER BY created_at DESC, id DESC`, ownerID)
	if err != nil {
		return nil, fail("find subscriptions", err)
	}
	return subs, nil
}

// UpdateSubscription changes fields; raising Seats adds free seats,
// lowering it removes free seats first (the last positions first) and
// fails with ECONFLICT when the occupied ones would not fit. The remaining
// seats keep their ids and are renumbered 1, 2, 3… in their order.
func (db *DB) UpdateSubscription(ctx context.Context, id int64, upd kiosko.SubscriptionUpdate) (*kiosko.Subscription, error) {
	var s *kiosko.Subscription
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if s, err = lockSubscription(ctx, tx, id); err != nil {
			return err
		}
		before := *s
		setIf(&s.PlanCode, upd.PlanCode)
		setIf(&s.Status, upd.Status)
		setIf(&s.PriceCents, upd.PriceCents)
		setIf(&s.ProviderRef, upd.ProviderRef)
		setIf(&s.CurrentPeriodEnd, upd.CurrentPeriodEnd)
		setIf(&s.CancelAtPeriodEnd, upd.CancelAtPeriodEnd)
		if upd.Seats != nil && *upd.Seats != s.Seats {
			if err := resizeSeats(ctx, tx, id, *upd.Seats); err != nil {
				return err
			}
			s.Seats = *upd.Seats
		}
		_, err = tx.Exec(ctx, `UPDATE subscriptions SET plan_code = $1, status = $2, seats = $3, price_cents = $4, provider_ref = $5,
			current_period_end = $6, cancel_at_period_end = $7 WHERE id = $8`,
			s.PlanCode, s.Status, s.Seats, s.PriceCents, s.ProviderRef, nanos(s.CurrentPeriodEnd), s.CancelAtPeriodEnd, id)
		if err != nil {
			return constraintErr(err, errProviderRefTaken(s))
		}
		if ev, changed := kiosko.SubscriptionChangeEvent(&before, s, time.Now()); changed {
			return emit(ctx, tx, ev)
		}
		return nil
	})
	if err != nil {
		return nil, fail("update subscription", err)
	}
	return s, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// resizeSeats gives a subscription n seats; the caller holds its lock.
func resizeSeats(ctx context.Context, tx pgx.Tx, subscriptionID int64, n int) error {
	if n < 0 {
		return errSeatsNegative()
	}
	seats, err := queryList(ctx, tx, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE subscription_id = $1 ORDER BY position`, subscriptionID)
	if err != nil {
		return err
	}
	if n >= len(seats) {
		last := 0
		if len(seats) > 0 {
			last = seats[len(seats)-1].Position
		}
		return addFreeSeats(ctx, tx, subscriptionID, last, n-len(seats))
	}
	occupied := 0
	for _, s := range seats {
		if s.AccountID != 0 {
			occupied++
		}
	}
	if occupied > n {
		return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.seats_occupied",
			Message: fmt.Sprintf("%d seats are taken; free some before going down to %d.", occupied, n), Field: "seats"}
	}
	drop := len(seats) - n
	var keep []*kiosko.Seat
	for i := len(seats) - 1; i >= 0; i-- {
		if s := seats[i]; drop > 0 && s.AccountID == 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM seats WHERE id = $1`, s.ID); err != nil {
				return err
			}
			drop--
		} else {
			keep = append(keep, s)
		}
	}
	// keep runs from the last position; renumber from the first, which
	// never lands on a position still in use.
	for i := len(keep) - 1; i >= 0; i-- {
		if pos := len(keep) - i; keep[i].Position != pos {
			if _, err := tx.Exec(ctx, `UPDATE seats SET position = $1 WHERE id = $2`, pos, keep[i].ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// FindSeatForAccount returns the seat an account holds in a subscription
// that grants access at now (its own or someone else's), the newest
// subscription first. ENOTFOUND if none.
func (db *DB) FindSeatForAccount(ctx context.Context, accountID int64, now time.Time) (*kiosko.Seat, *kiosko.Subscription, error) {
	type pair struct {
		seat *kiosko.Seat
		sub  *kiosko.Subscription
	}
	pairs, err := queryList(ctx, db.pool, func(r pgx.Row) (pair, error) {
		var seat seatRow
		var sub subscriptionRow
		if err := r.Scan(append(seat.dest(), sub.dest()...)...); err != nil {
			return pair{}, err
		}
		return pair{seat.value(), sub.value()}, nil
	}, `SELECT `+seatColumns+`, `+qualified("subscriptions", subscriptionColumns)+`
		FROM seats JOIN subscriptions ON subscriptions.id = seats.subscription_id
		WHERE seats.account_id = $1 AND subscriptions.status IN ($2, $3, $4)
		ORDER BY subscriptions.created_at DESC, subscriptions.id DESC`,
		accountID, kiosko.StatusActive, kiosko.StatusPastDue, kiosko.StatusCanceled)
	if err != nil {
		return nil, nil, fail("find seat", err)
	}
	for _, p := range pairs {
		// The rule of access lives in the domain; SQL only narrows.
		if p.sub.Grants(now) {
			return p.seat, p.sub, nil
		}
	}
	return nil, nil, notFound("error.no_seat", "The account holds no seat in a subscription that grants access.")
}

// FindSeats lists a subscription's seats by position.
func (db *DB) FindSeats(ctx context.Context, subscriptionID int64) ([]*kiosko.Seat, error) {
	seats, err := queryList(ctx, db.pool, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE subscription_id = $1 ORDER BY position`, subscriptionID)
	if err != nil {
		return nil, fail("find seats", err)
	}
	return seats, nil
}

// FindSeatByID returns a seat, or ENOTFOUND.
func (db *DB) FindSeatByID(ctx context.Context, id int64) (*kiosko.Seat, error) {
	return queryOne(ctx, db.pool, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = $1`, id)
}

func errSeatTaken() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.seat_taken", Message: "This account already holds a seat in the subscription."}
}

// AssignSeat puts an account on the first free seat. The transaction
// first locks the subscription's row (FOR UPDATE), so assignments to one
// subscription run one at a time whichever node they come from: of two
// racing for the last seat exactly one wins, and one account racing itself
// gets one seat. The unique (subscription_id, account_id) constraint backs
// the second rule up.
func (db *DB) AssignSeat(ctx context.Context, subscriptionID, accountID int64, at time.Time) (*kiosko.Seat, error) {
	var seat *kiosko.Seat
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := lockSubscription(ctx, tx, subscriptionID); err != nil {
			return err
		}
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM seats WHERE subscription_id = $1 AND account_id = $2)`, subscriptionID, accountID).Scan(&held); err != nil {
			return err
		} else if held {
			return errSeatTaken()
		}
		var err error
		seat, err = queryOne(ctx, tx, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.subscription_full", Message: "Every seat of the subscription is taken."},
			scanSeat, `UPDATE seats SET account_id = $1, assigned_at = $2
			WHERE id = (SELECT id FROM seats WHERE subscription_id = $3 AND account_id IS NULL ORDER BY position LIMIT 1 FOR UPDATE)
			RETURNING `+seatColumns, accountID, nanos(at), subscriptionID)
		if err != nil {
			return constraintErr(err, errSeatTaken())
		}
		return emit(ctx, tx, kiosko.SeatEvent(kiosko.EventSeatAdded, seat, accountID, at))
	})
	if err != nil {
		return nil, fail("assign seat", err)
	}
	return seat, nil
}

// FreeSeat empties a seat, forgetting its sharing warning. The owner's seat
// (position 1) cannot be freed: EINVALID.
func (db *DB) FreeSeat(ctx context.Context, seatID int64) error {
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		seat, err := queryOne(ctx, tx, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = $1 FOR UPDATE`, seatID)
		if err != nil {
			return err
		}
		if seat.Position == 1 {
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.owner_seat", Message: "The owner's seat cannot be freed."}
		}
		if _, err := tx.Exec(ctx, `UPDATE seats SET account_id = NULL, assigned_at = NULL, sharing_warning = NULL WHERE id = $1`, seatID); err != nil {
			return err
		}
		if seat.AccountID == 0 {
			return nil
		}
		now := time.Now()
		var evs []kiosko.Event
		if seat.SharingWarning != nil {
			evs = append(evs, kiosko.SharingWarningEvent(seat, false, now))
		}
		return emit(ctx, tx, append(evs, kiosko.SeatEvent(kiosko.EventSeatRemoved, seat, seat.AccountID, now))...)
	})
	return fail("free seat", err)
}

// SetSeatWarning records (at != nil) or clears (nil) a sharing warning.
func (db *DB) SetSeatWarning(ctx context.Context, seatID int64, at *time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		seat, err := queryOne(ctx, tx, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = $1 FOR UPDATE`, seatID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE seats SET sharing_warning = $1 WHERE id = $2`, nullNanos(at), seatID); err != nil {
			return err
		}
		if (seat.SharingWarning != nil) == (at != nil) {
			return nil
		}
		when := time.Now()
		if at != nil {
			when = *at
		}
		return emit(ctx, tx, kiosko.SharingWarningEvent(seat, at != nil, when))
	})
}

// FindWarnedSeats lists seats under sharing warning.
func (db *DB) FindWarnedSeats(ctx context.Context) ([]*kiosko.Seat, error) {
	seats, err := queryList(ctx, db.pool, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE sharing_warning IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fail("find warned seats", err)
	}
	return seats, nil
}

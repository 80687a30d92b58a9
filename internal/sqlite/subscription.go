package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

func scanSubscription(sc scanner) (*kiosko.Subscription, error) {
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
	account, warning, assigned sql.NullInt64
}

func (r *seatRow) dest() []any {
	return []any{&r.s.ID, &r.s.SubscriptionID, &r.account, &r.s.Position, &r.warning, &r.assigned}
}

func (r *seatRow) value() *kiosko.Seat {
	r.s.AccountID = r.account.Int64
	r.s.SharingWarning, r.s.AssignedAt = fromNullNanos(r.warning), fromNullNanos(r.assigned)
	return &r.s
}

func scanSeat(sc scanner) (*kiosko.Seat, error) {
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO subscriptions (owner_id, plan_code, status, seats, price_cents, currency, provider, provider_ref, current_period_end, cancel_at_period_end, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			s.OwnerID, s.PlanCode, s.Status, s.Seats, s.PriceCents, s.Currency, s.Provider, s.ProviderRef,
			nanos(s.CurrentPeriodEnd), s.CancelAtPeriodEnd, nanos(s.CreatedAt)).Scan(&s.ID)
		if err != nil {
			return constraintErr(err, errProviderRefTaken(s))
		}
		if s.Seats > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO seats (subscription_id, account_id, position, assigned_at) VALUES (?, ?, 1, ?)`,
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
		return fmt.Errorf("create subscription: %w", err)
	}
	return nil
}

// addFreeSeats adds n free seats after position after.
func addFreeSeats(ctx context.Context, tx *sql.Tx, subscriptionID int64, after, n int) error {
	for i := 1; i <= n; i++ {
		if _, err := tx.ExecContext(ctx, `INSERT INTO seats (subscription_id, position) VALUES (?, ?)`, subscriptionID, after+i); err != nil {
			return err
		}
	}
	return nil
}

// FindSubscriptionByID returns a subscription, or ENOTFOUND.
func (db *DB) FindSubscriptionByID(ctx context.Context, id int64) (*kiosko.Subscription, error) {
	return findSubscription(ctx, db.read, id)
}

func findSubscription(ctx context.Context, q querier, id int64) (*kiosko.Subscription, error) {
	return queryOne(ctx, q, errSubscriptionNotFound(), scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = ?`, id)
}

// FindSubscriptionByProviderRef returns the subscription a payment
// provider knows as ref, or ENOTFOUND (always, for an empty ref).
func (db *DB) FindSubscriptionByProviderRef(ctx context.Context, provider, ref string) (*kiosko.Subscription, error) {
	if ref == "" {
		return nil, errSubscriptionNotFound()
	}
	return queryOne(ctx, db.read, errSubscriptionNotFound(), scanSubscription,
		`SELECT `+subscriptionColumns+` FROM subscriptions WHERE provider = ? AND provider_ref = ?`, provider, ref)
}

// FindSubscriptionsByOwner lists an account's subscriptions, newest first.
func (db *DB) FindSubscriptionsByOwner(ctx context.Context, ownerID int64) ([]*kiosko.Subscription, error) {
	subs, err := queryList(ctx, db.read, scanSubscription,
		`SELECT `+subscriptionColumns+` FROM subscriptions WHERE owner_id = ? ORDER BY created_at DESC, id DESC`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("find subscriptions: %w", err)
	}
	return subs, nil
}

// UpdateSubscription changes fields; raising Seats adds free seats,
// lowering it removes free seats first (the last positions first) and
// fails with ECONFLICT when the occupied ones would not fit. The remaining
// seats keep their ids and are renumbered 1, 2, 3… in their order.
func (db *DB) UpdateSubscription(ctx context.Context, id int64, upd kiosko.SubscriptionUpdate) (*kiosko.Subscription, error) {
	var s *kiosko.Subscription
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if s, err = findSubscription(ctx, tx, id); err != nil {
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
		_, err = tx.ExecContext(ctx, `UPDATE subscriptions SET plan_code = ?, status = ?, seats = ?, price_cents = ?, provider_ref = ?,
			current_period_end = ?, cancel_at_period_end = ? WHERE id = ?`,
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
		return nil, fmt.Errorf("update subscription: %w", err)
	}
	return s, nil
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// resizeSeats gives a subscription n seats.
func resizeSeats(ctx context.Context, tx *sql.Tx, subscriptionID int64, n int) error {
	if n < 0 {
		return errSeatsNegative()
	}
	seats, err := queryList(ctx, tx, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE subscription_id = ? ORDER BY position`, subscriptionID)
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
			if _, err := tx.ExecContext(ctx, `DELETE FROM seats WHERE id = ?`, s.ID); err != nil {
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
			if _, err := tx.ExecContext(ctx, `UPDATE seats SET position = ? WHERE id = ?`, pos, keep[i].ID); err != nil {
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
	rows, err := db.read.QueryContext(ctx, `SELECT `+seatColumns+`, `+qualified("subscriptions", subscriptionColumns)+`
		FROM seats JOIN subscriptions ON subscriptions.id = seats.subscription_id
		WHERE seats.account_id = ? AND subscriptions.status IN (?, ?, ?)
		ORDER BY subscriptions.created_at DESC, subscriptions.id DESC`,
		accountID, kiosko.StatusActive, kiosko.StatusPastDue, kiosko.StatusCanceled)
	if err != nil {
		return nil, nil, fmt.Errorf("find seat: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		seat, sub, err := scanSeatAndSubscription(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("find seat: %w", err)
		}
		// The rule of access lives in the domain; SQL only narrows.
		if sub.Grants(now) {
			return seat, sub, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("find seat: %w", err)
	}
	return nil, nil, notFound("error.no_seat", "The account holds no seat in a subscription that grants access.")
}

func scanSeatAndSubscription(sc scanner) (*kiosko.Seat, *kiosko.Subscription, error) {
	var seat seatRow
	var sub subscriptionRow
	if err := sc.Scan(append(seat.dest(), sub.dest()...)...); err != nil {
		return nil, nil, err
	}
	return seat.value(), sub.value(), nil
}

// FindSeats lists a subscription's seats by position.
func (db *DB) FindSeats(ctx context.Context, subscriptionID int64) ([]*kiosko.Seat, error) {
	seats, err := queryList(ctx, db.read, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE subscription_id = ? ORDER BY position`, subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("find seats: %w", err)
	}
	return seats, nil
}

// FindSeatByID returns a seat, or ENOTFOUND.
func (db *DB) FindSeatByID(ctx context.Context, id int64) (*kiosko.Seat, error) {
	return queryOne(ctx, db.read, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = ?`, id)
}

func errSeatTaken() *kiosko.Error {
	return &kiosko.Error{Code: kiosko.ECONFLICT, Key: "error.seat_taken", Message: "This account already holds a seat in the subscription."}
}

// AssignSeat puts an account on the first free seat. It runs in one write
// transaction on the single writer connection (and BEGIN IMMEDIATE holds
// the file lock against other processes), so of two racing assignments for
// the last seat exactly one wins.
func (db *DB) AssignSeat(ctx context.Context, subscriptionID, accountID int64, at time.Time) (*kiosko.Seat, error) {
	var seat *kiosko.Seat
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := findSubscription(ctx, tx, subscriptionID); err != nil {
			return err
		}
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM seats WHERE subscription_id = ? AND account_id = ?`, subscriptionID, accountID).Scan(&held); err != nil {
			return err
		} else if held > 0 {
			return errSeatTaken()
		}
		var err error
		seat, err = queryOne(ctx, tx, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.subscription_full", Message: "Every seat of the subscription is taken."},
			scanSeat, `UPDATE seats SET account_id = ?, assigned_at = ?
			WHERE id = (SELECT id FROM seats WHERE subscription_id = ? AND account_id IS NULL ORDER BY position LIMIT 1)
			RETURNING `+seatColumns, accountID, nanos(at), subscriptionID)
		if err != nil {
			return constraintErr(err, errSeatTaken())
		}
		return emit(ctx, tx, kiosko.SeatEvent(kiosko.EventSeatAdded, seat, accountID, at))
	})
	if err != nil {
		return nil, fmt.Errorf("assign seat: %w", err)
	}
	return seat, nil
}

// FreeSeat empties a seat, forgetting its sharing warning. The owner's seat
// (position 1) cannot be freed: EINVALID.
func (db *DB) FreeSeat(ctx context.Context, seatID int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		seat, err := queryOne(ctx, tx, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = ?`, seatID)
		if err != nil {
			return err
		}
		if seat.Position == 1 {
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.owner_seat", Message: "The owner's seat cannot be freed."}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE seats SET account_id = NULL, assigned_at = NULL, sharing_warning = NULL WHERE id = ?`, seatID); err != nil {
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
	if err != nil {
		return fmt.Errorf("free seat: %w", err)
	}
	return nil
}

// SetSeatWarning records (at != nil) or clears (nil) a sharing warning.
func (db *DB) SetSeatWarning(ctx context.Context, seatID int64, at *time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		seat, err := queryOne(ctx, tx, errSeatNotFound(), scanSeat, `SELECT `+seatColumns+` FROM seats WHERE id = ?`, seatID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE seats SET sharing_warning = ? WHERE id = ?`, nullNanos(at), seatID); err != nil {
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
	seats, err := queryList(ctx, db.read, scanSeat, `SELECT `+seatColumns+` FROM seats WHERE sharing_warning IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find warned seats: %w", err)
	}
	return seats, nil
}

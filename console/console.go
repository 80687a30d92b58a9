// Package console is the publisher console's service: what an admin sees
// of an account and the actions an admin takes on it. Every action is
// recorded in the event log with the admin as its actor. It knows no HTTP
// or SQL; internal/admin renders it.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiosko/kiosko"
)

// Console holds what the actions need.
type Console struct {
	Store   kiosko.Store
	Auth    *kiosko.Auth
	Reading *kiosko.Reading
	Clock   kiosko.Clock
	Log     *slog.Logger
	// Plans returns the catalogue in force (the plans table).
	Plans func(ctx context.Context) (kiosko.Plans, error)
	// Delete erases an account for actorID (kiosko.Accounts.Delete); nil:
	// the console says deletion is not available.
	Delete func(ctx context.Context, a *kiosko.Account, actorID int64) error
	// Counted, when set, is told each action done ("grant_plan", ...).
	Counted func(action string)
}

// Actions, as Counted and the metrics name them.
const (
	ActionGrantPlan    = "grant_plan"
	ActionRevokePlan   = "revoke_plan"
	ActionSetSeats     = "set_seats"
	ActionFreeSeat     = "free_seat"
	ActionClearWarning = "clear_warning"
	ActionSignOut      = "sign_out_everywhere"
	ActionSendReset    = "send_reset"
	ActionDelete       = "delete"
	ActionSavePlan     = "save_plan"
	ActionRevokeKey    = "revoke_api_key"
	ActionCreateKey    = "create_api_key"
	ActionAddEdition   = "add_edition"
)

func (c *Console) now() time.Time { return c.Clock.Now() }

func (c *Console) log() *slog.Logger {
	if c.Log == nil {
		return slog.Default()
	}
	return c.Log
}

func (c *Console) done(action string) {
	if c.Counted != nil {
		c.Counted(action)
	}
}

// record writes an admin action's event. The action happened, so a
// failure here is logged, not returned.
func (c *Console) record(ctx context.Context, typ string, admin *kiosko.Account, accountID int64, data any) {
	if err := c.Store.AppendEvents(ctx, []kiosko.Event{kiosko.NewEvent(typ, accountID, admin.ID, data, c.now())}); err != nil {
		c.log().Error("console: record admin action", "type", typ, "account", accountID, "admin", admin.ID, "err", err)
	}
}

func consoleErr(code, key, msg string) *kiosko.Error { return kiosko.Errorf(code, key, "%s", msg) }

// SeatView is a seat with the account holding it (nil: free).
type SeatView struct {
	Seat    *kiosko.Seat
	Account *kiosko.Account
}

// SubscriptionView is a subscription with its plan and seats.
type SubscriptionView struct {
	Sub     *kiosko.Subscription
	Plan    *kiosko.Plan // nil if the plan left the catalogue
	Seats   []*SeatView
	Running bool
}

// AccountView is everything the account page shows.
type AccountView struct {
	Account       *kiosko.Account
	Subscriptions []*SubscriptionView // the account's own, newest first
	Seat          *kiosko.Seat        // the seat it reads on, if any
	SeatOf        *kiosko.Subscription
	SeatOwner     *kiosko.Account // when the seat is in someone else's subscription
	Devices       []*kiosko.Device
	Timeline      []*kiosko.TimelineEntry
	Actors        map[int64]*kiosko.Account // admins named in the timeline
	Warned        bool
}

// Account gathers an account's page: subscriptions with their seats,
// signed-in devices and the newest timelineLimit timeline entries before
// before (zero: the newest).
func (c *Console) Account(ctx context.Context, id int64, before time.Time, timelineLimit int) (*AccountView, error) {
	a, err := c.Store.FindAccountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := c.now()
	v := &AccountView{Account: a, Actors: map[int64]*kiosko.Account{}}
	plans, err := c.Plans(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := c.Store.FindSubscriptionsByOwner(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		sv := &SubscriptionView{Sub: s, Plan: plans[s.PlanCode], Running: s.Grants(now)}
		seats, err := c.Store.FindSeats(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		for _, st := range seats {
			seat := &SeatView{Seat: st}
			if st.AccountID != 0 {
				if seat.Account, err = c.Store.FindAccountByID(ctx, st.AccountID); err != nil && !kiosko.IsNotFound(err) {
					return nil, err
				}
			}
			sv.Seats = append(sv.Seats, seat)
		}
		v.Subscriptions = append(v.Subscriptions, sv)
	}
	seat, sub, err := c.Store.FindSeatForAccount(ctx, id, now)
	switch {
	case err == nil:
		v.Seat, v.SeatOf, v.Warned = seat, sub, seat.SharingWarning != nil
		if sub.OwnerID != id {
			if v.SeatOwner, err = c.Store.FindAccountByID(ctx, sub.OwnerID); err != nil && !kiosko.IsNotFound(err) {
				return nil, err
			}
		}
	case !kiosko.IsNotFound(err):
		return nil, err
	}
	if v.Devices, err = c.Store.FindSignedInDevices(ctx, id, now); err != nil {
		return nil, err
	}
	if v.Timeline, err = c.Store.FindTimeline(ctx, id, before, timelineLimit); err != nil {
		return nil, err
	}
	for _, e := range v.Timeline {
		if e.ActorID != 0 && e.ActorID != id && v.Actors[e.ActorID] == nil {
			if actor, err := c.Store.FindAccountByID(ctx, e.ActorID); err == nil {
				v.Actors[e.ActorID] = actor
			}
		}
	}
	return v, nil
}

// running is the subscription of the account that grants access now.
func (c *Console) running(ctx context.Context, id int64) (*kiosko.Subscription, error) {
	subs, err := c.Store.FindSubscriptionsByOwner(ctx, id)
	if err != nil {
		return nil, err
	}
	now := c.now()
	for _, s := range subs {
		if s.Grants(now) {
			return s, nil
		}
	}
	return nil, nil
}

// GrantPlan gives an account a plan through the manual provider: a running
// manual subscription changes plan and seats, otherwise a new one starts
// for one period. seats is 0 for the plan's own number.
func (c *Console) GrantPlan(ctx context.Context, admin *kiosko.Account, id int64, planCode string, seats int) error {
	a, err := c.Store.FindAccountByID(ctx, id)
	if err != nil {
		return err
	}
	plans, err := c.Plans(ctx)
	if err != nil {
		return err
	}
	plan, err := plans.Find(planCode)
	if err != nil {
		return err
	}
	if !plan.Paid() {
		return c.RevokePlan(ctx, admin, id)
	}
	if seats == 0 {
		seats = plan.Seats
	}
	if seats < 1 || seats > 10000 {
		return consoleErr(kiosko.EINVALID, "admin.error.seats_range", "Seats must be between 1 and 10000.")
	}
	if !plan.SeatsPerUnit && seats != plan.Seats {
		return consoleErr(kiosko.EINVALID, "admin.error.seats_fixed", "This plan has a fixed number of seats.")
	}
	current, err := c.running(ctx, a.ID)
	if err != nil {
		return err
	}
	now := c.now()
	end := now.AddDate(1, 0, 0)
	if plan.Period == "month" {
		end = now.AddDate(0, 1, 0)
	}
	price := kiosko.PriceFor(plan, seats)
	if current != nil {
		if current.Provider != kiosko.ProviderManual {
			return consoleErr(kiosko.ECONFLICT, "admin.error.paid_online", "This subscription is paid online; change it with the payment provider.")
		}
		st := kiosko.StatusActive
		if _, err := c.Store.UpdateSubscription(ctx, current.ID, kiosko.SubscriptionUpdate{PlanCode: &plan.Code, Seats: &seats, PriceCents: &price, Status: &st, CurrentPeriodEnd: &end}); err != nil {
			return err
		}
	} else {
		sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: plan.Code, Status: kiosko.StatusActive, Seats: seats, PriceCents: price, Currency: plan.Currency,
			Provider: kiosko.ProviderManual, CurrentPeriodEnd: end, CreatedAt: now}
		if err := c.Store.CreateSubscription(ctx, sub); err != nil {
			return err
		}
	}
	c.Reading.SeatsChanged()
	c.record(ctx, kiosko.EventAdminPlanGranted, admin, a.ID, map[string]any{"plan": plan.Code, "seats": seats, "until": end})
	c.done(ActionGrantPlan)
	return nil
}

// RevokePlan ends an account's running manual subscription now.
func (c *Console) RevokePlan(ctx context.Context, admin *kiosko.Account, id int64) error {
	current, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	if current == nil {
		return consoleErr(kiosko.EINVALID, "admin.error.no_subscription", "This account has no running subscription.")
	}
	if current.Provider != kiosko.ProviderManual {
		return consoleErr(kiosko.ECONFLICT, "admin.error.paid_online", "This subscription is paid online; change it with the payment provider.")
	}
	st, end := kiosko.StatusExpired, c.now()
	if _, err := c.Store.UpdateSubscription(ctx, current.ID, kiosko.SubscriptionUpdate{Status: &st, CurrentPeriodEnd: &end}); err != nil {
		return err
	}
	c.Reading.SeatsChanged()
	c.record(ctx, kiosko.EventAdminPlanRevoked, admin, id, map[string]any{"plan": current.PlanCode, "subscription": current.ID})
	c.done(ActionRevokePlan)
	return nil
}

// SetSeats changes the number of seats of the account's running
// subscription, for plans sold by the seat.
func (c *Console) SetSeats(ctx context.Context, admin *kiosko.Account, id int64, seats int) error {
	current, err := c.running(ctx, id)
	if err != nil {
		return err
	}
	if current == nil {
		return consoleErr(kiosko.EINVALID, "admin.error.no_subscription", "This account has no running subscription.")
	}
	plans, err := c.Plans(ctx)
	if err != nil {
		return err
	}
	plan := plans[current.PlanCode]
	if plan == nil || !plan.SeatsPerUnit {
		return consoleErr(kiosko.EINVALID, "admin.error.seats_fixed", "This plan has a fixed number of seats.")
	}
	if seats < 1 || seats > 10000 {
		return consoleErr(kiosko.EINVALID, "admin.error.seats_range", "Seats must be between 1 and 10000.")
	}
	if current.Provider != kiosko.ProviderManual {
		return consoleErr(kiosko.ECONFLICT, "admin.error.paid_online", "This subscription is paid online; change it with the payment provider.")
	}
	price := kiosko.PriceFor(plan, seats)
	if _, err := c.Store.UpdateSubscription(ctx, current.ID, kiosko.SubscriptionUpdate{Seats: &seats, PriceCents: &price}); err != nil {
		if kiosko.ErrorCode(err) == kiosko.ECONFLICT {
			return consoleErr(kiosko.ECONFLICT, "admin.error.seats_occupied", "More seats are taken than that; free some first.")
		}
		return err
	}
	c.Reading.SeatsChanged()
	c.record(ctx, kiosko.EventAdminSeatsChanged, admin, id, map[string]any{"from": current.Seats, "to": seats})
	c.done(ActionSetSeats)
	return nil
}

// FreeSeat empties a member's seat of the account's subscription (never
// the owner's).
func (c *Console) FreeSeat(ctx context.Context, admin *kiosko.Account, id, seatID int64) error {
	seat, err := c.Store.FindSeatByID(ctx, seatID)
	if err != nil {
		return err
	}
	sub, err := c.Store.FindSubscriptionByID(ctx, seat.SubscriptionID)
	if err != nil {
		return err
	}
	if sub.OwnerID != id || seat.AccountID == 0 {
		return consoleErr(kiosko.ENOTFOUND, "admin.error.seat_unknown", "No such seat in this account's subscription.")
	}
	if seat.Position == 1 {
		return consoleErr(kiosko.EINVALID, "admin.error.owner_seat", "The owner's seat cannot be freed.")
	}
	if err := c.Store.FreeSeat(ctx, seat.ID); err != nil {
		return err
	}
	c.Reading.ReleaseSeat(ctx, seat.ID)
	c.Reading.SeatsChanged()
	c.record(ctx, kiosko.EventAdminSeatFreed, admin, id, map[string]any{"seat": seat.ID, "member": seat.AccountID})
	c.done(ActionFreeSeat)
	return nil
}

// ClearWarning lifts the sharing warning of the seat the account reads on.
func (c *Console) ClearWarning(ctx context.Context, admin *kiosko.Account, id int64) error {
	seat, _, err := c.Store.FindSeatForAccount(ctx, id, c.now())
	if kiosko.IsNotFound(err) || (err == nil && seat.SharingWarning == nil) {
		return consoleErr(kiosko.EINVALID, "admin.error.not_warned", "This account's seat is not under sharing warning.")
	} else if err != nil {
		return err
	}
	if err := c.Reading.ClearSeatWarning(ctx, seat.ID, id, "admin"); err != nil {
		return err
	}
	c.record(ctx, kiosko.EventAdminWarningCleared, admin, id, map[string]any{"seat": seat.ID})
	c.done(ActionClearWarning)
	return nil
}

// SignOutEverywhere ends every session of the account.
func (c *Console) SignOutEverywhere(ctx context.Context, admin *kiosko.Account, id int64) error {
	if _, err := c.Store.FindAccountByID(ctx, id); err != nil {
		return err
	}
	n, err := c.Auth.SignOutEverywhere(ctx, id, "admin")
	if err != nil {
		return err
	}
	c.record(ctx, kiosko.EventAdminSignedOut, admin, id, map[string]any{"sessions": n})
	c.done(ActionSignOut)
	return nil
}

// SendReset emails the account a password reset link.
func (c *Console) SendReset(ctx context.Context, admin *kiosko.Account, id int64) error {
	a, err := c.Store.FindAccountByID(ctx, id)
	if err != nil {
		return err
	}
	if err := c.Auth.SendPasswordReset(ctx, a); err != nil {
		return err
	}
	c.record(ctx, kiosko.EventAdminResetSent, admin, id, nil)
	c.done(ActionSendReset)
	return nil
}

// ErrDeleteUnavailable: this build has no account deletion wired yet.
var ErrDeleteUnavailable = consoleErr(kiosko.ENOTIMPLEMENTED, "admin.error.delete_unavailable", "Deleting accounts is not available yet.")

// DeleteAccount erases the account through the Delete hook. The event is
// written first, so the log keeps who asked even when the erasure removes
// the account's other traces.
func (c *Console) DeleteAccount(ctx context.Context, admin *kiosko.Account, id int64) error {
	if c.Delete == nil {
		return ErrDeleteUnavailable
	}
	a, err := c.Store.FindAccountByID(ctx, id)
	if err != nil {
		return err
	}
	if a.ID == admin.ID {
		return consoleErr(kiosko.EINVALID, "admin.error.delete_self", "You cannot delete your own account here.")
	}
	c.record(ctx, kiosko.EventAdminDeleteRequested, admin, id, nil)
	if err := c.Delete(ctx, a, admin.ID); err != nil {
		return fmt.Errorf("delete account: %w", err)
	}
	c.done(ActionDelete)
	return nil
}

// IsUserError reports whether err may be shown to the admin as is.
func IsUserError(err error) bool {
	var e *kiosko.Error
	return errors.As(err, &e) && e.Code != kiosko.EINTERNAL && e.Code != kiosko.EUNAVAILABLE
}

// SavePlan creates or changes a plan in the catalogue every node reads.
// Subscriptions keep the price and seats they were bought with until
// renewal.
func (c *Console) SavePlan(ctx context.Context, admin *kiosko.Account, p *kiosko.Plan) error {
	if err := kiosko.ValidatePlan(p); err != nil {
		return err
	}
	if p.Seats > 0 && p.ReadersPerSeat == 0 {
		p.ReadersPerSeat = 1
	}
	if old, err := c.Plans(ctx); err != nil {
		return err
	} else if o := old[p.Code]; o != nil {
		p.Meter = o.Meter // the free plan's meter is a setting, not a form field
	}
	ctx = kiosko.WithEvents(ctx, kiosko.NewEvent(kiosko.EventAdminPlanSaved, 0, admin.ID, p, c.now()))
	if err := c.Store.SavePlan(ctx, p, c.now()); err != nil {
		return err
	}
	c.done(ActionSavePlan)
	return nil
}

// RevokeAPIKey revokes a key: its callers get 401 from then on.
func (c *Console) RevokeAPIKey(ctx context.Context, admin *kiosko.Account, k *kiosko.APIKey) error {
	if err := c.Store.RevokeAPIKey(ctx, k.ID, c.now()); err != nil {
		return err
	}
	c.record(ctx, kiosko.EventAdminKeyRevoked, admin, 0, map[string]any{"key": k.ID, "name": k.Name, "prefix": k.Prefix})
	c.done(ActionRevokeKey)
	return nil
}

// AddEdition adds an edition; every node serves its front page at once.
func (c *Console) AddEdition(ctx context.Context, admin *kiosko.Account, e *kiosko.Edition) error {
	if err := kiosko.ValidateEdition(e); err != nil {
		return err
	}
	if err := c.Store.CreateEdition(ctx, e); err != nil {
		return err
	}
	c.record(ctx, kiosko.EventAdminEditionAdded, admin, 0, map[string]any{"code": e.Code, "name": e.Name, "lang": e.Lang, "tz": e.Timezone})
	c.done(ActionAddEdition)
	return nil
}

// CreateAPIKey makes a key; secret is the key itself, to show once: only
// its hash is stored.
func (c *Console) CreateAPIKey(ctx context.Context, admin *kiosko.Account, name string, scopes []string) (k *kiosko.APIKey, secret string, err error) {
	k, secret, err = kiosko.NewAPIKey(name, scopes, c.now())
	if err != nil {
		return nil, "", err
	}
	if err := c.Store.CreateAPIKey(ctx, k); err != nil {
		return nil, "", err
	}
	c.record(ctx, kiosko.EventAdminKeyCreated, admin, 0, map[string]any{"key": k.ID, "name": k.Name, "prefix": k.Prefix, "scopes": k.Scopes})
	c.done(ActionCreateKey)
	return k, secret, nil
}

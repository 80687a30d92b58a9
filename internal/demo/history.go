package demo

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/simulate"
)

// History says how much reading history SeedHistory makes.
type History struct {
	Days                      int // ending today
	Honest, Household, Sharer int // accounts per persona (internal/simulate)
}

// DefaultHistory is what a fresh `kiosko serve` gets: enough that every
// insights chart shows something, made in about a second.
var DefaultHistory = History{Days: 40, Honest: 30, Household: 8, Sharer: 12}

// SeedHistory gives the demo a past: Digital subscribers whose reading
// comes from the fairness simulator's personas (honest readers with
// several devices, households, account sharers), replayed through the real
// reading rule on a simulated clock, stored as the lease events the rule
// recorded. Some warned seats then change the password, some upgrade,
// an admin lifts one, the rest stay warned, so the outcomes view has
// something true to show. The accounts share the demo password.
func SeedHistory(ctx context.Context, store kiosko.Store, hasher kiosko.PasswordHasher, now time.Time, h History) error {
	start := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -h.Days)
	all := simulate.Generate(simulate.GenConfig{Seed: 7, Start: start, Days: h.Days, Honest: h.Honest, Household: h.Household, Sharer: h.Sharer})
	// Accounts join over the first half of the period, so sign-ups and
	// readers grow: each account's traces move to its own first day, and
	// what would happen after now is left out.
	var names []string
	seen := map[string]bool{}
	for _, iv := range all {
		if !seen[iv.Account] {
			seen[iv.Account] = true
			names = append(names, iv.Account)
		}
	}
	sort.Strings(names)
	joined := map[string]time.Time{}
	for i, n := range names {
		joined[n] = start.Add(time.Duration(i) * time.Duration(h.Days) * 24 * time.Hour / time.Duration(2*len(names))).Add(time.Duration(i%24) * time.Hour)
	}
	var ivs []simulate.Interval
	for _, iv := range all {
		off := joined[iv.Account].Sub(start)
		iv.Start, iv.End = iv.Start.Add(off), iv.End.Add(off)
		if iv.End.Before(now) {
			ivs = append(ivs, iv)
		}
	}
	var (
		mu     sync.Mutex
		events = map[string][]kiosko.LeaseEvent{}
	)
	res, err := simulate.Run(ctx, ivs, simulate.Options{Settings: kiosko.DefaultReadingSettings(), Record: func(account string, e kiosko.LeaseEvent) {
		if e.At.After(now) {
			return
		}
		mu.Lock()
		events[account] = append(events[account], e)
		mu.Unlock()
	}})
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	hash, err := hasher.Hash(Password)
	if err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	var stored []kiosko.LeaseEvent
	warned := 0
	for i, name := range names {
		r := res.Accounts[name]
		if r == nil { // no interval before now
			continue
		}
		created := joined[name].Add(-time.Hour)
		a := &kiosko.Account{Email: fmt.Sprintf("lector%03d@lectores.kiosko.test", i+1), Name: fmt.Sprintf("Lector %03d", i+1), PasswordHash: hash,
			Role: kiosko.RoleReader, Lang: kiosko.LangSpanish, EmailVerifiedAt: &created, PasswordChangedAt: created, CreatedAt: created}
		if err := store.CreateAccount(ctx, a); err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
		sub := &kiosko.Subscription{OwnerID: a.ID, PlanCode: kiosko.PlanDigital, Status: kiosko.StatusActive, Seats: 1, PriceCents: 999, Currency: "EUR",
			Provider: kiosko.ProviderManual, ProviderRef: "demo-" + a.Email, CurrentPeriodEnd: now.AddDate(0, 1, 0), CreatedAt: created.Add(30 * time.Minute)}
		if err := store.CreateSubscription(ctx, sub); err != nil {
			return fmt.Errorf("demo history: %w", err)
		}
		seats, err := store.FindSeats(ctx, sub.ID)
		if err != nil || len(seats) == 0 {
			return fmt.Errorf("demo history: seats of %s: %v", a.Email, err)
		}
		seat := seats[0]
		evs := events[name]
		sort.Slice(evs, func(x, y int) bool { return evs[x].At.Before(evs[y].At) })
		for _, e := range evs {
			e.SeatID, e.AccountID = seat.ID, a.ID
			stored = append(stored, e)
		}
		if !r.Warned || r.WarnedAt.After(now) {
			continue
		}
		// What the warned did next, in turn: two change the password, one
		// upgrades, one is lifted by an admin, one does nothing.
		after := r.WarnedAt.Add(time.Duration(6+warned*7) * time.Hour)
		clear := func(reason string) {
			if after.Before(now) {
				stored = append(stored, kiosko.LeaseEvent{Kind: kiosko.EventWarningCleared, SeatID: seat.ID, AccountID: a.ID, Reason: reason, At: after})
			}
		}
		switch warned % 5 {
		case 0, 1:
			clear("password")
		case 2:
			clear("upgrade")
		case 3:
			clear("admin")
		default:
			w := r.WarnedAt
			if err := store.SetSeatWarning(ctx, seat.ID, &w); err != nil {
				return fmt.Errorf("demo history: %w", err)
			}
		}
		warned++
	}
	if err := store.AppendLeaseEvents(ctx, stored); err != nil {
		return fmt.Errorf("demo history: %w", err)
	}
	return seedViews(ctx, store, start, now, stored)
}

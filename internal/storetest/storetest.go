// Package storetest is the one conformance suite every kiosko.Store must
// pass (SQLite, PostgreSQL). It tests behaviour through the interface only.
package storetest

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// Run runs the suite. open must return a fresh, empty store each call,
// isolated from every other (the subtests run in parallel), and close it
// with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) kiosko.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Account", accountTests},
		{"Session", sessionTests},
		{"Device", deviceTests},
		{"PasswordReset", resetTests},
		{"FailedSignIn", failedSignInTests},
		{"Article", articleTests},
		{"Subscription", subscriptionTests},
		{"Seat", seatTests},
		{"Event", eventTests},
		{"EventLog", eventLogTests},
		{"Meter", meterTests},
		{"Store", storeTests},
		{"InviteAndBilling", inviteTests},
		{"Newsletter", newsletterTests},
		{"Newsroom", newsroomTests},
		{"APIKey", apiKeyTests},
		{"Image", imageTests},
		{"EditionData", editionDataTests},
		{"Webhook", append(webhookTests, webhookDeletionTests...)},
		{"SecretsAtRest", secretTests},
		{"Console", consoleTests},
		{"Insights", insightsTests},
		{"AccountData", accountDataTests},
		{"Members", memberTests},
		{"ReaderLang", readerTests},
		{"Perf", perfTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.run(t, open(t))
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, s kiosko.Store)
}

var storeTests = []test{
	{"Ping", func(t *testing.T, s kiosko.Store) {
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	}},
}

// t0 is the suite's "now". Times are whole milliseconds so every database
// can store them exactly.
var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

var emailSeq atomic.Int64

// newAccount stores a reader account with a unique email.
func newAccount(t *testing.T, s kiosko.Store) *kiosko.Account {
	t.Helper()
	a := &kiosko.Account{
		Email:             fmt.Sprintf("reader%d@example.com", emailSeq.Add(1)),
		Name:              "Ana Reader",
		PasswordHash:      "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		Role:              kiosko.RoleReader,
		Lang:              kiosko.LangSpanish,
		PasswordChangedAt: t0,
		CreatedAt:         t0,
	}
	if err := s.CreateAccount(t.Context(), a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

// newSubscription stores an active subscription of owner with seats seats.
func newSubscription(t *testing.T, s kiosko.Store, owner *kiosko.Account, seats int, mod ...func(*kiosko.Subscription)) *kiosko.Subscription {
	t.Helper()
	sub := &kiosko.Subscription{
		OwnerID: owner.ID, PlanCode: kiosko.PlanPremium, Status: kiosko.StatusActive, Seats: seats,
		PriceCents: 1499, Currency: "EUR", Provider: kiosko.ProviderManual,
		CurrentPeriodEnd: at(30 * 24 * time.Hour), CreatedAt: t0,
	}
	for _, m := range mod {
		m(sub)
	}
	if err := s.CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	return sub
}

// wantCode fails unless err carries the kiosko error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := kiosko.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// wantError fails unless err carries the code and catalog key.
func wantError(t *testing.T, err error, code, key string) {
	t.Helper()
	wantCode(t, err, code)
	if got := kiosko.ErrorKey(err); got != key {
		t.Fatalf("error key = %q (%v), want %q", got, err, key)
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func sameTimePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		sameTime(t, what, *got, *want)
	}
}

// ids lists the IDs of xs, in order.
func ids[T any](xs []T, id func(T) int64) []int64 {
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func sameIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// race runs fn n times at once and returns the errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	done := make(chan int)
	for i := range n {
		go func() {
			<-start
			errs[i] = fn(i)
			done <- i
		}()
	}
	close(start)
	for range n {
		<-done
	}
	return errs
}

// oneWinner fails unless exactly one of errs is nil and the others carry
// code and key ("" key: any).
func oneWinner(t *testing.T, errs []error, code, key string) {
	t.Helper()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case key == "":
			wantCode(t, err, code)
		default:
			wantError(t, err, code, key)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d racing calls won, want 1", wins, len(errs))
	}
}

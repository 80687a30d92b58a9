package kiosko

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Event types the publisher console writes and reads. Admin actions carry
// the admin as ActorID and the account acted upon as AccountID.
const (
	EventSignedIn             = "account.signed_in" // data: device, place
	EventEmailSent            = "email.sent"        // data: subject
	EventAdminPlanGranted     = "admin.plan_granted"
	EventAdminPlanRevoked     = "admin.plan_revoked"
	EventAdminSeatsChanged    = "admin.seats_changed"
	EventAdminSeatFreed       = "admin.seat_freed"
	EventAdminWarningCleared  = "admin.warning_cleared"
	EventAdminSignedOut       = "admin.signed_out_everywhere"
	EventAdminResetSent       = "admin.reset_sent"
	EventAdminPlanSaved       = "admin.plan_saved"
	EventAdminDeleteRequested = "admin.delete_requested"
	EventAdminKeyRevoked      = "admin.api_key_revoked"
	EventAdminKeyCreated      = "admin.api_key_created" // data: key id, name, prefix, scopes (never the key)
	EventAdminEditionAdded    = "admin.edition_added"   // data: the edition
)

// AccountQuery narrows SearchAccounts. Accounts come newest first and are
// paged by keyset (BeforeID), so every page costs the same however deep.
type AccountQuery struct {
	// Text matches the start of the email or of the name, case folded;
	// "#123" finds account 123. Empty: every account.
	Text     string
	BeforeID int64 // only accounts with a smaller id (0: from the newest)
	Limit    int
}

// TimelineEntry is one line of an account's timeline: an event of the
// event log (Source "event") or a step of the reading rule ("lease").
type TimelineEntry struct {
	Source      string
	Type        string // event type or lease event kind
	ActorID     int64
	Data        json.RawMessage
	Device      string
	OtherDevice string
	Reason      string
	At          time.Time
}

// ConsoleStore is what the publisher console reads and writes beyond the
// other stores.
type ConsoleStore interface {
	// SearchAccounts lists accounts matching q, newest first.
	SearchAccounts(ctx context.Context, q AccountQuery) ([]*Account, error)
	// FindTimeline lists an account's events and lease events before
	// before (zero: now and on), newest first.
	FindTimeline(ctx context.Context, accountID int64, before time.Time, limit int) ([]*TimelineEntry, error)
	// FindIssues lists newsletter issues, newest first, at most limit.
	FindIssues(ctx context.Context, limit int) ([]*Issue, error)
	PlanStore
}

// PlanStore keeps the catalogue of plans in the database, so every node
// reads the same one.
type PlanStore interface {
	// FindPlans returns every stored plan (empty when none is stored).
	FindPlans(ctx context.Context) (Plans, error)
	// SavePlan creates or replaces a plan. The events pending in ctx
	// commit with it.
	SavePlan(ctx context.Context, p *Plan, at time.Time) error
	// ImportPlans stores ps once: it reports false and changes nothing
	// when plans were imported before.
	ImportPlans(ctx context.Context, ps Plans, at time.Time) (bool, error)
}

// PlanSource is the catalogue of plans in force. A fixed Plans map is one
// (tests, the simulator); PlanCatalog reads the database, so every node
// sells the same plans.
type PlanSource interface {
	// Find returns the plan with code, or ENOTFOUND.
	Find(code string) (*Plan, error)
	// Sorted returns the plans from the cheapest.
	Sorted() []*Plan
}

// RegisteredMeter is how many free articles a month a signed-in reader
// without a seat may open: the free plan's meter when the catalogue has
// one, else the configured setting, else the default.
func RegisteredMeter(plans PlanSource, settings MeterSettings) int {
	if plans != nil {
		if p, err := plans.Find(PlanFree); err == nil && p.Meter > 0 {
			return p.Meter
		}
	}
	if settings.Registered > 0 {
		return settings.Registered
	}
	return DefaultMeterSettings().Registered
}

// PlanCatalog is the plans table. With a change feed (Changes) it is kept
// in memory and read again when the feed says the plans changed: a plan
// saved in the console on one node reaches every node with the change
// (within a second), and while the feed is not live the copy is read
// again every PlanCacheShortTTL. Without a feed every use reads the table.
type PlanCatalog struct {
	Store PlanStore
	// Adjust, when set, changes each read's copy (the registered meter is
	// a setting of its own).
	Adjust  func(Plans)
	Log     *slog.Logger
	Changes ChangeFeed // nil: read on every use

	mu     sync.Mutex
	cached Plans
	at     time.Time
	gen    uint64 // bumped by every change; a read that raced one is not kept
}

// PlanCacheShortTTL is how long the plans are kept while the change feed
// is not live; with a live feed, DefaultCacheMaxAge.
const PlanCacheShortTTL = time.Second

// Current reads the catalogue from the database (and keeps it).
func (c *PlanCatalog) Current(ctx context.Context) (Plans, error) {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	ps, err := c.Store.FindPlans(ctx)
	if err != nil {
		return nil, err
	}
	if c.Adjust != nil {
		c.Adjust(ps)
	}
	if c.Changes != nil {
		c.mu.Lock()
		if c.gen == gen {
			c.cached, c.at = clonePlans(ps), time.Now()
		}
		c.mu.Unlock()
	}
	return ps, nil
}

// Forget drops the kept plans when the change is about them. Register it
// on the change feed.
func (c *PlanCatalog) Forget(ch Change) {
	if !ch.Plans && !ch.Everything() {
		return
	}
	c.mu.Lock()
	c.gen++
	c.cached = nil
	c.mu.Unlock()
}

// PlanSource's methods take no context; a read gets this long.
const planReadTimeout = 3 * time.Second

// read returns the kept plans, reading them when they are not kept or too
// old. What it returns is shared: callers copy what they hand out.
func (c *PlanCatalog) read() (Plans, error) {
	if c.Changes != nil {
		CatchUp(c.Changes)
		ttl := PlanCacheShortTTL
		if c.Changes.Live() {
			ttl = DefaultCacheMaxAge
		}
		c.mu.Lock()
		ps, at := c.cached, c.at
		c.mu.Unlock()
		if age := time.Since(at); ps != nil && age < ttl && age >= 0 {
			return ps, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), planReadTimeout)
	defer cancel()
	ps, err := c.Current(ctx)
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// clonePlans copies ps deeply enough that a caller may change what it gets.
func clonePlans(ps Plans) Plans {
	out := make(Plans, len(ps))
	for code, p := range ps {
		out[code] = clonePlan(p)
	}
	return out
}

func clonePlan(p *Plan) *Plan {
	cp := *p
	cp.Names = maps.Clone(p.Names)
	return &cp
}

// Find returns the plan with code, or ENOTFOUND; a database failure is
// returned as it is.
func (c *PlanCatalog) Find(code string) (*Plan, error) {
	ps, err := c.read()
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	p, err := ps.Find(code)
	if err != nil {
		return nil, err
	}
	return clonePlan(p), nil
}

// Sorted returns the plans from the cheapest; none when the database
// fails (logged).
func (c *PlanCatalog) Sorted() []*Plan {
	ps, err := c.read()
	if err != nil {
		if c.Log != nil {
			c.Log.Error("read plans", "err", err)
		}
		return nil
	}
	out := ps.Sorted()
	for i, p := range out {
		out[i] = clonePlan(p)
	}
	return out
}

// ValidatePlan checks a plan as the console saves it.
func ValidatePlan(p *Plan) error {
	bad := func(field, key, msg string) error { return FieldError(field, key, msg) }
	switch {
	case !planCode.MatchString(p.Code):
		return bad("code", "admin.error.plan_code", "The code is 1 to 32 lower-case letters, digits or dashes.")
	case p.PriceCents < 0 || p.PriceCents > 100_000_00:
		return bad("price", "admin.error.plan_price", "The price must be between 0 and 100000.")
	case !currencyCode.MatchString(p.Currency):
		return bad("currency", "admin.error.plan_currency", "The currency is a 3-letter code such as EUR.")
	case p.Period != "month" && p.Period != "year":
		return bad("period", "admin.error.plan_period", "The period is month or year.")
	case p.Seats < 0 || p.Seats > 10000:
		return bad("seats", "admin.error.plan_seats", "Seats must be between 0 and 10000.")
	case p.ReadersPerSeat < 0 || p.ReadersPerSeat > 10 || (p.Seats > 0 && p.ReadersPerSeat == 0):
		return bad("readers_per_seat", "admin.error.plan_readers", "Readers per seat must be between 1 and 10.")
	case p.Code == PlanFree && p.Seats != 0:
		return bad("seats", "admin.error.plan_free_seats", "The free plan has no seats.")
	}
	for _, l := range Languages {
		if n := strings.TrimSpace(p.Names[l]); n == "" || len(n) > 80 {
			return bad("name_"+l, "admin.error.plan_name", "Each plan needs a name in every language, up to 80 characters.")
		}
	}
	return nil
}

var (
	planCode     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)
)

package kiosko

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Change says that what kiosko keeps in memory about an account (its
// sessions, its account row, its devices' names, its seat) may be stale,
// or, when one of the content fields is set, what it keeps about published
// content (pages, editions, plans). The zero Change means everything.
type Change struct {
	Account int64 // 0 with no content field: every account (and all content)
	// Article is the id of an article that was created or saved: its page
	// and its edition's front page may be stale.
	Article string
	// Editions: an edition was added or changed.
	Editions bool
	// Plans: the plans table changed.
	Plans bool
}

// AboutAccounts reports whether c may make what is kept about accounts
// stale: an account change, or everything.
func (c Change) AboutAccounts() bool { return c.Article == "" && !c.Editions && !c.Plans }

// Everything reports whether c makes every cached thing stale.
func (c Change) Everything() bool { return c == Change{} }

// String is how a change travels between processes (a Redis message, a
// line of the change file): the account's id, or "article:ID",
// "editions", "plans". ParseChange reads it back.
func (c Change) String() string {
	switch {
	case c.Article != "":
		return "article:" + c.Article
	case c.Editions:
		return "editions"
	case c.Plans:
		return "plans"
	}
	return strconv.FormatInt(c.Account, 10)
}

// ParseChange reads a change written by String. What it cannot read is
// the zero Change: forgetting everything is safer than missing a change.
func ParseChange(s string) Change {
	switch s = strings.TrimSpace(s); {
	case s == "editions":
		return Change{Editions: true}
	case s == "plans":
		return Change{Plans: true}
	case strings.HasPrefix(s, "article:") && len(s) > len("article:"):
		return Change{Article: s[len("article:"):]}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return Change{}
	}
	return Change{Account: id}
}

// ChangeFeed carries changes between the kiosko processes that share a
// database, so each can keep sessions and seats in memory for long
// (cache.go) and still see a sign-out, a revoked plan or a sharing warning
// made anywhere within a moment. Implementations: in process with the data
// directory's change file (internal/inmem), Redis pub/sub (internal/redis).
type ChangeFeed interface {
	// PublishChange tells every process, this one included.
	PublishChange(ctx context.Context, c Change) error
	// Live reports whether every change published by any process reaches
	// this one now. While it is not, caches fall back to their short TTLs.
	Live() bool
}

// NotifyingStore is a Store that publishes a Change after every write that
// changes what caches keep: an account row, its seats and subscriptions,
// its sessions ended in bulk. (Auth publishes the ending of single
// sessions itself: DeleteSession does not say whose session it was.) Every
// kiosko process, the command line included, opens its store through it.
//
// A new store method that changes an account, a seat or a subscription
// must be added here, or other nodes trust the old row for up to
// DefaultCacheMaxAge.
type NotifyingStore struct {
	Store
	Changes ChangeFeed // nil: publishes nothing
	Log     *slog.Logger
}

func (s *NotifyingStore) changed(ctx context.Context, accounts ...int64) {
	if s.Changes == nil {
		return
	}
	ctx = context.WithoutCancel(ctx) // the write is done; its word must go out
	for _, id := range accounts {
		if id == 0 {
			continue
		}
		if err := s.Changes.PublishChange(ctx, Change{Account: id}); err != nil {
			s.log().Error("publish change; other nodes keep their cached copy for a while", "account", id, "err", err)
		}
	}
}

func (s *NotifyingStore) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// CatchUp has a feed that reads a file (the command line's change file)
// deliver what it holds now, so what a command wrote is seen at once: a
// cache calls it before it trusts what it keeps. Other feeds push as
// changes happen and need nothing.
func CatchUp(f ChangeFeed) {
	if p, ok := f.(interface{ Poll() }); ok {
		p.Poll()
	}
}

// contentChanged publishes a change of published content.
func (s *NotifyingStore) contentChanged(ctx context.Context, c Change) {
	if s.Changes == nil {
		return
	}
	if err := s.Changes.PublishChange(context.WithoutCancel(ctx), c); err != nil {
		s.log().Error("publish content change; other nodes keep their cached pages for a while", "change", c.String(), "err", err)
	}
}

func (s *NotifyingStore) CreateEdition(ctx context.Context, e *Edition) error {
	err := s.Store.CreateEdition(ctx, e)
	s.contentChanged(ctx, Change{Editions: true})
	return err
}

func (s *NotifyingStore) CreateArticle(ctx context.Context, a *Article) error {
	err := s.Store.CreateArticle(ctx, a)
	s.contentChanged(ctx, Change{Article: a.ID})
	return err
}

func (s *NotifyingStore) SaveArticle(ctx context.Context, a *Article, by string) error {
	err := s.Store.SaveArticle(ctx, a, by)
	s.contentChanged(ctx, Change{Article: a.ID})
	return err
}

func (s *NotifyingStore) SavePlan(ctx context.Context, p *Plan, at time.Time) error {
	err := s.Store.SavePlan(ctx, p, at)
	s.contentChanged(ctx, Change{Plans: true})
	return err
}

func (s *NotifyingStore) ImportPlans(ctx context.Context, ps Plans, at time.Time) (bool, error) {
	done, err := s.Store.ImportPlans(ctx, ps, at)
	s.contentChanged(ctx, Change{Plans: true})
	return done, err
}

// seatHolders lists the accounts on a subscription's seats.
func (s *NotifyingStore) seatHolders(ctx context.Context, subscriptionID int64) []int64 {
	seats, err := s.Store.FindSeats(context.WithoutCancel(ctx), subscriptionID)
	if err != nil {
		return nil
	}
	ids := make([]int64, 0, len(seats))
	for _, st := range seats {
		ids = append(ids, st.AccountID)
	}
	return ids
}

func (s *NotifyingStore) seatHolder(ctx context.Context, seatID int64) int64 {
	seat, err := s.Store.FindSeatByID(context.WithoutCancel(ctx), seatID)
	if err != nil {
		return 0
	}
	return seat.AccountID
}

func (s *NotifyingStore) UpdateAccountPassword(ctx context.Context, id int64, hash string, changedAt time.Time) error {
	err := s.Store.UpdateAccountPassword(ctx, id, hash, changedAt)
	s.changed(ctx, id)
	return err
}

func (s *NotifyingStore) MarkEmailVerified(ctx context.Context, id int64, at time.Time) error {
	err := s.Store.MarkEmailVerified(ctx, id, at)
	s.changed(ctx, id)
	return err
}

func (s *NotifyingStore) UpdateAccountRole(ctx context.Context, id int64, role string) error {
	err := s.Store.UpdateAccountRole(ctx, id, role)
	s.changed(ctx, id)
	return err
}

func (s *NotifyingStore) DeleteSessionsByAccount(ctx context.Context, accountID, exceptID int64) ([]*Session, error) {
	ended, err := s.Store.DeleteSessionsByAccount(ctx, accountID, exceptID)
	s.changed(ctx, accountID)
	return ended, err
}

func (s *NotifyingStore) DeleteSessionsByDevice(ctx context.Context, accountID int64, deviceID string) ([]*Session, error) {
	ended, err := s.Store.DeleteSessionsByDevice(ctx, accountID, deviceID)
	s.changed(ctx, accountID)
	return ended, err
}

func (s *NotifyingStore) CreateSubscription(ctx context.Context, sub *Subscription) error {
	err := s.Store.CreateSubscription(ctx, sub)
	s.changed(ctx, sub.OwnerID)
	if err == nil {
		s.changed(ctx, s.seatHolders(ctx, sub.ID)...)
	}
	return err
}

func (s *NotifyingStore) UpdateSubscription(ctx context.Context, id int64, upd SubscriptionUpdate) (*Subscription, error) {
	sub, err := s.Store.UpdateSubscription(ctx, id, upd)
	s.changed(ctx, s.seatHolders(ctx, id)...)
	return sub, err
}

func (s *NotifyingStore) AssignSeat(ctx context.Context, subscriptionID, accountID int64, at time.Time) (*Seat, error) {
	seat, err := s.Store.AssignSeat(ctx, subscriptionID, accountID, at)
	s.changed(ctx, accountID)
	return seat, err
}

func (s *NotifyingStore) FreeSeat(ctx context.Context, seatID int64) error {
	holder := s.seatHolder(ctx, seatID)
	err := s.Store.FreeSeat(ctx, seatID)
	s.changed(ctx, holder)
	return err
}

func (s *NotifyingStore) SetSeatWarning(ctx context.Context, seatID int64, at *time.Time) error {
	err := s.Store.SetSeatWarning(ctx, seatID, at)
	s.changed(ctx, s.seatHolder(ctx, seatID))
	return err
}

// Close closes the store, then the feed if it has a Close.
func (s *NotifyingStore) Close() error {
	err := s.Store.Close()
	if c, ok := s.Changes.(interface{ Close() error }); ok {
		if e := c.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// TouchSessions passes the batch on to the store, one touch at a time when
// it cannot take a batch.
func (s *NotifyingStore) TouchSessions(ctx context.Context, touches []SessionTouch) error {
	if t, ok := s.Store.(SessionToucher); ok {
		return t.TouchSessions(ctx, touches)
	}
	for _, t := range touches {
		if err := s.Store.TouchSession(ctx, t.ID, t.LastSeen, t.IdleExpiry); err != nil && !IsNotFound(err) {
			return err
		}
	}
	return nil
}

func (s *NotifyingStore) UpdateAccountLang(ctx context.Context, id int64, lang string) error {
	err := s.Store.UpdateAccountLang(ctx, id, lang)
	s.changed(ctx, id)
	return err
}

func (s *NotifyingStore) ChangeAccountEmail(ctx context.Context, id int64, email string, verifiedAt time.Time) error {
	err := s.Store.ChangeAccountEmail(ctx, id, email, verifiedAt)
	s.changed(ctx, id)
	return err
}

// DeleteAccountData ends the account's sessions with its rows.
func (s *NotifyingStore) DeleteAccountData(ctx context.Context, a *Account, failedKeys []string) error {
	err := s.Store.DeleteAccountData(ctx, a, failedKeys)
	s.changed(ctx, a.ID)
	return err
}

// ImportMembers may give seats to many accounts at once: every node
// forgets everything (an import is rare, and a heartbeat after it reads
// its seat again once).
func (s *NotifyingStore) ImportMembers(ctx context.Context, ms []*MemberImport, now time.Time) (*MemberImportResult, error) {
	res, err := s.Store.ImportMembers(ctx, ms, now)
	if s.Changes != nil {
		if perr := s.Changes.PublishChange(context.WithoutCancel(ctx), Change{}); perr != nil {
			s.log().Error("publish change after a members import; other nodes keep their cached copies for a while", "err", perr)
		}
	}
	return res, err
}

// StoreAs finds an optional capability (webhooks, entitlement keys) of the
// database behind a NotifyingStore, which the wrapper itself does not carry.
func StoreAs[T any](s Store) (T, bool) {
	if ns, ok := s.(*NotifyingStore); ok {
		s = ns.Store
	}
	t, ok := s.(T)
	return t, ok
}

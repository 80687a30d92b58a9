package kiosko

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Invitation kinds.
const (
	InviteByOwner  = "invite" // the owner invited an address
	InviteByDomain = "domain" // a reader confirms an address at a company's domain
)

// Invitation is a single-use, expiring link to take a seat of a
// subscription. Only the token's hash is stored.
type Invitation struct {
	ID             int64
	TokenHash      []byte
	SubscriptionID int64
	Kind           string
	Email          string // normalised
	InvitedBy      int64  // 0 for domain joins
	CreatedAt      time.Time
	ExpiresAt      time.Time
	AcceptedAt     *time.Time
	AcceptedBy     int64
}

// Pending reports whether the invitation can still be used at now.
func (i *Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && now.Before(i.ExpiresAt)
}

// InviteStore keeps invitations and company email domains.
type InviteStore interface {
	// CreateInvitation stores inv and sets its ID.
	CreateInvitation(ctx context.Context, inv *Invitation) error
	// FindInvitationByTokenHash returns ENOTFOUND for an unknown token.
	FindInvitationByTokenHash(ctx context.Context, hash []byte) (*Invitation, error)
	// FindPendingInvitations lists a subscription's owner invitations that
	// are neither used nor expired at now, oldest first.
	FindPendingInvitations(ctx context.Context, subscriptionID int64, now time.Time) ([]*Invitation, error)
	// ClaimInvitation marks an invitation used by accountID, once:
	// ENOTFOUND unknown, EINVALID "error.invitation_used" or
	// "error.invitation_expired".
	ClaimInvitation(ctx context.Context, hash []byte, accountID int64, now time.Time) (*Invitation, error)
	// UnclaimInvitation makes a claimed invitation usable again (the seat
	// could not be taken).
	UnclaimInvitation(ctx context.Context, id int64) error
	// DeleteInvitation removes an invitation; ENOTFOUND if none.
	DeleteInvitation(ctx context.Context, id int64) error

	// SetSubscriptionDomains replaces a subscription's company domains:
	// ECONFLICT ("error.domain_taken") when another subscription has one.
	SetSubscriptionDomains(ctx context.Context, subscriptionID int64, domains []string) error
	// FindSubscriptionDomains lists a subscription's domains, sorted.
	FindSubscriptionDomains(ctx context.Context, subscriptionID int64) ([]string, error)
	// FindSubscriptionByDomain returns the subscription of a domain, or ENOTFOUND.
	FindSubscriptionByDomain(ctx context.Context, domain string) (*Subscription, error)
}

const defaultInviteTTL = 7 * 24 * time.Hour

func (b *Billing) inviteTTL() time.Duration {
	if b.InviteTTL > 0 {
		return b.InviteTTL
	}
	return defaultInviteTTL
}

var (
	errNoSubscription = &Error{Code: ENOTFOUND, Key: "error.no_subscription", Message: "You have no running subscription."}
	errOneSeat        = &Error{Code: EINVALID, Key: "error.plan_one_seat", Message: "Your plan has one seat; upgrade to Premium to invite someone."}
	errFull           = &Error{Code: EINVALID, Key: "error.subscription_full", Message: "Every seat of the subscription is taken."}
	errAlreadyMember  = &Error{Code: ECONFLICT, Key: "error.already_member", Message: "This address already holds a seat.", Field: "email"}
	errAlreadyInvited = &Error{Code: ECONFLICT, Key: "error.already_invited", Message: "This address already has an invitation waiting.", Field: "email"}
	errSeatNotYours   = &Error{Code: ENOTFOUND, Key: "error.billing_seat_unknown", Message: "No such seat in your subscription."}
)

// OwnedSubscription is the running subscription an account owns (the
// newest). ENOTFOUND ("error.no_subscription") when it owns none.
func (b *Billing) OwnedSubscription(ctx context.Context, ownerID int64) (*Subscription, error) {
	subs, err := b.Store.FindSubscriptionsByOwner(ctx, ownerID)
	if err != nil {
		return nil, fmt.Errorf("owned subscription: %w", err)
	}
	now := b.now()
	for _, s := range subs {
		if s.Grants(now) {
			return s, nil
		}
	}
	return nil, errNoSubscription
}

// SeatHolder is a seat with the account holding it (nil when free).
type SeatHolder struct {
	Seat    *Seat
	Account *Account
}

// SeatsOverview is what an owner sees of their subscription.
type SeatsOverview struct {
	Subscription *Subscription
	Plan         *Plan // nil when the plan left the plans file
	Seats        []SeatHolder
	Used, Free   int
	Pending      []*Invitation
	Domains      []string
	// Available is the seats still open to a new invitation.
	Available int
}

// Company reports whether the plan is sold by the seat (Business).
func (o *SeatsOverview) Company() bool { return o.Plan != nil && o.Plan.SeatsPerUnit }

// Overview describes an owner's subscription and its seats.
func (b *Billing) Overview(ctx context.Context, ownerID int64) (*SeatsOverview, error) {
	sub, err := b.OwnedSubscription(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	o := &SeatsOverview{Subscription: sub}
	o.Plan, _ = b.Plans.Find(sub.PlanCode)
	seats, err := b.Store.FindSeats(ctx, sub.ID)
	if err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	for _, s := range seats {
		h := SeatHolder{Seat: s}
		if s.AccountID != 0 {
			o.Used++
			if h.Account, err = b.Store.FindAccountByID(ctx, s.AccountID); err != nil {
				return nil, fmt.Errorf("overview: %w", err)
			}
		} else {
			o.Free++
		}
		o.Seats = append(o.Seats, h)
	}
	if o.Pending, err = b.Store.FindPendingInvitations(ctx, sub.ID, b.now()); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	if o.Domains, err = b.Store.FindSubscriptionDomains(ctx, sub.ID); err != nil {
		return nil, fmt.Errorf("overview: %w", err)
	}
	o.Available = max(0, o.Free-len(o.Pending))
	return o, nil
}

// Invite emails a single-use link to take a seat of the owner's
// subscription, in the owner's language. Bad input changes nothing.
func (b *Billing) Invite(ctx context.Context, owner *Account, email string) (*Invitation, error) {
	o, err := b.Overview(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	return b.invite(ctx, owner, o, email)
}

func (b *Billing) invite(ctx context.Context, owner *Account, o *SeatsOverview, email string) (*Invitation, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if o.Subscription.Seats < 2 {
		return nil, errOneSeat
	}
	for _, h := range o.Seats {
		if h.Account != nil && h.Account.Email == norm {
			return nil, errAlreadyMember
		}
	}
	for _, p := range o.Pending {
		if p.Email == norm {
			return nil, errAlreadyInvited
		}
	}
	if o.Available < 1 {
		return nil, errFull
	}
	token := NewToken()
	now := b.now()
	inv := &Invitation{TokenHash: HashToken(token), SubscriptionID: o.Subscription.ID, Kind: InviteByOwner, Email: norm,
		InvitedBy: owner.ID, CreatedAt: now, ExpiresAt: now.Add(b.inviteTTL())}
	if err := b.Store.CreateInvitation(ctx, inv); err != nil {
		return nil, fmt.Errorf("invite: %w", err)
	}
	if b.Mail != nil {
		if err := b.Mail.Invitation(ctx, norm, owner.Lang, owner, o.Plan, token); err != nil {
			_ = b.Store.DeleteInvitation(ctx, inv.ID)
			b.log().Error("invitation email", "err", err)
			return nil, &Error{Code: EUNAVAILABLE, Key: "error.invite_mail_failed", Message: "The invitation email could not be sent; try again later."}
		}
	}
	o.Pending = append(o.Pending, inv)
	o.Available--
	return inv, nil
}

// CSVRefusal is a row of an uploaded file that was not invited.
type CSVRefusal struct {
	Line  int
	Email string
	Err   error
}

// CSVReport says what an upload did.
type CSVReport struct {
	Invited []string
	Refused []CSVRefusal
}

// Limits of an uploaded file of invitations.
const (
	MaxInviteCSVBytes = 1 << 20
	MaxInviteCSVRows  = 5000
)

var errCSVUnusable = func(key, msg string) error { return &Error{Code: EINVALID, Key: key, Message: msg, Field: "file"} }

// InviteCSV invites every address of a CSV file's email column. A file
// that cannot be used (unreadable, no email column, no rows, too big)
// changes nothing; otherwise each row is invited or reported refused.
func (b *Billing) InviteCSV(ctx context.Context, owner *Account, r io.Reader) (*CSVReport, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInviteCSVBytes+1))
	if err != nil {
		return nil, fmt.Errorf("invite csv: %w", err)
	}
	if len(data) > MaxInviteCSVBytes {
		return nil, errCSVUnusable("error.csv_too_big", "The file is too big (at most 1 MB).")
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, errCSVUnusable("error.csv_unreadable", "The file is not a CSV file in UTF-8.")
	}
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	rd.TrimLeadingSpace = true
	if first, _, _ := strings.Cut(string(data), "\n"); strings.Contains(first, ";") && !strings.Contains(first, ",") {
		rd.Comma = ';' // spreadsheets in Spanish locales write semicolons
	}
	rows, err := rd.ReadAll()
	if err != nil {
		return nil, errCSVUnusable("error.csv_unreadable", "The file is not a CSV file in UTF-8.")
	}
	col := -1
	if len(rows) > 0 {
		for i, h := range rows[0] {
			if strings.EqualFold(strings.TrimSpace(h), "email") {
				col = i
				break
			}
		}
	}
	if col < 0 {
		return nil, errCSVUnusable("error.csv_no_email_column", "The file has no column named email in its first line.")
	}
	if len(rows) < 2 {
		return nil, errCSVUnusable("error.csv_empty", "The file has no addresses.")
	}
	if len(rows)-1 > MaxInviteCSVRows {
		return nil, errCSVUnusable("error.csv_too_many", "The file has too many rows.")
	}
	o, err := b.Overview(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	if o.Subscription.Seats < 2 {
		return nil, errOneSeat
	}
	rep := &CSVReport{}
	seen := map[string]bool{}
	for i, row := range rows[1:] {
		line := i + 2
		email := ""
		if col < len(row) {
			email = strings.TrimSpace(row[col])
		}
		if email == "" {
			continue // blank lines are not refusals
		}
		norm, err := NormalizeEmail(email)
		if err == nil && seen[norm] {
			err = &Error{Code: EINVALID, Key: "error.csv_duplicate", Message: "This address appears earlier in the file."}
		}
		if err == nil {
			seen[norm] = true
			_, err = b.invite(ctx, owner, o, norm)
		}
		if err != nil {
			if ErrorCode(err) == EINTERNAL {
				return rep, err
			}
			rep.Refused = append(rep.Refused, CSVRefusal{Line: line, Email: email, Err: err})
			continue
		}
		rep.Invited = append(rep.Invited, norm)
	}
	return rep, nil
}

// FindInvitation returns a pending invitation by its token; EINVALID when
// it was used or has expired.
func (b *Billing) FindInvitation(ctx context.Context, token string) (*Invitation, *Account, error) {
	inv, err := b.Store.FindInvitationByTokenHash(ctx, HashToken(token))
	if IsNotFound(err) {
		return nil, nil, errInvitationUnknown
	} else if err != nil {
		return nil, nil, fmt.Errorf("find invitation: %w", err)
	}
	switch {
	case inv.AcceptedAt != nil:
		return nil, nil, errInvitationUsed
	case !b.now().Before(inv.ExpiresAt):
		return nil, nil, errInvitationExpired
	}
	var owner *Account
	if sub, err := b.Store.FindSubscriptionByID(ctx, inv.SubscriptionID); err == nil {
		owner, _ = b.Store.FindAccountByID(ctx, sub.OwnerID)
	}
	return inv, owner, nil
}

var (
	errInvitationUnknown = &Error{Code: ENOTFOUND, Key: "error.invitation_unknown", Message: "This invitation link is not valid."}
	errInvitationUsed    = &Error{Code: EINVALID, Key: "error.invitation_used", Message: "This invitation was already used."}
	errInvitationExpired = &Error{Code: EINVALID, Key: "error.invitation_expired", Message: "This invitation has expired; ask for a new one."}
)

// Accept puts the account on a seat with an invitation's token. The
// invitation works once; a seat that cannot be taken (full subscription,
// the account already holds one) leaves it usable. When the other person
// holds their seat, the owner's sharing warning is lifted: sharing has
// become a second seat.
func (b *Billing) Accept(ctx context.Context, token string, a *Account) (*Seat, *Subscription, error) {
	inv, _, err := b.FindInvitation(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if inv.Kind == InviteByDomain && inv.Email != a.Email {
		return nil, nil, &Error{Code: EFORBIDDEN, Key: "error.join_other_account", Message: "This link confirms another account's address; sign in with that account."}
	}
	sub, err := b.Store.FindSubscriptionByID(ctx, inv.SubscriptionID)
	if err != nil {
		return nil, nil, fmt.Errorf("accept: %w", err)
	}
	now := b.now()
	if !sub.Grants(now) {
		return nil, nil, &Error{Code: EINVALID, Key: "error.subscription_ended", Message: "This subscription has ended."}
	}
	if sub.OwnerID == a.ID {
		return nil, nil, errAlreadyMember
	}
	inv, err = b.Store.ClaimInvitation(ctx, inv.TokenHash, a.ID, now)
	if err != nil {
		return nil, nil, err
	}
	seat, err := b.Store.AssignSeat(ctx, sub.ID, a.ID, now)
	if err != nil {
		if uerr := b.Store.UnclaimInvitation(ctx, inv.ID); uerr != nil {
			b.log().Error("unclaim invitation", "invitation", inv.ID, "err", uerr)
		}
		if ErrorCode(err) == ECONFLICT {
			return nil, nil, errAlreadyMember
		}
		return nil, nil, err
	}
	if inv.Email == a.Email && a.EmailVerifiedAt == nil {
		if err := b.Store.MarkEmailVerified(ctx, a.ID, now); err != nil {
			b.log().Warn("mark email verified", "account", a.ID, "err", err)
		}
	}
	b.seatTaken(ctx, sub)
	return seat, sub, nil
}

// seatTaken lifts the owner's sharing warning now that another person
// reads with a seat of their own.
func (b *Billing) seatTaken(ctx context.Context, sub *Subscription) {
	if b.Reading == nil {
		return
	}
	own, err := b.ownerSeat(ctx, sub.ID)
	if err != nil {
		b.log().Warn("owner seat", "subscription", sub.ID, "err", err)
		return
	}
	if err := b.Reading.ClearSeatWarning(ctx, own.ID, sub.OwnerID, "upgrade"); err != nil {
		b.log().Error("lift sharing warning after a seat was taken", "seat", own.ID, "err", err)
	}
}

func (b *Billing) ownerSeat(ctx context.Context, subscriptionID int64) (*Seat, error) {
	seats, err := b.Store.FindSeats(ctx, subscriptionID)
	if err != nil {
		return nil, err
	}
	for _, s := range seats {
		if s.Position == 1 {
			return s, nil
		}
	}
	return nil, errSeatNotYours
}

// RemoveMember frees a member's seat of the owner's subscription; the
// member's reading lease ends with it.
func (b *Billing) RemoveMember(ctx context.Context, owner *Account, seatID int64) error {
	sub, err := b.OwnedSubscription(ctx, owner.ID)
	if err != nil {
		return err
	}
	seat, err := b.Store.FindSeatByID(ctx, seatID)
	if IsNotFound(err) || (err == nil && seat.SubscriptionID != sub.ID) {
		return errSeatNotYours
	} else if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	if seat.Position == 1 {
		return &Error{Code: EINVALID, Key: "error.billing_owner_seat", Message: "The owner's seat cannot be freed."}
	}
	if seat.AccountID == 0 {
		return nil
	}
	if err := b.Store.FreeSeat(ctx, seat.ID); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	b.releaseSeat(ctx, seat.ID)
	return nil
}

// releaseSeat ends the lease of a freed seat, so its next holder is not
// told someone else is reading.
func (b *Billing) releaseSeat(ctx context.Context, seatID int64) {
	if b.Reading != nil {
		b.Reading.ReleaseSeat(ctx, seatID)
	}
}

// Reassign frees a member's seat and invites someone else to it. Bad input
// changes nothing: the address is checked before the seat is freed.
func (b *Billing) Reassign(ctx context.Context, owner *Account, seatID int64, email string) (*Invitation, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	o, err := b.Overview(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	for _, h := range o.Seats {
		if h.Account != nil && h.Account.Email == norm {
			return nil, errAlreadyMember
		}
	}
	for _, p := range o.Pending {
		if p.Email == norm {
			return nil, errAlreadyInvited
		}
	}
	if err := b.RemoveMember(ctx, owner, seatID); err != nil {
		return nil, err
	}
	return b.Invite(ctx, owner, norm)
}

// CancelInvitation withdraws a pending invitation of the owner's subscription.
func (b *Billing) CancelInvitation(ctx context.Context, owner *Account, id int64) error {
	o, err := b.Overview(ctx, owner.ID)
	if err != nil {
		return err
	}
	for _, p := range o.Pending {
		if p.ID == id {
			return b.Store.DeleteInvitation(ctx, id)
		}
	}
	return errInvitationUnknown
}

// publicDomains are webmail domains no company may claim.
var publicDomains = map[string]bool{
	"gmail.com": true, "googlemail.com": true, "hotmail.com": true, "hotmail.es": true, "outlook.com": true, "outlook.es": true,
	"live.com": true, "msn.com": true, "yahoo.com": true, "yahoo.es": true, "icloud.com": true, "me.com": true, "aol.com": true,
	"proton.me": true, "protonmail.com": true, "gmx.com": true, "gmx.es": true, "mail.com": true, "yandex.com": true, "example.com": true,
}

// ParseDomains reads a list of email domains separated by commas, spaces
// or lines ("@acme.com" and "acme.com" are the same).
func ParseDomains(raw string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		d := strings.TrimPrefix(f, "@")
		if !validDomain(d) {
			return nil, &Error{Code: EINVALID, Key: "error.domain_invalid", Message: fmt.Sprintf("%q is not an email domain.", f), Field: "domains"}
		}
		if publicDomains[d] {
			return nil, &Error{Code: EINVALID, Key: "error.domain_public", Message: fmt.Sprintf("%s is a public email service, not a company's domain.", d), Field: "domains"}
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(out) > 20 {
		return nil, &Error{Code: EINVALID, Key: "error.domains_too_many", Message: "At most 20 domains.", Field: "domains"}
	}
	return out, nil
}

func validDomain(d string) bool {
	if len(d) < 4 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// SetDomains lets anyone with a verified address at the domains join the
// owner's company subscription by themselves.
func (b *Billing) SetDomains(ctx context.Context, owner *Account, raw string) ([]string, error) {
	domains, err := ParseDomains(raw)
	if err != nil {
		return nil, err
	}
	sub, err := b.OwnedSubscription(ctx, owner.ID)
	if err != nil {
		return nil, err
	}
	if p, err := b.Plans.Find(sub.PlanCode); err != nil || !p.SeatsPerUnit {
		return nil, &Error{Code: EINVALID, Key: "error.domains_company_only", Message: "Only company subscriptions can have email domains.", Field: "domains"}
	}
	if err := b.Store.SetSubscriptionDomains(ctx, sub.ID, domains); err != nil {
		return nil, err
	}
	return domains, nil
}

// JoinResult says how a domain join went: Seat is set when the reader took
// a seat at once (a verified address); Sent when a confirmation link went out.
type JoinResult struct {
	Seat         *Seat
	Subscription *Subscription
	Sent         bool
}

// Join puts a reader on a seat of the company subscription that claims
// their address's domain: at once when the address is verified, else once
// they follow the link emailed to it.
func (b *Billing) Join(ctx context.Context, a *Account) (*JoinResult, error) {
	domain := a.Email[strings.LastIndexByte(a.Email, '@')+1:]
	now := b.now()
	sub, err := b.Store.FindSubscriptionByDomain(ctx, domain)
	if err == nil && !sub.Grants(now) {
		err = errNoCompany
	}
	if IsNotFound(err) || errors.Is(err, errNoCompany) {
		return nil, errNoCompany
	} else if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	seats, err := b.Store.FindSeats(ctx, sub.ID)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	free := 0
	for _, s := range seats {
		if s.AccountID == a.ID {
			return nil, errAlreadyMember
		} else if s.AccountID == 0 {
			free++
		}
	}
	if free == 0 {
		return nil, errFull
	}
	if a.EmailVerifiedAt != nil {
		seat, err := b.Store.AssignSeat(ctx, sub.ID, a.ID, now)
		if ErrorCode(err) == ECONFLICT {
			return nil, errAlreadyMember
		} else if err != nil {
			return nil, err
		}
		return &JoinResult{Seat: seat, Subscription: sub}, nil
	}
	token := NewToken()
	inv := &Invitation{TokenHash: HashToken(token), SubscriptionID: sub.ID, Kind: InviteByDomain, Email: a.Email, CreatedAt: now, ExpiresAt: now.Add(b.inviteTTL())}
	if err := b.Store.CreateInvitation(ctx, inv); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	if b.Mail != nil {
		if err := b.Mail.JoinVerification(ctx, a, token); err != nil {
			_ = b.Store.DeleteInvitation(ctx, inv.ID)
			b.log().Error("join verification email", "err", err)
			return nil, &Error{Code: EUNAVAILABLE, Key: "error.invite_mail_failed", Message: "The email could not be sent; try again later."}
		}
	}
	return &JoinResult{Subscription: sub, Sent: true}, nil
}

var errNoCompany = &Error{Code: ENOTFOUND, Key: "error.join_no_company", Message: "No company subscription covers your email address's domain."}

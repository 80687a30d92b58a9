package kiosko

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// NoPassword is the password hash of an account imported without one: no
// password matches it; the reader sets one with "forgot your password".
const NoPassword = ""

// Member formats of `kiosko members import|export`.
const (
	MembersKiosko = "kiosko"
	MembersGhost  = "ghost"
)

// GhostColumns are the columns of Ghost's members CSV, in Ghost's order.
var GhostColumns = []string{"id", "email", "name", "note", "subscribed_to_emails", "complimentary_plan", "stripe_customer_id", "created_at", "deleted_at", "labels", "tiers"}

// KioskoColumns are the columns of kiosko's own members CSV: everything
// kiosko keeps about a member that another site could use.
// account=no marks a newsletter subscriber who has no account.
var KioskoColumns = []string{"email", "name", "lang", "created_at", "verified_at", "plan", "seats", "plan_until", "stripe_customer_id", "newsletters", "unsubscribed", "account"}

// MemberImport is one member to store: the account (found by email or
// created without a password), its payment customer, a plan granted by
// hand, and its newsletter subscriptions (Status confirmed or
// unsubscribed).
type MemberImport struct {
	Line           int
	NoAccount      bool // only newsletter rows: a subscriber without an account
	Account        Account
	StripeCustomer string
	Grant          *Subscription
	Newsletters    []Subscriber
}

// MemberImportResult counts what ImportMembers did.
type MemberImportResult struct {
	Created      int // new accounts
	Existing     int // accounts that were there already (kept as they are)
	Granted      int // manual plans granted
	Subscribed   int // newsletter subscriptions added or confirmed
	Unsubscribed int // newsletter subscriptions recorded as unsubscribed
}

// Member is one member as an export writes it: an account (ID 0 for a
// newsletter subscriber without one), its running subscription, payment
// customer and newsletter subscriptions (edition -> status).
type Member struct {
	Account        Account
	Subscription   *Subscription
	StripeCustomer string
	Newsletters    map[string]string
}

// MemberStore imports and lists members in bulk.
type MemberStore interface {
	// ImportMembers stores members in one transaction: all or nothing.
	// Existing accounts keep their password and name (an empty name is
	// filled in); a grant is stored only for an account with no running
	// subscription; a confirmed newsletter row never revives one that
	// unsubscribed or bounced, and an unsubscribed row always wins over a
	// pending or confirmed one.
	ImportMembers(ctx context.Context, ms []*MemberImport, now time.Time) (*MemberImportResult, error)
	// FindMembers lists every account, then every newsletter subscriber
	// without an account, by email.
	FindMembers(ctx context.Context, now time.Time) ([]*Member, error)
}

// MemberImportOptions say how to read a members file.
type MemberImportOptions struct {
	Format   string   // MembersKiosko or MembersGhost
	File     string   // the file's name, for FILE:LINE messages
	Editions []string // newsletters that subscribed_to_emails means (ghost); every edition for unsubscribing
	CompPlan string   // the plan complimentary_plan=true grants (default digital)
	SkipBad  bool     // import the good rows of a file with bad ones
	Plans    Plans
	// all is every edition: subscribed_to_emails=false unsubscribes a
	// member from each (set by ImportMembers).
	all  []string
	Lang string // language of accounts the file does not give one
	Now  time.Time
}

// BadRow is a line of a members file that cannot be imported.
type BadRow struct {
	Line   int
	Reason string
}

// MembersFileError lists every bad row of a members file, one
// "FILE:LINE: reason" a line.
type MembersFileError struct {
	File string
	Rows []BadRow
}

func (e *MembersFileError) Error() string {
	var b strings.Builder
	for i, r := range e.Rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d: %s", e.File, r.Line, r.Reason)
	}
	return b.String()
}

// ParseMembers reads a members CSV. It returns the members to import and
// the bad rows; a file that is not CSV, or has no email column, is an
// error of its own.
func ParseMembers(r io.Reader, o MemberImportOptions) ([]*MemberImport, []BadRow, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s: the file is empty; the first line must name the columns", o.File)
	} else if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", o.File, csvErr(err))
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["email"]; !ok {
		want := GhostColumns
		if o.Format == MembersKiosko {
			want = KioskoColumns
		}
		return nil, nil, fmt.Errorf("%s:1: no email column; a %s members file starts with %q", o.File, o.Format, strings.Join(want, ","))
	}
	compPlan := o.CompPlan
	if compPlan == "" {
		compPlan = PlanDigital
	}
	var out []*MemberImport
	var bad []BadRow
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", o.File, csvErr(err))
		}
		line, _ := cr.FieldPos(0)
		if len(out)+len(bad) >= MaxImportRows {
			return nil, nil, fmt.Errorf("%s: more than %d rows; split the file", o.File, MaxImportRows)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		m, reason := parseMember(get, o, compPlan)
		if reason == "" {
			for _, f := range rec {
				if !utf8.ValidString(f) {
					reason = "not UTF-8 text (save the file as CSV UTF-8)"
				}
			}
		}
		if reason == "" && m != nil {
			if prev := seen[m.Account.Email]; prev != 0 {
				reason = fmt.Sprintf("%s repeats line %d", m.Account.Email, prev)
			} else {
				seen[m.Account.Email] = line
			}
		}
		if reason != "" {
			bad = append(bad, BadRow{Line: line, Reason: reason})
			continue
		}
		if m != nil { // nil: a member deleted in Ghost
			m.Line = line
			out = append(out, m)
		}
	}
	if len(out) == 0 && len(bad) == 0 {
		return nil, nil, fmt.Errorf("%s: a header row but no members", o.File)
	}
	return out, bad, nil
}

func parseBool(s string, def bool) (bool, bool) {
	switch strings.ToLower(s) {
	case "":
		return def, true
	case "true", "yes", "1", "sí", "si":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseMember reads one row; a reason says why it is bad.
func parseMember(get func(string) string, o MemberImportOptions, compPlan string) (*MemberImport, string) {
	email, err := NormalizeEmail(get("email"))
	if get("email") == "" {
		return nil, "no email address"
	} else if err != nil {
		return nil, fmt.Sprintf("%q is not a valid email address", get("email"))
	}
	name := CleanName(get("name"))
	if utf8.RuneCountInString(name) > 200 {
		return nil, "name longer than 200 characters"
	}
	created, ok := parseTime(get("created_at"))
	if !ok {
		return nil, fmt.Sprintf("created_at %q is not a date (want 2006-01-02T15:04:05Z)", get("created_at"))
	}
	if created.IsZero() || created.After(o.Now) {
		created = o.Now
	}
	lang := o.Lang
	if !IsLanguage(lang) {
		lang = LangSpanish
	}
	m := &MemberImport{Account: Account{Email: email, Name: name, PasswordHash: NoPassword, Role: RoleReader, Lang: lang,
		EmailVerifiedAt: &created, PasswordChangedAt: created, CreatedAt: created}}
	if c := get("stripe_customer_id"); c != "" {
		if !strings.HasPrefix(c, "cus_") || len(c) > 255 {
			return nil, fmt.Sprintf("stripe_customer_id %q is not a Stripe customer id (cus_…)", c)
		}
		m.StripeCustomer = c
	}
	sub := func(edition, status string) Subscriber {
		s := Subscriber{Edition: edition, Email: email, Name: name, Status: status, Source: "import", UnsubscribeToken: NewToken(), CreatedAt: created}
		if status == SubscriberConfirmed {
			s.ConfirmedAt = &created
		} else {
			s.UnsubscribedAt = &o.Now
		}
		return s
	}
	switch o.Format {
	case MembersGhost:
		if d := get("deleted_at"); d != "" {
			if _, ok := parseTime(d); !ok {
				return nil, fmt.Sprintf("deleted_at %q is not a date", d)
			}
			return nil, "" // deleted in Ghost: nothing to import
		}
		subscribed, ok := parseBool(get("subscribed_to_emails"), false)
		if !ok {
			return nil, fmt.Sprintf("subscribed_to_emails %q is not true or false", get("subscribed_to_emails"))
		}
		comp, ok := parseBool(get("complimentary_plan"), false)
		if !ok {
			return nil, fmt.Sprintf("complimentary_plan %q is not true or false", get("complimentary_plan"))
		}
		switch {
		case !subscribed:
			// No consent: no newsletter of this site may reach them.
			for _, ed := range o.all {
				m.Newsletters = append(m.Newsletters, sub(ed, SubscriberUnsubscribed))
			}
		case len(o.Editions) == 0:
			m.Newsletters = append(m.Newsletters, sub("", SubscriberConfirmed)) // ImportMembers asks for --edition
		default:
			for _, ed := range o.Editions {
				m.Newsletters = append(m.Newsletters, sub(ed, SubscriberConfirmed))
			}
		}
		if comp {
			p, err := o.Plans.Find(compPlan)
			if err != nil {
				return nil, fmt.Sprintf("complimentary plan %q is not a plan of this site", compPlan)
			}
			m.Grant = grantFor(p, p.Seats, created, o.Now.AddDate(1, 0, 0))
		}
	default:
		if l := get("lang"); l != "" {
			if !IsLanguage(l) {
				return nil, fmt.Sprintf("lang %q is not es or en", l)
			}
			m.Account.Lang = l
		}
		if v := get("verified_at"); v != "" {
			t, ok := parseTime(v)
			if !ok {
				return nil, fmt.Sprintf("verified_at %q is not a date", v)
			}
			m.Account.EmailVerifiedAt = &t
		} else {
			m.Account.EmailVerifiedAt = nil
		}
		if code := get("plan"); code != "" && code != PlanFree {
			p, err := o.Plans.Find(code)
			if err != nil {
				return nil, fmt.Sprintf("plan %q is not a plan of this site", code)
			}
			seats := p.Seats
			if s := get("seats"); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil || n < 1 || n > 10000 {
					return nil, fmt.Sprintf("seats %q is not a number from 1 to 10000", s)
				}
				seats = n
			}
			until, ok := parseTime(get("plan_until"))
			if !ok || until.IsZero() {
				return nil, fmt.Sprintf("plan_until %q is not a date", get("plan_until"))
			}
			m.Grant = grantFor(p, seats, created, until)
		}
		editions := strings.Fields(strings.ReplaceAll(get("newsletters"), ",", " "))
		unsub := strings.Fields(strings.ReplaceAll(get("unsubscribed"), ",", " "))
		for _, ed := range editions {
			if slices.Contains(unsub, ed) {
				return nil, fmt.Sprintf("edition %s is both in newsletters and unsubscribed", ed)
			}
			m.Newsletters = append(m.Newsletters, sub(ed, SubscriberConfirmed))
		}
		for _, ed := range unsub {
			m.Newsletters = append(m.Newsletters, sub(ed, SubscriberUnsubscribed))
		}
		switch strings.ToLower(get("account")) {
		case "", "yes", "true":
		case "no", "false":
			if m.Grant != nil || m.StripeCustomer != "" {
				return nil, "account=no with a plan or a Stripe customer"
			}
			m.NoAccount = true
		default:
			return nil, fmt.Sprintf("account %q is not yes or no", get("account"))
		}
	}
	return m, ""
}

func grantFor(p *Plan, seats int, created, until time.Time) *Subscription {
	return &Subscription{PlanCode: p.Code, Status: StatusActive, Seats: seats, PriceCents: PriceFor(p, seats), Currency: p.Currency,
		Provider: ProviderManual, CurrentPeriodEnd: until, CreatedAt: created}
}

// ImportMembers reads a members file and stores it in one transaction. A
// file with bad rows changes nothing and returns a *MembersFileError
// listing every one, unless SkipBad: then the good rows are stored and the
// bad ones returned.
func ImportMembers(ctx context.Context, store Store, r io.Reader, o MemberImportOptions) (*MemberImportResult, []BadRow, error) {
	if o.Format != MembersKiosko && o.Format != MembersGhost {
		return nil, nil, fmt.Errorf("--format %q: want kiosko or ghost", o.Format)
	}
	eds, err := store.FindEditions(ctx)
	if err != nil {
		return nil, nil, err
	}
	known := map[string]bool{}
	for _, e := range eds {
		known[e.Code] = true
		o.all = append(o.all, e.Code)
	}
	for _, e := range o.Editions {
		if !known[e] {
			return nil, nil, fmt.Errorf("--edition %q: no such edition", e)
		}
	}
	ms, bad, err := ParseMembers(r, o)
	if err != nil {
		return nil, nil, err
	}
	good := ms[:0]
	for _, m := range ms {
		reason := ""
		for _, n := range m.Newsletters {
			if n.Edition == "" {
				return nil, nil, fmt.Errorf("%s:%d: subscribed_to_emails=true, but to which newsletter? Name the edition with --edition E", o.File, m.Line)
			}
			if !known[n.Edition] {
				reason = fmt.Sprintf("edition %q does not exist", n.Edition)
			}
		}
		if reason != "" {
			bad = append(bad, BadRow{Line: m.Line, Reason: reason})
		} else {
			good = append(good, m)
		}
	}
	slices.SortFunc(bad, func(a, b BadRow) int { return a.Line - b.Line })
	if len(bad) > 0 && !o.SkipBad {
		return nil, bad, &MembersFileError{File: o.File, Rows: bad}
	}
	res, err := store.ImportMembers(ctx, good, o.Now)
	if err != nil {
		return nil, bad, fmt.Errorf("import members: %w", err)
	}
	return res, bad, nil
}

// ExportMembers writes every member as CSV in format.
func ExportMembers(ctx context.Context, store Store, w io.Writer, format string, now time.Time) (int, error) {
	if format != MembersKiosko && format != MembersGhost {
		return 0, fmt.Errorf("--format %q: want kiosko or ghost", format)
	}
	ms, err := store.FindMembers(ctx, now)
	if err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	cols := KioskoColumns
	if format == MembersGhost {
		cols = GhostColumns
	}
	if err := cw.Write(cols); err != nil {
		return 0, err
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	for _, m := range ms {
		var subscribed, unsubscribed []string
		for ed, st := range m.Newsletters {
			switch st {
			case SubscriberConfirmed:
				subscribed = append(subscribed, ed)
			case SubscriberUnsubscribed, SubscriberBounced:
				unsubscribed = append(unsubscribed, ed)
			}
		}
		slices.Sort(subscribed)
		slices.Sort(unsubscribed)
		a := m.Account
		var rec []string
		if format == MembersGhost {
			id := ""
			if a.ID != 0 {
				id = strconv.FormatInt(a.ID, 10)
			}
			comp, tiers := "false", ""
			if s := m.Subscription; s != nil {
				tiers = s.PlanCode
				if s.Provider == ProviderManual {
					comp = "true"
				}
			}
			rec = []string{id, a.Email, a.Name, "", strconv.FormatBool(len(subscribed) > 0), comp, m.StripeCustomer, stamp(a.CreatedAt), "", "", tiers}
		} else {
			verified := ""
			if a.EmailVerifiedAt != nil {
				verified = stamp(*a.EmailVerifiedAt)
			}
			plan, seats, until := "", "", ""
			if s := m.Subscription; s != nil && s.Provider == ProviderManual {
				plan, seats, until = s.PlanCode, strconv.Itoa(s.Seats), stamp(s.CurrentPeriodEnd)
			}
			hasAccount := "yes"
			if a.ID == 0 {
				hasAccount = "no"
			}
			rec = []string{a.Email, a.Name, a.Lang, stamp(a.CreatedAt), verified, plan, seats, until, m.StripeCustomer,
				strings.Join(subscribed, " "), strings.Join(unsubscribed, " "), hasAccount}
		}
		if err := cw.Write(rec); err != nil {
			return 0, err
		}
	}
	cw.Flush()
	return len(ms), cw.Error()
}

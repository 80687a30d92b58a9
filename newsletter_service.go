package kiosko

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NewsletterSettings tune the newsletter. Zero fields take the defaults of
// DefaultNewsletterSettings.
type NewsletterSettings struct {
	Concurrency int // messages in flight at once (SMTP connections); 8
	// BatchSize is how many deliveries a worker commits in one go; a
	// crash leaves at most 2 x Concurrency x BatchSize of them unknown
	// (newsletter_send.go); 16.
	BatchSize int
	// EnqueueChunk is how many subscribers' deliveries a send adds at a
	// time: it starts sending after the first chunk; 2000.
	EnqueueChunk int
	MaxAttempts  int           // temporary failures before a delivery is given up; 5
	RetryAfter   time.Duration // first retry delay, doubled each time, at most an hour; 30s
	LockTTL      time.Duration // a crashed sender's issue lock lapses after this; 30s
	ConfirmTTL   time.Duration // a confirmation link works this long; 7 days
	ResendAfter  time.Duration // a repeated sign-up resends the confirmation after this; 10m
	Period       time.Duration // an issue covers the articles of this long before it; 7 days
	MaxArticles  int           // at most this many articles in an issue; 20
	Mail         MailLimits    // confirmation emails; DefaultMailLimits
	// Location, when set, replaces every edition's time zone for the
	// issue's week (KIOSKO_NEWSLETTER_TZ).
	Location *time.Location
}

// DefaultNewsletterSettings returns the defaults.
func DefaultNewsletterSettings() NewsletterSettings {
	return NewsletterSettings{Concurrency: 8, BatchSize: 16, EnqueueChunk: 2000, MaxAttempts: 5, RetryAfter: 30 * time.Second, LockTTL: 30 * time.Second,
		ConfirmTTL: 7 * 24 * time.Hour, ResendAfter: 10 * time.Minute, Period: 7 * 24 * time.Hour, MaxArticles: 20}
}

func (s NewsletterSettings) withDefaults() NewsletterSettings {
	d := DefaultNewsletterSettings()
	if s.Concurrency <= 0 {
		s.Concurrency = d.Concurrency
	}
	if s.BatchSize <= 0 {
		s.BatchSize = d.BatchSize
	}
	if s.EnqueueChunk <= 0 {
		s.EnqueueChunk = d.EnqueueChunk
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = d.MaxAttempts
	}
	if s.RetryAfter <= 0 {
		s.RetryAfter = d.RetryAfter
	}
	if s.LockTTL <= 0 {
		s.LockTTL = d.LockTTL
	}
	if s.ConfirmTTL <= 0 {
		s.ConfirmTTL = d.ConfirmTTL
	}
	if s.ResendAfter <= 0 {
		s.ResendAfter = d.ResendAfter
	}
	if s.Period <= 0 {
		s.Period = d.Period
	}
	if s.MaxArticles <= 0 {
		s.MaxArticles = d.MaxArticles
	}
	if s.Mail == (MailLimits{}) {
		s.Mail = DefaultMailLimits()
	}
	return s
}

// NewsletterRenderer writes newsletter emails in the edition's language;
// internal/newsletter implements it with templates and the catalogs.
type NewsletterRenderer interface {
	Confirmation(c *ConfirmationContent) (*Message, error)
	Issue(c *IssueContent) (*Message, error)
	// PrepareIssue renders once what every copy of an issue shares; c's
	// Email, Name and UnsubscribeURL are not used.
	PrepareIssue(c *IssueContent) (PreparedIssue, error)
}

// PreparedIssue is an issue rendered once for all its recipients.
type PreparedIssue interface {
	// Copy returns one recipient's copy: the shared pieces with the
	// recipient's greeting, address and unsubscribe link between them.
	Copy(email, name, unsubscribeURL string) *BulkMessage
}

// ConfirmationContent is what a double opt-in email says.
type ConfirmationContent struct {
	Edition    *Edition
	Email      string
	Name       string
	ConfirmURL string
}

// IssueContent is one recipient's copy of an issue.
type IssueContent struct {
	Edition        *Edition
	Issue          *Issue
	Articles       []IssueArticle
	Email          string
	Name           string
	EditionURL     string // the edition's front page
	UnsubscribeURL string // the footer link and List-Unsubscribe
}

// IssueArticle is one story of an issue.
type IssueArticle struct {
	ID          string
	Title       string
	Standfirst  string
	Author      string
	URL         string
	PublishedAt time.Time
}

// Newsletter runs the editions' weekly newsletters: double opt-in
// subscriptions, the weekly issue, sending it exactly once per subscriber,
// unsubscribing, and importing lists.
type Newsletter struct {
	Store     Store
	Mailer    Mailer     // confirmation emails
	Bulk      BulkMailer // issues
	Render    NewsletterRenderer
	Clock     Clock
	PublicURL string // base of links in emails, no trailing slash
	Settings  NewsletterSettings
	Log       *slog.Logger
	// OnDelivery, when set, is told each delivery's outcome (DeliverySent,
	// SubscriberBounced, ...): the server's metrics count them.
	OnDelivery func(outcome string)
}

func (n *Newsletter) now() time.Time {
	if n.Clock == nil {
		return time.Now().UTC()
	}
	return n.Clock.Now()
}

func (n *Newsletter) settings() NewsletterSettings { return n.Settings.withDefaults() }

func (n *Newsletter) log() *slog.Logger {
	if n.Log == nil {
		return slog.Default()
	}
	return n.Log
}

func (n *Newsletter) link(path string, q url.Values) string {
	u := strings.TrimRight(n.PublicURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ConfirmURL is the link of a confirmation email. It opens a page with a
// button; a GET alone confirms nothing, because mail scanners follow links.
func (n *Newsletter) ConfirmURL(token string) string {
	return n.link("/newsletter/confirm", url.Values{"token": {token}})
}

// UnsubscribeURL is the footer link and the List-Unsubscribe target: GET
// shows a button, POST (RFC 8058 one-click) unsubscribes.
func (n *Newsletter) UnsubscribeURL(token string) string {
	return n.link("/newsletter/unsubscribe", url.Values{"token": {token}})
}

func errNewsletterEdition() *Error {
	return &Error{Code: EINVALID, Key: "error.newsletter_edition_unknown", Message: "There is no edition with that code.", Field: "edition"}
}

func errNewsletterLink() *Error {
	return &Error{Code: ENOTFOUND, Key: "error.newsletter_link_invalid", Message: "This newsletter link is not valid any more."}
}

func (n *Newsletter) edition(ctx context.Context, code string) (*Edition, error) {
	if code == "" {
		return nil, errNewsletterEdition()
	}
	ed, err := n.Store.FindEdition(ctx, code)
	if IsNotFound(err) {
		return nil, errNewsletterEdition()
	}
	return ed, err
}

// SubscribeRequest is a sign-up from the box on article pages or the API.
type SubscribeRequest struct {
	Edition string
	Email   string
	Name    string
	// ClientIP is the address of whoever asked, for the mail limits.
	ClientIP string
}

// Subscribe starts a double opt-in: the address is stored pending and gets
// an email with a confirmation link. Repeating it is harmless and looks the
// same from outside: a confirmed address gets nothing, a pending one gets
// the email again at most every ResendAfter, one that had left starts over.
func (n *Newsletter) Subscribe(ctx context.Context, req SubscribeRequest) error {
	ed, err := n.edition(ctx, req.Edition)
	if err != nil {
		return err
	}
	email, err := NormalizeEmail(req.Email)
	if err != nil {
		return err
	}
	name := truncate(CleanName(req.Name), 200)
	now := n.now()
	// The confirmation email goes to whoever the address is: the limits of
	// every email sent for anonymous visitors apply (mailguard.go). A
	// client over its limit is refused whatever the address, so the answer
	// says nothing about it; an email is counted when it is about to go.
	if err := MailClientLimited(ctx, n.Store, n.settings().Mail, req.ClientIP, now); err != nil {
		return err
	}
	s, err := n.Store.FindSubscriber(ctx, ed.Code, email)
	if IsNotFound(err) {
		s = &Subscriber{Edition: ed.Code, Email: email, Name: name, Status: SubscriberPending, Source: "form",
			UnsubscribeToken: NewToken(), CreatedAt: now}
		token := NewToken()
		s.ConfirmHash, s.ConfirmSentAt = HashToken(token), now
		err = n.Store.CreateSubscriber(ctx, s)
		if ErrorCode(err) == ECONFLICT {
			return nil // a simultaneous sign-up of the same address sends the email
		} else if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		return n.sendConfirmation(ctx, ed, s, token, req.ClientIP)
	} else if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	switch s.Status {
	case SubscriberConfirmed:
		return nil
	case SubscriberPending:
		if now.Sub(s.ConfirmSentAt) < n.settings().ResendAfter {
			return nil
		}
	}
	token := NewToken()
	s.Status, s.ConfirmHash, s.ConfirmSentAt = SubscriberPending, HashToken(token), now
	s.UnsubscribedAt, s.BouncedAt, s.BounceReason = nil, nil, ""
	if name != "" {
		s.Name = name
	}
	if err := n.Store.UpdateSubscriber(ctx, s); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return n.sendConfirmation(ctx, ed, s, token, req.ClientIP)
}

func (n *Newsletter) sendConfirmation(ctx context.Context, ed *Edition, s *Subscriber, token, clientIP string) error {
	if send, err := AllowMail(ctx, n.Store, n.settings().Mail, s.Email, clientIP, n.now()); err != nil || !send {
		return err
	}
	m, err := n.Render.Confirmation(&ConfirmationContent{Edition: ed, Email: s.Email, Name: s.Name, ConfirmURL: n.ConfirmURL(token)})
	if err != nil {
		return fmt.Errorf("subscribe: render confirmation: %w", err)
	}
	if err := n.Mailer.Send(ctx, m); err != nil {
		// Let the next attempt send at once rather than after ResendAfter.
		s.ConfirmSentAt = time.Time{}
		if uerr := n.Store.UpdateSubscriber(context.WithoutCancel(ctx), s); uerr != nil {
			n.log().Error("newsletter: reset confirmation time", "err", uerr)
		}
		if IsPermanentDelivery(err) {
			return FieldError("email", "error.email_invalid", "The mail server refused this address.")
		}
		n.log().Error("newsletter: confirmation email", "edition", ed.Code, "err", err)
		return &Error{Code: EUNAVAILABLE, Key: "error.unavailable", Message: "The confirmation email could not be sent."}
	}
	return nil
}

// Confirm confirms the subscription of a confirmation link's token. Using
// the link again answers the same, as long as the subscriber stays
// confirmed; it never brings back someone who left since.
func (n *Newsletter) Confirm(ctx context.Context, token string) (*Subscriber, error) {
	if token == "" || len(token) > 200 {
		return nil, errNewsletterLink()
	}
	s, err := n.Store.FindSubscriberByConfirmHash(ctx, HashToken(token))
	if IsNotFound(err) {
		return nil, errNewsletterLink()
	} else if err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	switch s.Status {
	case SubscriberConfirmed:
		return s, nil
	case SubscriberPending:
	default:
		return nil, errNewsletterLink()
	}
	now := n.now()
	if now.Sub(s.ConfirmSentAt) > n.settings().ConfirmTTL && !s.ConfirmSentAt.IsZero() {
		return nil, errNewsletterLink()
	}
	if _, err := n.Store.ConfirmSubscriber(ctx, s.ID, now); err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	// Re-read: a double click may have confirmed it a moment ago.
	s, err = n.Store.FindSubscriberByConfirmHash(ctx, HashToken(token))
	if err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	if s.Status != SubscriberConfirmed {
		return nil, errNewsletterLink()
	}
	return s, nil
}

// SubscriberByUnsubscribeToken returns the subscriber an unsubscribe link
// names, for the page that asks to confirm.
func (n *Newsletter) SubscriberByUnsubscribeToken(ctx context.Context, token string) (*Subscriber, error) {
	if token == "" || len(token) > 200 {
		return nil, errNewsletterLink()
	}
	s, err := n.Store.FindSubscriberByUnsubscribeToken(ctx, token)
	if IsNotFound(err) {
		return nil, errNewsletterLink()
	}
	return s, err
}

// Unsubscribe stops the newsletter for the subscriber an unsubscribe link
// names; no sign-in is needed (RFC 8058). Repeating it is harmless.
func (n *Newsletter) Unsubscribe(ctx context.Context, token string) (*Subscriber, error) {
	s, err := n.SubscriberByUnsubscribeToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if s.Status == SubscriberUnsubscribed {
		return s, nil
	}
	now := n.now()
	if err := n.Store.UnsubscribeSubscriber(ctx, s.ID, now); err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	s.Status, s.UnsubscribedAt = SubscriberUnsubscribed, &now
	return s, nil
}

// location is the time zone of an edition's issue weeks.
func (n *Newsletter) location(ed *Edition) *time.Location {
	if l := n.settings().Location; l != nil {
		return l
	}
	if ed.Timezone != "" {
		if l, err := time.LoadLocation(ed.Timezone); err == nil {
			return l
		}
	}
	return time.UTC
}

// Week returns the key of the issue week containing t in the edition's
// time zone, e.g. "2026-W07".
func (n *Newsletter) Week(ed *Edition, t time.Time) string {
	y, w := t.In(n.location(ed)).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

func errNothingToSend(ed string) *Error {
	return &Error{Code: ENOTFOUND, Key: "error.newsletter_no_articles", Message: fmt.Sprintf("Edition %s published no articles in the past week: there is nothing to send.", ed)}
}

// draftIssue builds this week's issue without storing it.
func (n *Newsletter) draftIssue(ctx context.Context, ed *Edition) (*Issue, error) {
	now := n.now()
	st := n.settings()
	arts, err := n.Store.FindArticles(ctx, ArticleFilter{Edition: ed.Code, Since: now.Add(-st.Period), Until: now, Limit: st.MaxArticles})
	if err != nil {
		return nil, fmt.Errorf("issue: articles: %w", err)
	}
	i := &Issue{Edition: ed.Code, Week: n.Week(ed, now), Since: now.Add(-st.Period), Until: now, CreatedAt: now}
	for _, a := range arts {
		i.ArticleIDs = append(i.ArticleIDs, a.ID)
	}
	return i, nil
}

// CurrentIssue returns this week's issue of an edition, creating it from
// the articles of the past week if it does not exist yet. An edition that
// published nothing has no issue (ENOTFOUND).
func (n *Newsletter) CurrentIssue(ctx context.Context, edition string) (*Issue, *Edition, error) {
	ed, err := n.edition(ctx, edition)
	if err != nil {
		return nil, nil, err
	}
	week := n.Week(ed, n.now())
	if i, err := n.Store.FindIssue(ctx, ed.Code, week); err == nil {
		return i, ed, nil
	} else if !IsNotFound(err) {
		return nil, nil, fmt.Errorf("issue: %w", err)
	}
	i, err := n.draftIssue(ctx, ed)
	if err != nil {
		return nil, nil, err
	}
	if len(i.ArticleIDs) == 0 {
		return nil, nil, errNothingToSend(ed.Code)
	}
	if err := n.Store.CreateIssue(ctx, i); ErrorCode(err) == ECONFLICT {
		i, err = n.Store.FindIssue(ctx, ed.Code, week)
		if err != nil {
			return nil, nil, fmt.Errorf("issue: %w", err)
		}
	} else if err != nil {
		return nil, nil, fmt.Errorf("issue: %w", err)
	}
	return i, ed, nil
}

// issueArticles loads an issue's articles; ones deleted since are left out.
func (n *Newsletter) issueArticles(ctx context.Context, ed *Edition, i *Issue) ([]IssueArticle, error) {
	out := make([]IssueArticle, 0, len(i.ArticleIDs))
	for _, id := range i.ArticleIDs {
		a, err := n.Store.FindArticleByID(ctx, id)
		if IsNotFound(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("issue: article %s: %w", id, err)
		}
		out = append(out, IssueArticle{ID: a.ID, Title: a.Title, Standfirst: a.Standfirst, Author: a.Author(),
			URL: n.link("/"+url.PathEscape(ed.Code)+"/"+url.PathEscape(a.ID), nil), PublishedAt: a.PublishedAt})
	}
	return out, nil
}

// Preview renders this week's issue as a subscriber would get it, without
// creating or sending anything: the issue if it exists already, else what
// it would hold if sent now. It also returns the number of articles.
func (n *Newsletter) Preview(ctx context.Context, edition, email, name string) (*Message, int, error) {
	ed, err := n.edition(ctx, edition)
	if err != nil {
		return nil, 0, err
	}
	i, err := n.Store.FindIssue(ctx, ed.Code, n.Week(ed, n.now()))
	if IsNotFound(err) {
		i, err = n.draftIssue(ctx, ed)
	}
	if err != nil {
		return nil, 0, err
	}
	arts, err := n.issueArticles(ctx, ed, i)
	if err != nil {
		return nil, 0, err
	}
	im, err := n.prepareIssue(ed, i, arts)
	if err != nil {
		return nil, 0, err
	}
	return im.copyFor(&Subscriber{Email: email, Name: name, UnsubscribeToken: "preview"}).Message(), len(arts), nil
}

// issueMail is an issue rendered once for a run, which writes each
// subscriber's copy.
type issueMail struct {
	n       *Newsletter
	issue   *Issue
	prep    PreparedIssue
	listID  string
	msgHost string
}

func (n *Newsletter) prepareIssue(ed *Edition, i *Issue, arts []IssueArticle) (*issueMail, error) {
	prep, err := n.Render.PrepareIssue(&IssueContent{Edition: ed, Issue: i, Articles: arts,
		EditionURL: n.link("/"+url.PathEscape(ed.Code), nil)})
	if err != nil {
		return nil, fmt.Errorf("render issue: %w", err)
	}
	host := listHost(n.PublicURL)
	return &issueMail{n: n, issue: i, prep: prep, msgHost: host,
		listID: fmt.Sprintf("<%s.newsletter.%s>", sanitizeListID(ed.Code), host)}, nil
}

// copyFor writes s's copy of the issue.
func (im *issueMail) copyFor(s *Subscriber) *BulkMessage {
	unsub := im.n.UnsubscribeURL(s.UnsubscribeToken)
	m := im.prep.Copy(s.Email, s.Name, unsub)
	m.To = s.Email
	if m.Headers == nil {
		m.Headers = make(map[string]string, 4)
	}
	m.Headers["List-Unsubscribe"] = "<" + unsub + ">"
	m.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	m.Headers["List-Id"] = im.listID
	if s.ID != 0 {
		// The same Message-ID on any resend lets mailboxes fold duplicates.
		m.Headers["Message-ID"] = "<issue-" + strconv.FormatInt(im.issue.ID, 10) + ".sub-" + strconv.FormatInt(s.ID, 10) + "@" + im.msgHost + ">"
	}
	return m
}

func listHost(publicURL string) string {
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "kiosko.localhost"
}

func sanitizeListID(s string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "edition"
	}
	return b.String()
}

// errIssueBusy means another live sender holds the issue.
var errIssueBusy = errors.New("another sender is sending this issue")

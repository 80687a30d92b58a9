package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/useragent"
)

// ArticleView is the data of an article page.
type ArticleView struct {
	Article  *kiosko.Article
	Decision kiosko.AccessDecision
	// ShowBody: the body is sent. False behind a wall and on a conflict.
	ShowBody bool
	// Reading: a subscriber article held by this device; the page script
	// heartbeats and reacts to takeovers.
	Reading bool
	// Conflict: another device of the seat reads now; the interstitial shows
	// instead of the body.
	Conflict bool
	// Other is the device holding the lease, on a conflict.
	Other *kiosko.OtherDevice
	// HasSeat: the interstitial is rendered (shown or hidden).
	HasSeat         bool
	HeartbeatEvery  int // seconds
	PresenceWindow  int // seconds a displaced page watches for a person (reading.js)
	RegisteredMeter int // free articles a month with a free account
	JSONLD          map[string]any
	Path            string // /{edition}/{article}
	// More is a few other articles of the edition.
	More []*kiosko.Article
	// Image is the lead image; nil for none.
	Image *LeadImage
}

// ShowMeter says whether to tell the reader how many free articles are left.
func (v *ArticleView) ShowMeter() bool { return v.Decision.Metered && v.Decision.Allowed }

// Body is the article's body, rendered and sanitized when it was saved.
func (v *ArticleView) Body() template.HTML { return template.HTML(v.Article.BodyHTML) }

// Wall is the wall shown instead of the body: "register", "subscribe" or "".
func (v *ArticleView) Wall() string { return v.Decision.Wall }

func (s *Server) articlePage(w http.ResponseWriter, r *http.Request) {
	if file := s.editionFile(r.PathValue("article")); file != nil {
		file(w, r)
		return
	}
	ed, ok := s.edition(w, r)
	if !ok {
		return
	}
	a, ok := s.findArticle(w, r, ed)
	if !ok {
		return
	}
	p := s.newPage(r, ed.Lang, false) // decide sets Warned
	s.rememberLang(w, r, ed.Lang)
	p.Edition, p.Title = ed, a.Title
	v := &ArticleView{Article: a, Path: "/" + ed.Code + "/" + a.ID, HeartbeatEvery: s.heartbeatEvery(), PresenceWindow: s.presenceWindow(), RegisteredMeter: s.registeredMeter()}
	p.Data = v
	// The paywall and the reading rule decide for every view, cached page
	// or not.
	if err := s.decide(w, r, p, v); err != nil {
		s.ServerError(w, r, fmt.Errorf("article %s: %w", a.ID, err))
		return
	}
	// From here on what this view is (v.Decision, v.ShowBody, v.Conflict)
	// is known, whether its page comes from the cache or is rendered.
	s.d.Views.Article(p.Identity != nil, v.Decision) // insights: every page shown counts
	// An anonymous view of an open article is the same for everyone.
	public := p.Identity == nil && a.Access == kiosko.AccessOpen
	more, serial, err := s.frontArticles(r.Context(), ed.Code, p.Now, frontPageSize)
	if err != nil {
		s.d.Log.Warn("more articles", "article", a.ID, "err", err)
		more, serial = nil, 0
	}
	key := articleKey(p, v, serial)
	if page, ok := s.pages.get(key); ok {
		page.write(w, r, p, public)
		return
	}
	v.Image = s.leadImage(r.Context(), a)
	v.JSONLD = s.jsonLD(p, v)
	for _, m := range more {
		if m.ID != a.ID && len(v.More) < 3 {
			v.More = append(v.More, m)
		}
	}
	page, err := s.renderKept("article", p, key)
	if err != nil {
		s.ServerError(w, r, err)
		return
	}
	s.pages.put(key, page)
	page.write(w, r, p, public)
}

// decide applies the paywall and, for a subscriber article read with a
// seat, the reading rule.
func (s *Server) decide(w http.ResponseWriter, r *http.Request, p *Page, v *ArticleView) error {
	ctx, a, now := r.Context(), v.Article, s.d.Clock.Now()
	month := kiosko.MeterMonth(now)
	id := p.Identity
	if id == nil {
		limit := s.anonymousMeter()
		read, ok := s.readMeter(r, month)
		if !ok {
			read = usedUp(limit)
		}
		v.Decision = kiosko.DecideAccess(a, false, false, limit, read)
		if v.Decision.Count {
			s.writeMeter(w, month, append(read, a.ID))
		}
		v.ShowBody = v.Decision.Allowed
		return nil
	}
	if a.NeedsSeat() && s.d.Reading != nil {
		// The claim finds the reader's seat: no seat, no lease, and the
		// reader meets the wall as any reader without one.
		st, err := s.d.Reading.Claim(ctx, s.reader(ctx, r, id), a, true)
		if err != nil {
			return err
		}
		p.Warned = st.SharingWarning
		switch st.Status {
		case kiosko.ReadingOK:
			v.Decision = kiosko.DecideAccess(a, true, true, 0, nil)
			v.HasSeat, v.Reading, v.ShowBody = true, true, true
			return nil
		case kiosko.ReadingConflict:
			v.Decision = kiosko.DecideAccess(a, true, true, 0, nil)
			v.HasSeat, v.Conflict, v.Other = true, true, st.Other
			return nil
		}
		return s.decideWithoutSeat(ctx, id, v, month)
	}
	if s.d.Reading != nil {
		p.Warned = s.d.Reading.Warned(ctx, id.Account.ID)
	}
	_, _, err := s.d.Store.FindSeatForAccount(ctx, id.Account.ID, now)
	if err != nil && !kiosko.IsNotFound(err) {
		return fmt.Errorf("find seat: %w", err)
	}
	if hasSeat := err == nil; !hasSeat {
		return s.decideWithoutSeat(ctx, id, v, month)
	}
	// A seat reads free and open articles without a lease.
	v.Decision = kiosko.DecideAccess(a, true, true, 0, nil)
	v.ShowBody = true
	return nil
}

// decideWithoutSeat is the registered meter of a signed-in reader who
// holds no seat.
func (s *Server) decideWithoutSeat(ctx context.Context, id *kiosko.Identity, v *ArticleView, month string) error {
	a := v.Article
	limit := s.registeredMeter()
	read, err := s.d.Store.FindMeteredReads(ctx, id.Account.ID, month)
	if err != nil {
		return fmt.Errorf("metered reads: %w", err)
	}
	v.Decision = kiosko.DecideAccess(a, false, true, limit, read)
	if v.Decision.Count {
		if err := s.d.Store.AddMeteredRead(ctx, id.Account.ID, month, a.ID); err != nil {
			return fmt.Errorf("record metered read: %w", err)
		}
	}
	v.ShowBody = v.Decision.Allowed
	return nil
}

// takeover is "continue reading here" without JavaScript.
func (s *Server) takeover(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requireSignIn(w, r)
	if !ok {
		return
	}
	ed, ok := s.edition(w, r)
	if !ok {
		return
	}
	a, ok := s.findArticle(w, r, ed)
	if !ok {
		return
	}
	if s.d.Reading != nil {
		if _, err := s.d.Reading.Takeover(r.Context(), s.reader(r.Context(), r, id), a, true); err != nil {
			s.ServerError(w, r, fmt.Errorf("takeover: %w", err))
			return
		}
	}
	redirect(w, r, "/"+ed.Code+"/"+a.ID)
}

func (s *Server) findArticle(w http.ResponseWriter, r *http.Request, ed *kiosko.Edition) (*kiosko.Article, bool) {
	a, err := s.findArticleByID(r.Context(), r.PathValue("article"))
	if err == nil && a.Edition == ed.Code && a.Gone() {
		s.Gone(w, r, ed)
		return nil, false
	}
	if kiosko.IsNotFound(err) || err == nil && (a.Edition != ed.Code || !a.VisibleAt(s.d.Clock.Now())) {
		s.NotFound(w, r)
		return nil, false
	} else if err != nil {
		s.ServerError(w, r, fmt.Errorf("find article: %w", err))
		return nil, false
	}
	return a, true
}

// reader describes the signed-in device for the reading rule.
func (s *Server) reader(ctx context.Context, r *http.Request, id *kiosko.Identity) kiosko.Reader {
	// Auth keeps device names as long as sessions (a sign-in that renames
	// the device is seen at once).
	rd, err := s.d.Auth.Reader(ctx, id)
	if err != nil || rd.DeviceName == "" {
		rd = kiosko.Reader{Account: id.Account, DeviceID: id.Session.DeviceID, DeviceName: useragent.Name(r.UserAgent())}
	}
	return rd
}

func (s *Server) heartbeatEvery() int {
	if e := s.d.ReadingSettings.HeartbeatEvery; e >= time.Second {
		return int(e / time.Second)
	}
	return 30
}

func (s *Server) presenceWindow() int {
	if w := s.d.ReadingSettings.PresenceWindow; w >= time.Second {
		return int(w / time.Second)
	}
	return 0 // the rule does not use reports: the page sends none
}

func (s *Server) anonymousMeter() int {
	if n := s.d.Meter.Anonymous; n > 0 {
		return n
	}
	return kiosko.DefaultMeterSettings().Anonymous
}

// registeredMeter is the free plan's meter, else the configured one.
func (s *Server) registeredMeter() int { return kiosko.RegisteredMeter(s.d.Plans, s.d.Meter) }

// meterCookie is what the anonymous meter cookie holds, signed.
type meterCookie struct {
	Month string   `json:"m"`
	Read  []string `json:"a"`
}

// readMeter returns the free articles this browser opened this month. ok
// is false when the cookie was tampered with or cannot be read: the meter
// then counts as used up, so clearing a signature does not buy articles.
func (s *Server) readMeter(r *http.Request, month string) (read []string, ok bool) {
	c, err := r.Cookie(httpx.MeterCookie)
	if err != nil || c.Value == "" {
		return nil, true
	}
	value, ok := s.d.Verify(c.Value)
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return nil, false
	}
	var m meterCookie
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	if m.Month != month {
		return nil, true // a new month, a new meter
	}
	return m.Read, true
}

func (s *Server) writeMeter(w http.ResponseWriter, month string, read []string) {
	raw, _ := json.Marshal(meterCookie{Month: month, Read: read})
	s.d.SetCookie(w, httpx.MeterCookie, s.d.Sign(base64.RawURLEncoding.EncodeToString(raw)), 40*24*time.Hour)
}

// usedUp is a read list that leaves no free article.
func usedUp(limit int) []string {
	return make([]string, max(limit, 1))
}

// jsonLD is the page's schema.org NewsArticle. Every article is behind the
// meter or the subscription, so search engines are told the part of the
// page that holds the body or the wall (.paywalled, on every article page
// whatever the reader may see) is not free to read.
func (s *Server) jsonLD(p *Page, v *ArticleView) map[string]any {
	a := v.Article
	ld := map[string]any{
		"@context":            "https://schema.org",
		"@type":               "NewsArticle",
		"headline":            a.Title,
		"description":         a.Standfirst,
		"datePublished":       a.PublishedAt.UTC().Format(time.RFC3339),
		"inLanguage":          p.Lang,
		"isAccessibleForFree": a.Access == kiosko.AccessOpen,
		"hasPart": map[string]any{
			"@type":               "WebPageElement",
			"isAccessibleForFree": a.Access == kiosko.AccessOpen,
			"cssSelector":         ".paywalled",
		},
		"publisher": map[string]any{"@type": "Organization", "name": p.T("web.site.name")},
	}
	if len(a.Authors) > 0 {
		var authors []map[string]any
		for _, name := range a.Authors {
			authors = append(authors, map[string]any{"@type": "Person", "name": name})
		}
		ld["author"] = authors
	}
	if base := strings.TrimRight(s.d.PublicURL, "/"); base != "" {
		ld["mainEntityOfPage"] = base + v.Path
	}
	return ld
}

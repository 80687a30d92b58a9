package demo_test

import (
	"context"
	"errors"
	"html"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // editions name IANA zones; do not depend on the host's
	"unicode"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

var slug = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

var now = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func TestEditions(t *testing.T) {
	t.Parallel()
	eds, err := demo.Editions()
	if err != nil {
		t.Fatal(err)
	}
	want := []kiosko.Edition{
		{Code: "es", Name: "Edición España", Lang: kiosko.LangSpanish, Timezone: "Europe/Madrid"},
		{Code: "us", Name: "U.S. Edition", Lang: kiosko.LangEnglish, Timezone: "America/New_York"},
	}
	if len(eds) != len(want) {
		t.Fatalf("got %d editions, want %d", len(eds), len(want))
	}
	for i, e := range eds {
		if e != want[i] {
			t.Errorf("edition %d = %+v, want %+v", i, e, want[i])
		}
		if _, err := time.LoadLocation(e.Timezone); err != nil {
			t.Errorf("edition %s: %v", e.Code, err)
		}
	}
}

func TestArticles(t *testing.T) {
	t.Parallel()
	arts, err := demo.Articles(now)
	if err != nil {
		t.Fatal(err)
	}
	eds, _ := demo.Editions()
	byEdition := map[string][]*kiosko.Article{}
	ids := map[string]bool{}
	for _, a := range arts {
		byEdition[a.Edition] = append(byEdition[a.Edition], a)
		t.Run(a.ID, func(t *testing.T) {
			if ids[a.ID] {
				t.Errorf("id %q appears twice", a.ID)
			}
			ids[a.ID] = true
			if !slug.MatchString(a.ID) || !strings.HasPrefix(a.ID, a.Edition+"-") {
				t.Errorf("id %q is not a slug starting with %q", a.ID, a.Edition+"-")
			}
			for field, v := range map[string]string{"title": a.Title, "standfirst": a.Standfirst, "author": a.Author()} {
				if strings.TrimSpace(v) == "" || v != strings.TrimSpace(v) {
					t.Errorf("%s %q is empty or untrimmed", field, v)
				}
			}
			if strings.Contains(a.Standfirst, ". ") || !strings.HasSuffix(a.Standfirst, ".") {
				t.Errorf("standfirst is not one sentence: %q", a.Standfirst)
			}
			body := paragraphs(a)
			if n := len(body); n < 5 || n > 8 {
				t.Errorf("%d paragraphs, want 5 to 8", n)
			}
			for i, p := range body {
				if len(strings.Fields(p)) < 20 || p != strings.TrimSpace(p) || strings.ContainsAny(p, "\n<>") {
					t.Errorf("paragraph %d is too short or not plain text: %q", i+1, p)
				}
			}
			if !kiosko.ValidAccess(a.Access) {
				t.Errorf("access %q", a.Access)
			}
			if age := now.Sub(a.PublishedAt); age <= 0 || age > 12*24*time.Hour {
				t.Errorf("published %v before now, want within the past 12 days", age)
			}
		})
	}
	if len(byEdition) != len(eds) {
		t.Errorf("articles in %d editions, want %d", len(byEdition), len(eds))
	}
	for _, e := range eds {
		list := byEdition[e.Code]
		free, open, subscriber, lastWeek := 0, 0, 0, 0
		for i, a := range list {
			switch a.Access {
			case kiosko.AccessFree:
				free++
			case kiosko.AccessOpen:
				open++
			case kiosko.AccessSubscriber:
				subscriber++
			}
			if now.Sub(a.PublishedAt) <= 7*24*time.Hour {
				lastWeek++
			}
			if i > 0 && !a.PublishedAt.Before(list[i-1].PublishedAt) {
				t.Errorf("%s: %s is not older than the article before it", e.Code, a.ID)
			}
		}
		// A visitor must be able to run the anonymous meter out and meet
		// the registration wall on a free article, still find
		// subscriber-only articles, and read public-service news that is
		// never counted.
		if limit := kiosko.DefaultMeterSettings().Anonymous; free < limit+2 || subscriber < 4 || open < 1 {
			t.Errorf("%s: %d free, %d subscriber-only, %d open; want at least %d free (the meter of %d, then a wall), 4 subscriber-only and 1 open", e.Code, free, subscriber, open, limit+2, limit)
		}
		// The weekly newsletter must have something to send.
		if lastWeek < 5 {
			t.Errorf("%s: %d articles in the past week, want at least 5", e.Code, lastWeek)
		}
	}
}

// TestLanguage checks each article reads in its edition's language, by
// counting very common words of each language.
func TestLanguage(t *testing.T) {
	t.Parallel()
	spanish := wordSet("el la los las de del que y en un una por con para se es su")
	english := wordSet("the and of to in that with for is was on it his her")
	arts, err := demo.Articles(now)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		text := a.Title + " " + a.Standfirst + " " + strings.Join(paragraphs(a), " ")
		es, en := 0, 0
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if spanish[w] {
				es++
			}
			if english[w] {
				en++
			}
		}
		mine, other := es, en
		if a.Edition == "us" {
			mine, other = en, es
		}
		if mine < 60 || other*10 > mine {
			t.Errorf("%s does not read as its edition's language: %d Spanish and %d English common words", a.ID, es, en)
		}
	}
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	if err := kiosko.ValidatePassword(demo.Password); err != nil {
		t.Errorf("demo password would be refused at sign-up: %v", err)
	}
	plans := kiosko.DefaultPlans()
	seen := map[string]bool{}
	for _, a := range demo.Accounts {
		if e, err := kiosko.NormalizeEmail(a.Email); err != nil || e != a.Email || seen[a.Email] {
			t.Errorf("email %q is invalid, not normalised or repeated", a.Email)
		}
		seen[a.Email] = true
		if a.Plan != "" {
			if _, err := plans.Find(a.Plan); err != nil {
				t.Errorf("%s: %v", a.Email, err)
			}
		}
		switch a.Role {
		case kiosko.RoleReader, kiosko.RoleEditor, kiosko.RoleAdmin:
		default:
			t.Errorf("%s: role %q", a.Email, a.Role)
		}
	}
	if len(demo.Accounts) != 6 {
		t.Errorf("%d demo accounts, want 6", len(demo.Accounts))
	}
}

// TestSeed runs Seed against the smallest store that can hold what it writes.
func TestSeed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newMemStore()
	if empty, err := demo.IsEmpty(ctx, s); err != nil || !empty {
		t.Fatalf("IsEmpty on a new store = %v, %v", empty, err)
	}
	if err := demo.Seed(ctx, s, fakeHasher{}, now); err != nil {
		t.Fatal(err)
	}
	checkSeeded(t, ctx, s)
	if err := demo.Seed(ctx, s, fakeHasher{}, now); !errors.Is(err, demo.ErrNotEmpty) {
		t.Errorf("second Seed = %v, want ErrNotEmpty", err)
	}
	if len(s.accounts) != len(demo.Accounts) {
		t.Errorf("second Seed changed the store")
	}
}

// checkSeeded asserts what a reader of the demo would notice after Seed.
func checkSeeded(t *testing.T, ctx context.Context, s kiosko.Store) {
	t.Helper()
	if empty, err := demo.IsEmpty(ctx, s); err != nil || empty {
		t.Errorf("IsEmpty after Seed = %v, %v", empty, err)
	}
	for _, code := range []string{"es", "us"} {
		if _, err := s.FindEdition(ctx, code); err != nil {
			t.Errorf("edition %s: %v", code, err)
		}
		arts, err := s.FindArticles(ctx, kiosko.ArticleFilter{Edition: code})
		if err != nil || len(arts) != 18 {
			t.Errorf("edition %s: %d articles, %v; want 18", code, len(arts), err)
		}
		week, err := s.FindArticles(ctx, kiosko.ArticleFilter{Edition: code, Since: now.Add(-7 * 24 * time.Hour)})
		if err != nil || len(week) < 5 {
			t.Errorf("edition %s: %d articles this week, %v", code, len(week), err)
		}
	}
	plans := kiosko.DefaultPlans()
	for _, d := range demo.Accounts {
		a, err := s.FindAccountByEmail(ctx, d.Email)
		if err != nil {
			t.Errorf("%s: %v", d.Email, err)
			continue
		}
		if ok, _ := (fakeHasher{}).Verify(a.PasswordHash, demo.Password); !ok || a.Role != d.Role || a.EmailVerifiedAt == nil {
			t.Errorf("%s: password, role (%q) or verified email not as documented", d.Email, a.Role)
		}
		subs, err := s.FindSubscriptionsByOwner(ctx, a.ID)
		if err != nil {
			t.Errorf("%s: %v", d.Email, err)
			continue
		}
		paid := d.Plan != "" && plans[d.Plan].Paid()
		if !paid {
			if len(subs) != 0 {
				t.Errorf("%s: %d subscriptions, want none", d.Email, len(subs))
			}
			continue
		}
		if len(subs) != 1 {
			t.Errorf("%s: %d subscriptions, want 1", d.Email, len(subs))
			continue
		}
		sub, p := subs[0], plans[d.Plan]
		wantSeats := p.Seats
		if d.Plan == kiosko.PlanBusiness {
			wantSeats = demo.BusinessSeats
		}
		if sub.PlanCode != d.Plan || sub.Status != kiosko.StatusActive || sub.Provider != kiosko.ProviderManual ||
			sub.Seats != wantSeats || sub.PriceCents != p.PriceCents || sub.Currency != p.Currency ||
			!sub.Grants(now.AddDate(0, 11, 0)) || sub.Grants(now.AddDate(1, 0, 1)) {
			t.Errorf("%s: subscription %+v", d.Email, sub)
		}
		if _, _, err := s.FindSeatForAccount(ctx, a.ID, now); err != nil {
			t.Errorf("%s holds no seat: %v", d.Email, err)
		}
	}
}

func TestSeedEditions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newMemStore()
	s.editions["us"] = &kiosko.Edition{Code: "us", Name: "Our own name", Lang: "en", Timezone: "America/Chicago"}
	for range 2 {
		if err := demo.SeedEditions(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.editions) != 2 || s.editions["es"] == nil || s.editions["us"].Name != "Our own name" {
		t.Errorf("editions after SeedEditions: %v", s.editions)
	}
	if len(s.articles) != 0 {
		t.Errorf("SeedEditions created %d articles", len(s.articles))
	}
}

// fakeHasher stands in for argon2id, which is slow on purpose.
type fakeHasher struct{}

func (fakeHasher) Hash(pw string) (string, error)    { return "fake$" + pw, nil }
func (fakeHasher) Verify(h, pw string) (bool, error) { return h == "fake$"+pw, nil }

// memStore keeps only what Seed writes; any other method panics through the
// nil embedded interface.
type memStore struct {
	kiosko.Store
	mu       sync.Mutex
	editions map[string]*kiosko.Edition
	articles []*kiosko.Article
	accounts []*kiosko.Account
	subs     []*kiosko.Subscription
}

func newMemStore() *memStore { return &memStore{editions: map[string]*kiosko.Edition{}} }

var errNotFound = &kiosko.Error{Code: kiosko.ENOTFOUND, Message: "not found"}

func (s *memStore) CreateEdition(_ context.Context, e *kiosko.Edition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.editions[e.Code] != nil {
		return &kiosko.Error{Code: kiosko.ECONFLICT}
	}
	c := *e
	s.editions[e.Code] = &c
	return nil
}

func (s *memStore) FindEdition(_ context.Context, code string) (*kiosko.Edition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.editions[code]; e != nil {
		return e, nil
	}
	return nil, errNotFound
}

func (s *memStore) FindEditions(context.Context) ([]*kiosko.Edition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kiosko.Edition
	for _, e := range s.editions {
		out = append(out, e)
	}
	return out, nil
}

func (s *memStore) CreateArticle(_ context.Context, a *kiosko.Article) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.articles {
		if b.ID == a.ID {
			return &kiosko.Error{Code: kiosko.ECONFLICT}
		}
	}
	s.articles = append(s.articles, a)
	return nil
}

func (s *memStore) FindArticles(_ context.Context, f kiosko.ArticleFilter) ([]*kiosko.Article, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kiosko.Article
	for _, a := range s.articles {
		if (f.Edition == "" || a.Edition == f.Edition) && !a.PublishedAt.Before(f.Since) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (s *memStore) CreateAccount(_ context.Context, a *kiosko.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.ID = int64(len(s.accounts) + 1)
	s.accounts = append(s.accounts, a)
	return nil
}

func (s *memStore) FindAccountByEmail(_ context.Context, email string) (*kiosko.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if a.Email == email {
			return a, nil
		}
	}
	return nil, errNotFound
}

func (s *memStore) CreateSubscription(_ context.Context, sub *kiosko.Subscription) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.ID = int64(len(s.subs) + 1)
	s.subs = append(s.subs, sub)
	return nil
}

func (s *memStore) FindSubscriptionsByOwner(_ context.Context, owner int64) ([]*kiosko.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kiosko.Subscription
	for _, sub := range s.subs {
		if sub.OwnerID == owner {
			out = append(out, sub)
		}
	}
	return out, nil
}

func (s *memStore) FindSeatForAccount(_ context.Context, account int64, at time.Time) (*kiosko.Seat, *kiosko.Subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sub := range s.subs {
		if sub.OwnerID == account && sub.Grants(at) {
			return &kiosko.Seat{SubscriptionID: sub.ID, AccountID: account, Position: 1}, sub, nil
		}
	}
	return nil, nil, errNotFound
}

// paragraphs are the plain-text paragraphs of a demo article's body.
func paragraphs(a *kiosko.Article) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(a.BodyHTML), "</p>") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, html.UnescapeString(strings.TrimPrefix(p, "<p>")))
		}
	}
	return out
}

// Package demo holds the demo publication of El Kiosko / The Kiosko, a
// fictional newspaper: two editions (es, us) with eighteen articles each
// (twelve free, enough to run the anonymous meter out, one open
// public-service story and five for subscribers), and one account per plan and role, so a fresh installation
// has something to read, sell and share the moment it starts.
//
// The articles live in embedded JSON files (articles/*.json), one per edition,
// with their age relative to the seeding time rather than a fixed date, so the
// weekly newsletter always has last week's articles to send.
package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
)

// Password is the one password of every demo account. It is public: never
// seed the demo on a server open to the internet without changing it.
const Password = "kiosko-demo-2026"

// BusinessSeats is how many seats the demo Business subscription has.
const BusinessSeats = 5

// Accounts are the demo accounts, all with Password. Plan is the plan of the
// account's own subscription ("free": none bought; "": no plan at all).
var Accounts = []struct{ Email, Plan, Role string }{
	{"free@kiosko.test", kiosko.PlanFree, kiosko.RoleReader},
	{"digital@kiosko.test", kiosko.PlanDigital, kiosko.RoleReader},
	{"premium@kiosko.test", kiosko.PlanPremium, kiosko.RoleReader},
	{"business@kiosko.test", kiosko.PlanBusiness, kiosko.RoleReader},
	{"editor@kiosko.test", kiosko.PlanDigital, kiosko.RoleEditor},
	{"admin@kiosko.test", "", kiosko.RoleAdmin},
}

// accountNames gives each demo account a display name and language, so both
// languages show up in emails and account pages.
var accountNames = map[string]struct{ name, lang string }{
	"free@kiosko.test":     {"Lectora Gratuita", kiosko.LangSpanish},
	"digital@kiosko.test":  {"Lector Digital", kiosko.LangSpanish},
	"premium@kiosko.test":  {"Premium Reader", kiosko.LangEnglish},
	"business@kiosko.test": {"Business Reader", kiosko.LangEnglish},
	"editor@kiosko.test":   {"Editora de Kiosko", kiosko.LangSpanish},
	"admin@kiosko.test":    {"Kiosko Admin", kiosko.LangEnglish},
}

// ErrNotEmpty is returned by Seed when the store already has editions.
var ErrNotEmpty = errors.New("demo: the store already holds a publication; the demo seeds only an empty one")

//go:embed articles/*.json
var files embed.FS

// editionFiles lists the embedded editions in the order they are created.
var editionFiles = []string{"articles/es.json", "articles/us.json"}

// editionFile is the shape of one embedded file.
type editionFile struct {
	Edition struct {
		Code     string `json:"code"`
		Name     string `json:"name"`
		Lang     string `json:"lang"`
		Timezone string `json:"timezone"`
	} `json:"edition"`
	Articles []struct {
		ID         string   `json:"id"`
		Title      string   `json:"title"`
		Standfirst string   `json:"standfirst"`
		Author     string   `json:"author"`
		Access     string   `json:"access"`
		Age        string   `json:"age"` // Go duration before the seeding time
		Body       []string `json:"body"`
	} `json:"articles"`
}

// edition is an embedded edition with its articles, ages parsed.
type edition struct {
	kiosko.Edition
	articles []article
}

type article struct {
	kiosko.Article // PublishedAt unset
	age            time.Duration
}

// load parses the embedded files once.
var load = sync.OnceValues(func() ([]edition, error) {
	var out []edition
	for _, name := range editionFiles {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		var f editionFile
		if err := json.Unmarshal(data, &f); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", name, err)
		}
		e := edition{Edition: kiosko.Edition{Code: f.Edition.Code, Name: f.Edition.Name, Lang: f.Edition.Lang, Timezone: f.Edition.Timezone}}
		for _, a := range f.Articles {
			age, err := time.ParseDuration(a.Age)
			if err != nil {
				return nil, fmt.Errorf("demo: %s: article %q: age: %w", name, a.ID, err)
			}
			e.articles = append(e.articles, article{
				Article: demoArticle(e.Code, a.ID, a.Title, a.Standfirst, a.Author, a.Access, a.Body),
				age:     age,
			})
		}
		out = append(out, e)
	}
	return out, nil
})

// demoArticle maps one article of the embedded files, which keep their
// first shape (one author, paragraphs of plain text), to the article
// model: the paragraphs become Markdown paragraphs and their HTML.
func demoArticle(edition, id, title, standfirst, author, access string, body []string) kiosko.Article {
	md, html := kiosko.ParagraphsBody(body)
	authors := []string{}
	if author != "" {
		authors = []string{author}
	}
	return kiosko.Article{ID: id, Edition: edition, Title: title, Standfirst: standfirst, Authors: authors,
		Access: access, BodyMarkdown: md, BodyHTML: html, Status: kiosko.StatusPublished}
}

// Editions returns the demo editions: es (Spanish) and us (English).
func Editions() ([]kiosko.Edition, error) {
	eds, err := load()
	if err != nil {
		return nil, err
	}
	out := make([]kiosko.Edition, len(eds))
	for i, e := range eds {
		out[i] = e.Edition
	}
	return out, nil
}

// Articles returns the demo articles of every edition, newest first within
// each edition, published relative to now.
func Articles(now time.Time) ([]*kiosko.Article, error) {
	eds, err := load()
	if err != nil {
		return nil, err
	}
	var out []*kiosko.Article
	for _, e := range eds {
		for _, a := range e.articles {
			art := a.Article
			art.Authors = append([]string{}, a.Authors...)
			art.PublishedAt = now.UTC().Add(-a.age).Truncate(time.Minute)
			out = append(out, &art)
		}
	}
	return out, nil
}

// IsEmpty reports whether the store has no edition yet, i.e. nothing has
// been published or seeded.
func IsEmpty(ctx context.Context, store kiosko.ArticleStore) (bool, error) {
	eds, err := store.FindEditions(ctx)
	if err != nil {
		return false, fmt.Errorf("demo: find editions: %w", err)
	}
	return len(eds) == 0, nil
}

// SeedEditions creates the two demo editions where they are absent, and
// leaves existing ones alone. A publication started without the demo
// (--seed-demo=false) still needs editions to publish and send newsletters in.
func SeedEditions(ctx context.Context, store kiosko.ArticleStore) error {
	eds, err := Editions()
	if err != nil {
		return err
	}
	for _, e := range eds {
		if _, err := store.FindEdition(ctx, e.Code); err == nil {
			continue
		} else if !kiosko.IsNotFound(err) {
			return fmt.Errorf("demo: find edition %s: %w", e.Code, err)
		}
		// Another node seeding at the same moment is not a failure.
		if err := store.CreateEdition(ctx, &e); err != nil && kiosko.ErrorCode(err) != kiosko.ECONFLICT {
			return fmt.Errorf("demo: create edition %s: %w", e.Code, err)
		}
	}
	return nil
}

// Seed fills an empty store with the demo publication: the editions, their
// articles published over the twelve days before now, and the demo Accounts,
// each with Password and, on a paid plan, an active manual subscription for
// a year. It returns ErrNotEmpty, and changes nothing, when the store already
// has editions.
func Seed(ctx context.Context, store kiosko.Store, hasher kiosko.PasswordHasher, now time.Time) error {
	now = now.UTC()
	empty, err := IsEmpty(ctx, store)
	if err != nil {
		return err
	}
	if !empty {
		return ErrNotEmpty
	}
	if err := SeedEditions(ctx, store); err != nil {
		return err
	}
	arts, err := Articles(now)
	if err != nil {
		return err
	}
	for _, a := range arts {
		if err := store.CreateArticle(ctx, a); err != nil {
			return fmt.Errorf("demo: create article %s: %w", a.ID, err)
		}
	}
	plans := kiosko.DefaultPlans()
	for _, d := range Accounts {
		if err := seedAccount(ctx, store, hasher, plans, d.Email, d.Plan, d.Role, now); err != nil {
			return err
		}
	}
	return nil
}

func seedAccount(ctx context.Context, store kiosko.Store, hasher kiosko.PasswordHasher, plans kiosko.Plans, email, planCode, role string, now time.Time) error {
	hash, err := hasher.Hash(Password)
	if err != nil {
		return fmt.Errorf("demo: hash password: %w", err)
	}
	who := accountNames[email]
	verified := now
	a := &kiosko.Account{Email: email, Name: who.name, PasswordHash: hash, Role: role, Lang: who.lang,
		EmailVerifiedAt: &verified, PasswordChangedAt: now, CreatedAt: now}
	if err := store.CreateAccount(ctx, a); err != nil {
		return fmt.Errorf("demo: create account %s: %w", email, err)
	}
	if planCode == "" {
		return nil
	}
	plan, err := plans.Find(planCode)
	if err != nil {
		return fmt.Errorf("demo: account %s: %w", email, err)
	}
	if !plan.Paid() {
		return nil
	}
	seats := plan.Seats
	if plan.SeatsPerUnit {
		seats = BusinessSeats
	}
	sub := &kiosko.Subscription{
		OwnerID:          a.ID,
		PlanCode:         plan.Code,
		Status:           kiosko.StatusActive,
		Seats:            seats,
		PriceCents:       plan.PriceCents,
		Currency:         plan.Currency,
		Provider:         kiosko.ProviderManual,
		ProviderRef:      "demo-" + email, // unique, in case a store indexes (provider, ref)
		CurrentPeriodEnd: now.AddDate(1, 0, 0),
		CreatedAt:        now,
	}
	if err := store.CreateSubscription(ctx, sub); err != nil {
		return fmt.Errorf("demo: subscription of %s: %w", email, err)
	}
	return nil
}

package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// lockedBuffer is a log destination tests read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged is startMain with the log kept, on a given data directory.
func startWithLog(t *testing.T, data string, args ...string) (*Main, *lockedBuffer) {
	t.Helper()
	cfg, err := parseConfig(flag.NewFlagSet("test", flag.ContinueOnError), append([]string{"--addr", "127.0.0.1:0", "--data", data, "--newsletter-day", "off"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	buf := &lockedBuffer{}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(buf, nil)))
	m.Hasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, buf
}

// TestPlansJSONImportedOnce: the first start imports plans.json into the
// database and says so; later starts ignore the file (and say that).
func TestPlansJSONImportedOnce(t *testing.T) {
	data := t.TempDir()
	plans := kiosko.DefaultPlans()
	plans[kiosko.PlanPremium].PriceCents = 1777
	b, _ := kiosko.MarshalPlans(plans)
	if err := os.WriteFile(filepath.Join(data, "plans.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	m, log := startWithLog(t, data)
	if !strings.Contains(log.String(), "plans imported into the database from plans.json") {
		t.Fatalf("no log line says plans.json was imported:\n%s", log.String())
	}
	if p, err := m.Plans.Find(kiosko.PlanPremium); err != nil || p.PriceCents != 1777 {
		t.Fatalf("premium after the import: %+v %v", p, err)
	}
	m.Close()
	plans[kiosko.PlanPremium].PriceCents = 2999
	b, _ = kiosko.MarshalPlans(plans)
	if err := os.WriteFile(filepath.Join(data, "plans.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	m2, log2 := startWithLog(t, data)
	if !strings.Contains(log2.String(), "plans.json was imported once and is ignored") {
		t.Fatalf("the second start does not say plans.json is ignored:\n%s", log2.String())
	}
	if p, _ := m2.Plans.Find(kiosko.PlanPremium); p.PriceCents != 1777 {
		t.Fatalf("an edited plans.json changed the plans after the import: %d", p.PriceCents)
	}
}

// editPlan saves premium at a new price through the console, confirmed.
func editPlan(t *testing.T, b *browser, price string) {
	t.Helper()
	form := url.Values{"code": {"premium"}, "name_es": {"Premium"}, "name_en": {"Premium"}, "price": {price}, "currency": {"EUR"},
		"period": {"month"}, "seats": {"2"}, "readers_per_seat": {"1"}}
	code, body, _ := b.post("/admin/plans", form)
	if code != 200 || !strings.Contains(body, `name="confirm" value="yes"`) {
		t.Fatalf("saving a plan does not ask first: %d", code)
	}
	form.Set("confirm", "yes")
	if code, body, _ := b.post("/admin/plans", form); code != http.StatusSeeOther {
		t.Fatalf("saving the plan: %d\n%s", code, body)
	}
}

// TestConsolePlans: an admin edits a plan and adds one; the public plans
// page shows them at once; bad input changes nothing.
func TestConsolePlans(t *testing.T) {
	m := startMain(t)
	b := newBrowser(t, m)
	b.signIn("admin@kiosko.test", demo.Password)
	if code, body := b.get("/admin/plans"); code != 200 || !strings.Contains(body, "<code>business</code>") {
		t.Fatalf("plans page: %d", code)
	}
	editPlan(t, b, "21,50")
	if _, body := newBrowser(t, m).get("/plans"); !strings.Contains(body, "21,50") {
		t.Fatal("the public plans page does not show the new price")
	}
	for _, bad := range []url.Values{
		{"code": {"premium"}, "name_es": {"P"}, "name_en": {"P"}, "price": {"abc"}, "currency": {"EUR"}, "period": {"month"}, "seats": {"2"}, "readers_per_seat": {"1"}, "confirm": {"yes"}},
		{"code": {"premium"}, "name_es": {""}, "name_en": {"P"}, "price": {"1"}, "currency": {"EUR"}, "period": {"month"}, "seats": {"2"}, "readers_per_seat": {"1"}, "confirm": {"yes"}},
		{"code": {"Bad Code"}, "name_es": {"P"}, "name_en": {"P"}, "price": {"1"}, "currency": {"EUR"}, "period": {"month"}, "seats": {"2"}, "readers_per_seat": {"1"}, "confirm": {"yes"}},
		{"code": {"premium"}, "name_es": {"P"}, "name_en": {"P"}, "price": {"1"}, "currency": {"euro"}, "period": {"week"}, "seats": {"2"}, "readers_per_seat": {"1"}, "confirm": {"yes"}},
	} {
		code, body, _ := b.post("/admin/plans", bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `class="error" role="alert"`) {
			t.Errorf("bad plan %v: %d", bad, code)
		}
	}
	if p, _ := m.Plans.Find(kiosko.PlanPremium); p.PriceCents != 2150 || p.Names["es"] != "Premium" {
		t.Fatalf("bad input changed the plan: %+v", p)
	}
	form := url.Values{"code": {"weekend"}, "name_es": {"Fin de semana"}, "name_en": {"Weekend"}, "price": {"4.99"}, "currency": {"EUR"},
		"period": {"month"}, "seats": {"1"}, "readers_per_seat": {"1"}, "confirm": {"yes"}}
	if code, _, _ := b.post("/admin/plans", form); code != http.StatusSeeOther {
		t.Fatalf("new plan: %d", code)
	}
	if _, body := newBrowser(t, m).get("/plans"); !strings.Contains(body, "Fin de semana") {
		t.Fatal("the new plan is not on the public plans page")
	}
	evs, _ := m.Store.FindEvents(context.Background(), kiosko.EventFilter{Types: []string{kiosko.EventAdminPlanSaved}})
	admin, _ := m.Store.FindAccountByEmail(context.Background(), "admin@kiosko.test")
	if len(evs) != 2 || evs[0].ActorID != admin.ID {
		t.Fatalf("plan saves recorded: %+v", evs)
	}
}

// TestPlansSharedAcrossNodes: two servers on one PostgreSQL; a plan saved
// in the console of one is what the other shows on its next request.
func TestPlansSharedAcrossNodes(t *testing.T) {
	dbURL := pgtest.URL(t)
	secret := strings.Repeat("k", 40)
	n1 := startMain(t, "--database-url", dbURL, "--secret", secret)
	n2 := startMain(t, "--database-url", dbURL, "--secret", secret, "--seed-demo=false")
	admin := newBrowser(t, n1)
	admin.signIn("admin@kiosko.test", demo.Password)
	for _, price := range []string{"17.25", "18.75"} {
		editPlan(t, admin, price)
		want := strings.Replace(price, ".", ",", 1)
		if _, body := newBrowser(t, n2).get("/plans"); !strings.Contains(body, want) {
			t.Fatalf("node 2 does not show the price %s saved on node 1", want)
		}
		if p, _ := n2.Plans.Find(kiosko.PlanPremium); kiosko.PriceFor(p, 2) != parseCentsForTest(price) {
			t.Fatalf("node 2 sells premium at %d", p.PriceCents)
		}
	}
}

func parseCentsForTest(s string) int64 {
	var w, f int64
	parts := strings.SplitN(s, ".", 2)
	for _, c := range parts[0] {
		w = w*10 + int64(c-'0')
	}
	for _, c := range parts[1] {
		f = f*10 + int64(c-'0')
	}
	return w*100 + f
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
)

func membersCLI(t *testing.T, m *Main, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	// Flags go before the file name.
	args = append([]string{"members", args[0], "--data", m.Config.Data}, args[1:]...)
	err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

// listImport runs `kiosko newsletter import --edition E FILE` on m's database.
func listImport(t *testing.T, m *Main, edition, file string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"newsletter", "import", "--edition", edition, "--data", m.Config.Data, file}, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("newsletter import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const ghostHeader = "id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels,tiers\n"

// TestGhostMembersImportHonoursConsent imports a Ghost members file: a bad
// file changes nothing and names every bad row; subscribed_to_emails=false
// is never sent the newsletter, even when an earlier `newsletter import`
// had the address confirmed; complimentary_plan=true becomes a manual
// grant; a Ghost export of kiosko reads back.
func TestGhostMembersImportHonoursConsent(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr)
	ctx := context.Background()

	// An earlier list import confirmed bob; Ghost says he unsubscribed.
	listImport(t, m, "es", writeFile(t, "list.csv", "email,name\nbob@example.com,Bob\n"))

	bad := writeFile(t, "members.csv", ghostHeader+
		"g1,ana@example.com,Ana,,true,true,cus_ana,2024-01-05T10:00:00.000Z,,VIP,Gold\n"+
		"g2,not-an-address,X,,true,false,,,,,\n"+
		"g3,carl@example.com,Carl,,maybe,false,,,,,\n")
	out, err := membersCLI(t, m, "import", "--format", "ghost", "--edition", "es", bad)
	if err == nil || !strings.Contains(err.Error(), "members.csv:3: ") || !strings.Contains(err.Error(), "members.csv:4: subscribed_to_emails \"maybe\"") ||
		!strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("bad file: %v\n%s", err, out)
	}
	if _, err := m.Store.FindAccountByEmail(ctx, "ana@example.com"); !kiosko.IsNotFound(err) {
		t.Fatalf("a bad file imported a row: %v", err)
	}
	// Which newsletter does "subscribed" mean? The command asks.
	good := writeFile(t, "ghost.csv", ghostHeader+
		"g1,ana@example.com,Ana,,true,true,cus_ana,2024-01-05T10:00:00.000Z,,VIP,Gold\n"+
		"g4,bob@example.com,Bob,,false,false,,2024-02-01T00:00:00.000Z,,,\n"+
		"g5,gone@example.com,Gone,,true,false,,2024-02-01T00:00:00.000Z,2024-03-01T00:00:00.000Z,,\n"+
		"g6,dan@example.com,Dan,,TRUE,false,,,,,\n")
	if out, err := membersCLI(t, m, "import", "--format", "ghost", good); err == nil || !strings.Contains(err.Error(), "--edition") {
		t.Fatalf("subscribed rows without --edition: %v %s", err, out)
	}
	out, err = membersCLI(t, m, "import", "--format", "ghost", "--edition", "es", good)
	if err != nil || !strings.Contains(out, "3 new account(s)") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	ana, err := m.Store.FindAccountByEmail(ctx, "ana@example.com")
	if err != nil || ana.Name != "Ana" || ana.EmailVerifiedAt == nil || !ana.CreatedAt.Equal(time.Date(2024, 1, 5, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("ana = %+v, %v", ana, err)
	}
	if _, sub, err := m.Store.FindSeatForAccount(ctx, ana.ID, time.Now()); err != nil || sub.PlanCode != kiosko.PlanDigital || sub.Provider != kiosko.ProviderManual {
		t.Errorf("complimentary plan: %+v, %v", sub, err)
	}
	if ref, err := m.Store.FindBillingCustomer(ctx, ana.ID, kiosko.ProviderStripe); err != nil || ref != "cus_ana" {
		t.Errorf("stripe customer = %q, %v", ref, err)
	}
	if _, err := m.Store.FindAccountByEmail(ctx, "gone@example.com"); !kiosko.IsNotFound(err) {
		t.Errorf("a member deleted in Ghost was imported: %v", err)
	}
	// An imported member has no password until they set one.
	b := newBrowser(t, m)
	if code, _, _ := b.post("/signin", map[string][]string{"email": {"ana@example.com"}, "password": {""}}); code == 303 {
		t.Fatal("an imported account signs in without a password")
	}

	// The real send: ana and dan get the issue, bob does not.
	newsletterCLI(t, m, mp, "send", "--edition", "es")
	mp.WaitFor(t, "ana@example.com", 1)
	mp.WaitFor(t, "dan@example.com", 1)
	for _, msg := range mp.To(t, "bob@example.com") {
		if !strings.Contains(msg.Subject, "Confirma") {
			t.Errorf("bob, who unsubscribed in Ghost, got %q", msg.Subject)
		}
	}
	if n := len(mp.To(t, "bob@example.com")); n != 0 {
		t.Errorf("bob got %d email(s)", n)
	}
	// A later list import does not bring bob back either.
	listImport(t, m, "es", writeFile(t, "again.csv", "email\nbob@example.com\n"))
	if s, err := m.Store.FindSubscriber(ctx, "es", "bob@example.com"); err != nil || s.Status != kiosko.SubscriberUnsubscribed {
		t.Errorf("bob's subscription = %+v, %v", s, err)
	}

	// Export to Ghost's format and back into an empty site: nothing lost.
	exported, err := membersCLI(t, m, "export", "--format", "ghost")
	if err != nil || !strings.HasPrefix(exported, strings.TrimSuffix(ghostHeader, "\n")) {
		t.Fatalf("export: %v\n%s", err, exported)
	}
	for _, want := range []string{",ana@example.com,Ana,,true,true,cus_ana,2024-01-05T10:00:00.000Z,,,digital", ",bob@example.com,Bob,,false,false,"} {
		if !strings.Contains(exported, want) {
			t.Errorf("ghost export lacks %q:\n%s", want, exported)
		}
	}
}

// TestKioskoMembersRoundTrip exports every member in kiosko's format and
// imports the file into an empty site: the second export is the same.
func TestKioskoMembersRoundTrip(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr)
	listImport(t, m, "us", writeFile(t, "list.csv", "email,name\nreader@example.com,Reader\n"))
	first, err := membersCLI(t, m, "export")
	if err != nil {
		t.Fatal(err)
	}
	csv := first[:strings.LastIndex(first, "exported")]
	if !strings.Contains(csv, "digital@kiosko.test") || !strings.Contains(csv, "reader@example.com,Reader,,") || !strings.Contains(csv, ",us,,no") {
		t.Fatalf("export:\n%s", csv)
	}
	other := startMain(t, "--seed-demo=false", "--smtp-addr", mp.SMTPAddr)
	if out, err := membersCLI(t, other, "import", writeFile(t, "kiosko.csv", csv)); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	second, err := membersCLI(t, other, "export")
	if err != nil {
		t.Fatal(err)
	}
	if got := second[:strings.LastIndex(second, "exported")]; got != csv {
		t.Errorf("round trip changed the file:\n--- first\n%s\n--- second\n%s", csv, got)
	}
}

// TestNewsletterImportHonoursSubscribedToEmails: a Ghost file given to
// `kiosko newsletter import` keeps its unsubscribed members unsubscribed,
// and the real send (Mailpit) reaches only those who consented.
func TestNewsletterImportHonoursSubscribedToEmails(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr)
	listImport(t, m, "es", writeFile(t, "before.csv", "email\nno@example.com\n"))
	out := listImport(t, m, "es", writeFile(t, "ghost.csv", ghostHeader+
		"g1,yes@example.com,Yes,,true,false,,,,,\n"+
		"g2,no@example.com,No,,false,false,,,,,\n"+
		"g3,never@example.com,Never,,false,false,,,,,\n"))
	if !strings.Contains(out, "2 row(s) with subscribed_to_emails=false") {
		t.Errorf("import output: %s", out)
	}
	newsletterCLI(t, m, mp, "send", "--edition", "es")
	mp.WaitFor(t, "yes@example.com", 1)
	for _, addr := range []string{"no@example.com", "never@example.com"} {
		if n := len(mp.To(t, addr)); n != 0 {
			t.Errorf("%s, who gave no consent, got %d email(s)", addr, n)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
)

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/newsletter/confirm\?token=[A-Za-z0-9_%-]+`)

// signUpBox finds the newsletter box on an article page of edition and
// signs email up with it, as an anonymous reader would; it returns the
// answer's status and page.
func signUpBox(t *testing.T, b *browser, edition, email string) (int, string) {
	t.Helper()
	_, front := b.get("/" + edition + "/")
	ids := articleIDs(t, front, edition)
	if len(ids) == 0 {
		t.Fatalf("no articles on the %s front page", edition)
	}
	path := "/" + edition + "/" + ids[0]
	code, page := b.get(path)
	if code != http.StatusOK || !strings.Contains(page, `id="newsletter-box"`) ||
		!strings.Contains(page, `action="/newsletter"`) || !strings.Contains(page, `name="edition" value="`+edition+`"`) {
		t.Fatalf("article page %s (%d) has no newsletter sign-up box for %s", path, code, edition)
	}
	code, body, _ := b.post("/newsletter", url.Values{"edition": {edition}, "email": {email}, "next": {path}})
	return code, body
}

// newsletterCLI runs "kiosko newsletter ARGS" in-process on m's database
// and mail server and returns its standard output.
func newsletterCLI(t *testing.T, m *Main, mp *mailpit.Server, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args = append([]string{"newsletter"}, append(args, "--data", m.Config.Data, "--smtp-addr", mp.SMTPAddr,
		"--public-url", m.Config.PublicURL, "--quiet")...)
	if err := run(context.Background(), args, strings.NewReader(""), &stdout, &stderr); err != nil {
		t.Fatalf("kiosko %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// pathOf returns the path and query of an absolute link of m's site.
func pathOf(t *testing.T, m *Main, link string) string {
	t.Helper()
	if !strings.HasPrefix(link, m.Config.PublicURL+"/") {
		t.Fatalf("link %q is not on the public URL %s", link, m.Config.PublicURL)
	}
	return strings.TrimPrefix(link, m.Config.PublicURL)
}

// TestNewsletterJourney: an anonymous reader signs up with the box on an
// article page, confirms by email, gets the weekly issue sent by
// "kiosko newsletter send" in the edition's language, unsubscribes with
// the mail client's one-click POST, and gets nothing more.
func TestNewsletterJourney(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr)
	ctx := context.Background()
	const email = "lectora@example.com"
	reader := newBrowser(t, m)

	code, body := signUpBox(t, reader, "es", "  Lectora@Example.com ")
	if code != http.StatusOK || !strings.Contains(body, "Revisa tu correo") {
		t.Fatalf("sign-up answer %d is not the Spanish check-your-inbox page:\n%s", code, body)
	}
	confirm := mp.WaitFor(t, email, 1)[0]
	if confirm.Subject != "Confirma tu suscripción al boletín de "+edName(t, m, "es") {
		t.Errorf("confirmation subject = %q", confirm.Subject)
	}
	link := confirmLink.FindString(confirm.Text)
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", confirm.Text)
	}
	// The link shows a button; following it alone (as mail scanners do)
	// confirms nothing.
	code, page := reader.get(pathOf(t, m, link))
	if code != http.StatusOK || !strings.Contains(page, `action="/newsletter/confirm"`) {
		t.Fatalf("confirmation page: %d\n%s", code, page)
	}
	if s, err := m.Store.FindSubscriber(ctx, "es", email); err != nil || s.Status != kiosko.SubscriberPending {
		t.Fatalf("after opening the link: %+v, %v; want pending", s, err)
	}
	u, _ := url.Parse(link)
	code, page, _ = reader.post("/newsletter/confirm", url.Values{"token": {u.Query().Get("token")}})
	if code != http.StatusOK || !strings.Contains(page, "Suscripción confirmada") {
		t.Fatalf("confirm: %d\n%s", code, page)
	}

	// The week's issue, sent by the operator's command.
	now := time.Now().UTC()
	week, err := m.Store.FindArticles(ctx, kiosko.ArticleFilter{Edition: "es", Since: now.Add(-7 * 24 * time.Hour), Until: now, Limit: 20})
	if err != nil || len(week) == 0 {
		t.Fatalf("the demo publication has no articles this week: %v", err)
	}
	out := newsletterCLI(t, m, mp, "send", "--edition", "es")
	if !strings.Contains(out, "1 sent now") {
		t.Fatalf("first send: %s", out)
	}
	issue := mp.WaitFor(t, email, 2)[1]
	if !strings.Contains(issue.Subject, "lo mejor de la semana") {
		t.Errorf("issue subject not in Spanish: %q", issue.Subject)
	}
	if !strings.Contains(issue.Text, "Hola:") || !strings.Contains(issue.Text, "Leer la noticia") {
		t.Errorf("issue text not in Spanish:\n%s", issue.Text)
	}
	for _, a := range week {
		articleURL := m.Config.PublicURL + "/es/" + a.ID
		for what, want := range map[string]string{"headline": a.Title, "standfirst": a.Standfirst, "link": articleURL} {
			if want == "" {
				continue
			}
			if !strings.Contains(issue.Text, want) {
				t.Errorf("text part lacks the %s of %s: %q", what, a.ID, want)
			}
			if !strings.Contains(html.UnescapeString(issue.HTML), want) {
				t.Errorf("HTML part lacks the %s of %s: %q", what, a.ID, want)
			}
		}
	}
	if old, err := m.Store.FindArticles(ctx, kiosko.ArticleFilter{Edition: "es", Until: now.Add(-8 * 24 * time.Hour), Limit: 1}); err == nil && len(old) > 0 &&
		strings.Contains(issue.Text, old[0].Title) {
		t.Errorf("the issue lists %s, published before the week", old[0].ID)
	}
	unsub := issue.Header("List-Unsubscribe")
	if !strings.HasPrefix(unsub, "<"+m.Config.PublicURL+"/newsletter/unsubscribe?token=") || !strings.HasSuffix(unsub, ">") {
		t.Fatalf("List-Unsubscribe = %q, want a link on %s", unsub, m.Config.PublicURL)
	}
	if got := issue.Header("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}

	// The mail client's one-click POST (RFC 8058): no cookies, no sign-in.
	res, err := http.Post(strings.Trim(unsub, "<>"), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: status %d", res.StatusCode)
	}
	if s, err := m.Store.FindSubscriber(ctx, "es", email); err != nil || s.Status != kiosko.SubscriberUnsubscribed {
		t.Fatalf("after one-click: %+v, %v; want unsubscribed", s, err)
	}

	// Sending again mails nobody.
	before := mp.Count(t)
	out = newsletterCLI(t, m, mp, "send", "--edition", "es")
	if !strings.Contains(out, "0 sent now") {
		t.Errorf("second send: %s", out)
	}
	// The command sends before it returns and Mailpit stores a message
	// before it accepts it: the count is final once the command is done.
	if got := mp.Count(t); got != before {
		t.Errorf("the second send mailed %d message(s)", got-before)
	}
}

// TestNewsletterSignUpLanguageAndRepeats: the us edition's confirmation is
// in English whatever the browser's language; repeating a sign-up answers
// the same and sends one confirmation, not one per attempt.
func TestNewsletterSignUpLanguageAndRepeats(t *testing.T) {
	mp := mailpit.Start(t)
	m := startMain(t, "--smtp-addr", mp.SMTPAddr)
	const email = "reader@example.com"
	b := newBrowser(t, m) // Accept-Language: es

	code, first := signUpBox(t, b, "us", email)
	if code != http.StatusOK || !strings.Contains(first, "Check your inbox") {
		t.Fatalf("us sign-up answer %d is not the English check-your-inbox page:\n%s", code, first)
	}
	msg := mp.WaitFor(t, email, 1)[0]
	if msg.Subject != "Confirm your subscription to the "+edName(t, m, "us")+" newsletter" {
		t.Errorf("us confirmation subject = %q", msg.Subject)
	}
	if !strings.Contains(msg.Text, "Hello") || confirmLink.FindString(msg.Text) == "" {
		t.Errorf("us confirmation text:\n%s", msg.Text)
	}

	// Repeats while pending: the same answer, no new email (a pending
	// address is mailed again only after ResendAfter, 10 minutes).
	answer := func(page string) string {
		i := strings.Index(page, "Check your inbox")
		if i < 0 {
			return ""
		}
		j := strings.Index(page[i:], "</p>")
		if j < 0 {
			return page[i:]
		}
		return page[i : i+j]
	}
	for i := range 3 {
		code, again := signUpBox(t, b, "us", email)
		if code != http.StatusOK || answer(again) == "" || answer(again) != answer(first) {
			t.Fatalf("repeat %d answered %d differently:\n%s", i+1, code, answer(again))
		}
	}
	for i := range 3 {
		res, err := http.Post(m.URL()+"/api/v1/newsletter/subscriptions", "application/json",
			strings.NewReader(`{"email":"`+email+`","edition":"us"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("API repeat %d: status %d", i+1, res.StatusCode)
		}
	}
	// A sign-up sends its email before it answers, so once another
	// address's confirmation is in, any second one for email would be too.
	barrier := func(addr string) {
		t.Helper()
		if code, _ := signUpBox(t, b, "us", addr); code != http.StatusOK {
			t.Fatalf("sign-up of %s: %d", addr, code)
		}
		mp.WaitFor(t, addr, 1)
	}
	barrier("barrier1@example.com")
	if got := len(mp.To(t, email)); got != 1 {
		t.Fatalf("%d confirmation emails after 7 sign-ups, want 1", got)
	}

	// Confirmed: signing up again answers the same and mails nothing.
	u, _ := url.Parse(confirmLink.FindString(msg.Text))
	if code, page, _ := b.post("/newsletter/confirm", url.Values{"token": {u.Query().Get("token")}}); code != http.StatusOK || !strings.Contains(page, "You are subscribed") {
		t.Fatalf("confirm: %d\n%s", code, page)
	}
	if code, again := signUpBox(t, b, "us", email); code != http.StatusOK || answer(again) != answer(first) {
		t.Fatalf("sign-up when confirmed answered %d differently", code)
	}
	barrier("barrier2@example.com")
	if got := len(mp.To(t, email)); got != 1 {
		t.Fatalf("%d emails after signing up when confirmed, want 1", got)
	}
	// The same address on the other edition is a sign-up of its own, in
	// that edition's language.
	signUpBox(t, b, "es", email)
	for _, m := range mp.WaitFor(t, email, 2) {
		if strings.HasPrefix(m.Subject, "Confirma tu suscripción") {
			return
		}
	}
	t.Fatal("no Spanish confirmation for the es edition")
}

func edName(t *testing.T, m *Main, code string) string {
	t.Helper()
	ed, err := m.Store.FindEdition(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return ed.Name
}

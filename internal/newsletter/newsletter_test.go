package newsletter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/mailpit"
)

func TestDoubleOptIn(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	ctx := context.Background()

	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "es", Email: "  Ana@Example.COM ", Name: "Ana"}); err != nil {
		t.Fatal(err)
	}
	msg := mp.WaitFor(t, "ana@example.com", 1)[0]
	if msg.Subject != "Confirma tu suscripción al boletín de El Kiosko" {
		t.Errorf("subject = %q", msg.Subject)
	}
	// No greeting by name: the form's name is whoever filled it's words.
	if !strings.Contains(msg.Text, "Hola:") || strings.Contains(msg.Text, "Ana") || !strings.Contains(msg.HTML, "Sí, quiero recibir el boletín") {
		t.Errorf("confirmation not in Spanish: %q", msg.Text)
	}
	if s := e.subscriber(t, "es", "ana@example.com"); s.Status != kiosko.SubscriberPending {
		t.Fatalf("status = %s before confirming", s.Status)
	}
	// Pending addresses receive no issue.
	rep, err := e.n.SendIssue(ctx, "es", kiosko.SendOptions{})
	if err != nil || rep.Sent != 0 {
		t.Fatalf("send to pending: %+v, %v", rep, err)
	}

	// A repeated sign-up answers the same and does not mail again at once.
	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "es", Email: "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	token := tokenFrom(t, msg.Text, "/newsletter/confirm")
	s, err := e.n.Confirm(ctx, token)
	if err != nil || s.Status != kiosko.SubscriberConfirmed {
		t.Fatalf("confirm: %+v, %v", s, err)
	}
	// A second click answers the same.
	if s, err := e.n.Confirm(ctx, token); err != nil || s.Status != kiosko.SubscriberConfirmed {
		t.Fatalf("second confirm: %+v, %v", s, err)
	}
	if _, err := e.n.Confirm(ctx, "not-a-token"); kiosko.ErrorCode(err) != kiosko.ENOTFOUND {
		t.Fatalf("bad token: %v", err)
	}
	// Signing up when confirmed sends nothing.
	e.clock.Add(time.Hour)
	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "es", Email: "ana@example.com"}); err != nil {
		t.Fatal(err)
	}
	// Subscribe sends before it returns, and Mailpit stores a message
	// before accepting it: the count is final here.
	if got := mp.To(t, "ana@example.com"); len(got) != 1 {
		t.Fatalf("%d emails, want only the confirmation", len(got))
	}
	// Now the issue goes out.
	e.n.Settings.LockTTL = time.Second
	rep, err = e.n.SendIssue(ctx, "es", kiosko.SendOptions{})
	if err != nil || rep.Sent != 1 {
		t.Fatalf("send: %+v, %v", rep, err)
	}
	mp.WaitFor(t, "ana@example.com", 2)

	// After unsubscribing, the old confirmation link does not bring them back.
	if _, err := e.n.Unsubscribe(ctx, e.subscriber(t, "es", "ana@example.com").UnsubscribeToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.n.Confirm(ctx, token); kiosko.ErrorCode(err) != kiosko.ENOTFOUND {
		t.Fatalf("confirm after unsubscribe: %v", err)
	}
}

func TestSubscribeValidates(t *testing.T) {
	t.Parallel()
	e := setup(t, "")
	ctx := context.Background()
	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "xx", Email: "a@example.com"}); kiosko.ErrorKey(err) != "error.newsletter_edition_unknown" {
		t.Errorf("unknown edition: %v", err)
	}
	if err := e.n.Subscribe(ctx, kiosko.SubscribeRequest{Edition: "es", Email: "not an email"}); kiosko.ErrorCode(err) != kiosko.EINVALID {
		t.Errorf("bad email: %v", err)
	}
}

func TestIssueContentAndHeadersInBothLanguages(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	ctx := context.Background()
	e.confirmed(t, "es", "lector@example.com")
	e.confirmed(t, "us", "reader@example.com")
	for _, ed := range []string{"es", "us"} {
		if rep, err := e.n.SendIssue(ctx, ed, kiosko.SendOptions{}); err != nil || rep.Sent != 1 {
			t.Fatalf("%s: %+v, %v", ed, rep, err)
		}
	}
	for _, tc := range []struct {
		to, subject   string
		want, wantNot []string
	}{
		{"lector@example.com", "El Kiosko: lo mejor de la semana, 13 de febrero de 2026",
			[]string{"Hola, lector:", "El Congreso aprueba los presupuestos", "La votación salió adelante por dos votos.", "Por Lucía Gómez",
				publicURL + "/es/es-presupuestos", publicURL + "/es/es-sequia", "Darse de baja"},
			[]string{"Noticia de hace un mes", "tram"}},
		{"reader@example.com", "The Kiosko: the week's news, February 13, 2026",
			[]string{"Hello reader,", "City council backs the new tram line", "Construction starts in the spring.", "By Sam Lee",
				publicURL + "/us/us-transit", "Unsubscribe"},
			[]string{"Last month's story", "presupuestos"}},
	} {
		m := mp.WaitFor(t, tc.to, 1)[0]
		if m.Subject != tc.subject {
			t.Errorf("%s: subject = %q, want %q", tc.to, m.Subject, tc.subject)
		}
		for _, part := range []struct{ name, body string }{{"text", m.Text}, {"html", m.HTML}} {
			for _, w := range tc.want {
				if !strings.Contains(part.body, w) {
					t.Errorf("%s %s lacks %q", tc.to, part.name, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(part.body, w) {
					t.Errorf("%s %s has %q", tc.to, part.name, w)
				}
			}
		}
		s := e.subscriber(t, map[bool]string{true: "es", false: "us"}[strings.HasPrefix(tc.to, "lector")], tc.to)
		wantUnsub := "<" + publicURL + "/newsletter/unsubscribe?token=" + s.UnsubscribeToken + ">"
		if h := m.Header("List-Unsubscribe"); h != wantUnsub {
			t.Errorf("%s: List-Unsubscribe = %q, want %q", tc.to, h, wantUnsub)
		}
		if h := m.Header("List-Unsubscribe-Post"); h != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Unsubscribe-Post = %q", tc.to, h)
		}
		if !strings.Contains(m.HTML, `href="`+publicURL+`/newsletter/unsubscribe?token=`+s.UnsubscribeToken+`"`) {
			t.Errorf("%s: footer unsubscribe link missing", tc.to)
		}
	}
}

func TestOneClickUnsubscribeStopsIssues(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	ctx := context.Background()
	e.confirmed(t, "us", "stays@example.com", "leaves@example.com")
	if _, err := e.n.SendIssue(ctx, "us", kiosko.SendOptions{}); err != nil {
		t.Fatal(err)
	}
	m := mp.WaitFor(t, "leaves@example.com", 1)[0]
	token := tokenFrom(t, m.Header("List-Unsubscribe"), "/newsletter/unsubscribe")
	for range 2 { // twice: harmless
		s, err := e.n.Unsubscribe(ctx, token)
		if err != nil || s.Status != kiosko.SubscriberUnsubscribed {
			t.Fatalf("unsubscribe: %+v, %v", s, err)
		}
	}
	// Next week's issue reaches only the one who stayed.
	e.clock.Add(7 * 24 * time.Hour)
	if err := e.db.CreateArticle(ctx, &kiosko.Article{ID: "us-next", Edition: "us", Title: "Next week", Access: kiosko.AccessFree, PublishedAt: e.clock.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.n.SendIssue(ctx, "us", kiosko.SendOptions{})
	if err != nil || rep.Sent != 1 {
		t.Fatalf("second week: %+v, %v", rep, err)
	}
	mp.WaitFor(t, "stays@example.com", 2)
	if got := mp.To(t, "leaves@example.com"); len(got) != 1 {
		t.Fatalf("unsubscribed address got %d messages", len(got))
	}
	// An import does not bring them back.
	rep2, err := e.n.Import(ctx, "us", strings.NewReader("email\nleaves@example.com\n"), nil)
	if err != nil || len(rep2.Refused) != 1 || !strings.Contains(rep2.Refused[0].Reason, "unsubscribed") {
		t.Fatalf("import: %+v, %v", rep2, err)
	}
}

func TestSendingTwiceSendsOnce(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	ctx := context.Background()
	e.confirmed(t, "es", "a@example.com", "b@example.com")
	if rep, err := e.n.SendIssue(ctx, "es", kiosko.SendOptions{}); err != nil || rep.Sent != 2 {
		t.Fatalf("%+v, %v", rep, err)
	}
	// A new subscriber joins; a second run sends only to them.
	e.confirmed(t, "es", "c@example.com")
	rep, err := e.n.SendIssue(ctx, "es", kiosko.SendOptions{})
	if err != nil || rep.Sent != 1 || rep.Counts.Sent != 3 {
		t.Fatalf("%+v, %v", rep, err)
	}
	mp.WaitFor(t, "c@example.com", 1)
	if n := mp.Count(t); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
}

// TestSendWhileEnqueueing sends while the deliveries are still being
// added, a few subscribers at a time, in batches that do not divide the
// list: everyone gets the issue once, on both databases.
func TestSendWhileEnqueueing(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB, string) *env{"sqlite": setup, "postgres": setupPostgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := startFlakySMTP(t, 0)
			e := open(t, srv.addr)
			e.n.Settings.EnqueueChunk, e.n.Settings.BatchSize = 7, 3
			emails := make([]string, 100)
			for i := range emails {
				emails[i] = fmt.Sprintf("chunk%03d@example.com", i)
			}
			e.confirmed(t, "es", emails...)
			var totals []int
			rep, err := e.n.SendIssue(context.Background(), "es", kiosko.SendOptions{Progress: func(p kiosko.SendProgress) { totals = append(totals, p.Total) }})
			if err != nil || rep.Sent != 100 || rep.Enqueued != 100 || rep.Counts.Sent != 100 {
				t.Fatalf("%+v, %v", rep, err)
			}
			for _, m := range emails {
				if n := srv.delivered(m); n != 1 {
					t.Errorf("%s got %d", m, n)
				}
			}
			if totals[0] != 7 || totals[len(totals)-1] != 100 {
				t.Errorf("progress totals went %d ... %d, want 7 ... 100", totals[0], totals[len(totals)-1])
			}
		})
	}
}

func TestPermanentRefusalMarksBounced(t *testing.T) {
	t.Parallel()
	mp := mailpit.StartWith(t, mailpit.Options{AllowedRecipients: `@good\.example$`})
	e := setup(t, mp.SMTPAddr)
	ctx := context.Background()
	e.confirmed(t, "es", "one@good.example", "gone@bad.example", "two@good.example")
	rep, err := e.n.SendIssue(ctx, "es", kiosko.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || rep.Bounced != 1 {
		t.Fatalf("report %+v", rep)
	}
	s := e.subscriber(t, "es", "gone@bad.example")
	if s.Status != kiosko.SubscriberBounced || s.BouncedAt == nil || s.BounceReason == "" {
		t.Fatalf("subscriber %+v", s)
	}
	// Bounced addresses are not tried again next week.
	e.clock.Add(7 * 24 * time.Hour)
	if err := e.db.CreateArticle(ctx, &kiosko.Article{ID: "es-next", Edition: "es", Title: "Otra semana", Access: kiosko.AccessFree, PublishedAt: e.clock.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rep, err = e.n.SendIssue(ctx, "es", kiosko.SendOptions{})
	if err != nil || rep.Sent != 2 || rep.Bounced != 0 || rep.Counts.Total() != 2 {
		t.Fatalf("second week %+v, %v", rep, err)
	}
}

func TestTemporaryFailuresAreRetried(t *testing.T) {
	t.Parallel()
	srv := startFlakySMTP(t, 2) // every recipient refused twice with 451
	e := setup(t, srv.addr)
	ctx := context.Background()
	e.confirmed(t, "us", "x@example.com", "y@example.com")
	start := time.Now()
	rep, err := e.n.SendIssue(ctx, "us", kiosko.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || rep.Retried != 4 || rep.Bounced != 0 {
		t.Fatalf("report %+v", rep)
	}
	if srv.delivered("x@example.com") != 1 || srv.delivered("y@example.com") != 1 {
		t.Fatalf("delivered %v", srv.counts())
	}
	// Backoff: 20ms then 40ms at least.
	if time.Since(start) < 60*time.Millisecond {
		t.Errorf("retries without backoff: %s", time.Since(start))
	}

	// A recipient refused every time is given up after MaxAttempts, not bounced.
	srv2 := startFlakySMTP(t, 100)
	e2 := setup(t, srv2.addr)
	e2.n.Settings.MaxAttempts = 3
	e2.confirmed(t, "us", "z@example.com")
	rep, err = e2.n.SendIssue(ctx, "us", kiosko.SendOptions{})
	if err != nil || rep.Failed != 1 || rep.Sent != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if s := e2.subscriber(t, "us", "z@example.com"); s.Status != kiosko.SubscriberConfirmed {
		t.Fatalf("temporary failures changed status to %s", s.Status)
	}
}

func TestNoArticlesNothingToSend(t *testing.T) {
	t.Parallel()
	e := setup(t, "")
	e.clock.Add(60 * 24 * time.Hour)
	_, err := e.n.SendIssue(context.Background(), "es", kiosko.SendOptions{})
	if kiosko.ErrorKey(err) != "error.newsletter_no_articles" {
		t.Fatalf("err = %v", err)
	}
}

func TestPreviewSendsNothingAndFreezesNothing(t *testing.T) {
	t.Parallel()
	mp := mailpit.Start(t)
	e := setup(t, mp.SMTPAddr)
	m, count, err := e.n.Preview(context.Background(), "es", "editor@example.com", "Editora")
	if err != nil {
		t.Fatal(err)
	}
	if count != 2 || !strings.Contains(m.HTML, "El Congreso aprueba los presupuestos") || !strings.Contains(m.Subject, "El Kiosko") {
		t.Fatalf("preview %q", m.Subject)
	}
	if _, err := e.db.FindIssue(context.Background(), "es", e.n.Week(&kiosko.Edition{Timezone: "Europe/Madrid"}, now)); !kiosko.IsNotFound(err) {
		t.Fatalf("preview created the issue: %v", err)
	}
	if mp.Count(t) != 0 {
		t.Fatal("preview sent mail")
	}
	_, _, err = e.n.Preview(context.Background(), "nope", "", "")
	if !errors.Is(err, err) || kiosko.ErrorCode(err) != kiosko.EINVALID {
		t.Fatalf("unknown edition: %v", err)
	}
}

package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// newSubscriber stores a subscriber of edition with status and a unique
// email, confirmation hash and unsubscribe token.
func newSubscriber(t *testing.T, s kiosko.Store, edition, status string) *kiosko.Subscriber {
	t.Helper()
	n := emailSeq.Add(1)
	sub := &kiosko.Subscriber{
		Edition: edition, Email: fmt.Sprintf("lector%d@example.com", n), Name: "Lector", Status: status, Source: "form",
		ConfirmHash: []byte(fmt.Sprintf("hash-%d", n)), ConfirmSentAt: t0, UnsubscribeToken: fmt.Sprintf("unsub-%d", n), CreatedAt: t0,
	}
	if status == kiosko.SubscriberConfirmed {
		sub.ConfirmedAt = ptr(at(time.Minute))
	}
	if err := s.CreateSubscriber(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscriber: %v", err)
	}
	return sub
}

func sameSubscriber(t *testing.T, what string, got, want *kiosko.Subscriber) {
	t.Helper()
	if got.ID != want.ID || got.Edition != want.Edition || got.Email != want.Email || got.Name != want.Name ||
		got.Status != want.Status || got.Source != want.Source || !bytes.Equal(got.ConfirmHash, want.ConfirmHash) ||
		got.UnsubscribeToken != want.UnsubscribeToken || got.BounceReason != want.BounceReason {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	sameTime(t, what+".ConfirmSentAt", got.ConfirmSentAt, want.ConfirmSentAt)
	sameTime(t, what+".CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTimePtr(t, what+".ConfirmedAt", got.ConfirmedAt, want.ConfirmedAt)
	sameTimePtr(t, what+".UnsubscribedAt", got.UnsubscribedAt, want.UnsubscribedAt)
	sameTimePtr(t, what+".BouncedAt", got.BouncedAt, want.BouncedAt)
}

// newIssue stores this week's issue of edition.
func newIssue(t *testing.T, s kiosko.Store, edition, week string) *kiosko.Issue {
	t.Helper()
	i := &kiosko.Issue{Edition: edition, Week: week, Since: at(-7 * 24 * time.Hour), Until: t0, ArticleIDs: []string{"b", "a"}, CreatedAt: t0}
	if err := s.CreateIssue(t.Context(), i); err != nil {
		t.Fatalf("CreateIssue: %v", err)
	}
	return i
}

// due lists the ids of the issue's pending deliveries due at when.
func due(t *testing.T, s kiosko.Store, issueID int64, when time.Time) []int64 {
	t.Helper()
	ds, err := s.FindDueDeliveries(t.Context(), issueID, when, 0, 1000)
	ok(t, err)
	return ids(ds, func(d *kiosko.Delivery) int64 { return d.ID })
}

func wantCounts(t *testing.T, s kiosko.Store, issueID int64, want kiosko.DeliveryCounts) {
	t.Helper()
	got, err := s.CountDeliveries(t.Context(), issueID)
	ok(t, err)
	got.NextAttemptAt, want.NextAttemptAt = time.Time{}, time.Time{}
	if got != want {
		t.Errorf("CountDeliveries = %+v, want %+v", got, want)
	}
}

// enqueued makes an issue of a new edition with n confirmed subscribers
// and their pending deliveries, in subscriber order.
func enqueued(t *testing.T, s kiosko.Store, n int) (*kiosko.Issue, []*kiosko.Subscriber, []*kiosko.Delivery) {
	t.Helper()
	newEdition(t, s, "es", kiosko.LangSpanish)
	subs := make([]*kiosko.Subscriber, n)
	for i := range subs {
		subs[i] = newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
	}
	i := newIssue(t, s, "es", "2026-W45")
	got, err := s.EnqueueDeliveries(t.Context(), i.ID, t0)
	ok(t, err)
	if got != n {
		t.Fatalf("EnqueueDeliveries = %d, want %d", got, n)
	}
	ds, err := s.FindDueDeliveries(t.Context(), i.ID, t0, 0, 1000)
	ok(t, err)
	if len(ds) != n {
		t.Fatalf("%d due deliveries, want %d", len(ds), n)
	}
	return i, subs, ds
}

var newsletterTests = []test{
	{"SubscriberRoundTrip", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		sub := &kiosko.Subscriber{Edition: "es", Email: "ana@example.com", Name: "Ana Pérez", Status: kiosko.SubscriberPending, Source: "form",
			ConfirmHash: []byte{1, 2, 3, 0xff}, ConfirmSentAt: at(time.Second), UnsubscribeToken: "tok-ana", CreatedAt: t0}
		ok(t, s.CreateSubscriber(ctx, sub))
		if sub.ID == 0 {
			t.Fatal("CreateSubscriber set no ID")
		}
		for name, find := range map[string]func() (*kiosko.Subscriber, error){
			"FindSubscriber":                   func() (*kiosko.Subscriber, error) { return s.FindSubscriber(ctx, "es", "ana@example.com") },
			"FindSubscriberByConfirmHash":      func() (*kiosko.Subscriber, error) { return s.FindSubscriberByConfirmHash(ctx, []byte{1, 2, 3, 0xff}) },
			"FindSubscriberByUnsubscribeToken": func() (*kiosko.Subscriber, error) { return s.FindSubscriberByUnsubscribeToken(ctx, "tok-ana") },
		} {
			got, err := find()
			ok(t, err)
			sameSubscriber(t, name, got, sub)
		}
		// The same address may be on another edition, not twice on one.
		wantError(t, s.CreateSubscriber(ctx, &kiosko.Subscriber{Edition: "es", Email: "ana@example.com", Status: kiosko.SubscriberPending,
			Source: "form", UnsubscribeToken: "tok-ana-2", CreatedAt: t0}), kiosko.ECONFLICT, "error.newsletter_already")
		other := &kiosko.Subscriber{Edition: "us", Email: "ana@example.com", Status: kiosko.SubscriberPending, Source: "form", UnsubscribeToken: "tok-ana-us", CreatedAt: t0}
		ok(t, s.CreateSubscriber(ctx, other))
		// No confirmation hash is stored as none, and two such rows coexist.
		got, err := s.FindSubscriber(ctx, "us", "ana@example.com")
		ok(t, err)
		sameSubscriber(t, "without hash", got, other)

		_, err = s.FindSubscriber(ctx, "es", "nobody@example.com")
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindSubscriberByConfirmHash(ctx, []byte("nope"))
		wantCode(t, err, kiosko.ENOTFOUND)
		_, err = s.FindSubscriberByUnsubscribeToken(ctx, "nope")
		wantCode(t, err, kiosko.ENOTFOUND)

		// UpdateSubscriber writes every field but ID, edition and email.
		upd := *sub
		upd.Edition, upd.Email = "us", "changed@example.com"
		upd.Name, upd.Status, upd.Source, upd.ConfirmHash = "Ana P.", kiosko.SubscriberBounced, "import", []byte{9}
		upd.ConfirmSentAt, upd.UnsubscribeToken = at(time.Hour), "tok-ana-new"
		upd.ConfirmedAt, upd.UnsubscribedAt, upd.BouncedAt, upd.BounceReason = ptr(at(2*time.Hour)), ptr(at(3*time.Hour)), ptr(at(4*time.Hour)), "550 no such user"
		ok(t, s.UpdateSubscriber(ctx, &upd))
		got, err = s.FindSubscriberByUnsubscribeToken(ctx, "tok-ana-new")
		ok(t, err)
		want := upd
		want.Edition, want.Email = "es", "ana@example.com"
		sameSubscriber(t, "after UpdateSubscriber", got, &want)
		// Clearing the optional fields clears them.
		want.ConfirmHash, want.ConfirmedAt, want.UnsubscribedAt, want.BouncedAt, want.BounceReason = nil, nil, nil, nil, ""
		ok(t, s.UpdateSubscriber(ctx, &want))
		got, err = s.FindSubscriber(ctx, "es", "ana@example.com")
		ok(t, err)
		sameSubscriber(t, "after clearing", got, &want)

		wantCode(t, s.UpdateSubscriber(ctx, &kiosko.Subscriber{ID: 1 << 40, Status: kiosko.SubscriberPending, UnsubscribeToken: "x"}), kiosko.ENOTFOUND)
	}},

	{"ConfirmAndUnsubscribe", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		sub := newSubscriber(t, s, "es", kiosko.SubscriberPending)
		// Two clicks at once confirm once.
		errs := race(4, func(int) error {
			won, err := s.ConfirmSubscriber(ctx, sub.ID, at(time.Hour))
			if err == nil && !won {
				return kiosko.Errorf(kiosko.ECONFLICT, "", "already confirmed")
			}
			return err
		})
		oneWinner(t, errs, kiosko.ECONFLICT, "")
		got, err := s.FindSubscriber(ctx, "es", sub.Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberConfirmed {
			t.Fatalf("status = %s after confirming", got.Status)
		}
		sameTimePtr(t, "ConfirmedAt", got.ConfirmedAt, ptr(at(time.Hour)))
		if again, err := s.ConfirmSubscriber(ctx, sub.ID, at(2*time.Hour)); err != nil || again {
			t.Fatalf("ConfirmSubscriber of a confirmed subscriber = %v, %v; want false", again, err)
		}

		ok(t, s.UnsubscribeSubscriber(ctx, sub.ID, at(3*time.Hour)))
		ok(t, s.UnsubscribeSubscriber(ctx, sub.ID, at(4*time.Hour))) // idempotent; the first time stays
		got, err = s.FindSubscriber(ctx, "es", sub.Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberUnsubscribed {
			t.Fatalf("status = %s after unsubscribing", got.Status)
		}
		sameTimePtr(t, "UnsubscribedAt", got.UnsubscribedAt, ptr(at(3*time.Hour)))
		// An unsubscribed address is not confirmed again by an old link.
		if again, err := s.ConfirmSubscriber(ctx, sub.ID, at(5*time.Hour)); err != nil || again {
			t.Fatalf("ConfirmSubscriber after unsubscribing = %v, %v; want false", again, err)
		}
		wantCode(t, s.UnsubscribeSubscriber(ctx, 1<<40, t0), kiosko.ENOTFOUND)
	}},

	{"ImportAndCount", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		pending := newSubscriber(t, s, "es", kiosko.SubscriberPending)
		pending.Name = ""
		ok(t, s.UpdateSubscriber(ctx, pending))
		confirmed := newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		unsub := newSubscriber(t, s, "es", kiosko.SubscriberUnsubscribed)
		bounced := newSubscriber(t, s, "es", kiosko.SubscriberBounced)
		newSubscriber(t, s, "us", kiosko.SubscriberConfirmed)

		imp := func(email, name string) *kiosko.Subscriber {
			return &kiosko.Subscriber{Edition: "es", Email: email, Name: name, Status: kiosko.SubscriberConfirmed, Source: "import",
				UnsubscribeToken: "imp-" + email, CreatedAt: at(time.Hour), ConfirmedAt: ptr(at(time.Hour))}
		}
		subs := []*kiosko.Subscriber{imp("new@example.com", "Nuevo"), imp(pending.Email, "Desde CSV"), imp(confirmed.Email, "Otro"),
			imp(unsub.Email, ""), imp(bounced.Email, "")}
		var progress []int
		out, err := s.ImportSubscribers(ctx, subs, at(time.Hour), func(done int) { progress = append(progress, done) })
		ok(t, err)
		want := []string{kiosko.ImportAdded, kiosko.ImportConfirmed, kiosko.ImportUnchanged, kiosko.ImportUnsubscribed, kiosko.ImportBounced}
		if !slices.Equal(out, want) {
			t.Errorf("ImportSubscribers = %v, want %v", out, want)
		}
		if len(progress) == 0 || progress[len(progress)-1] != len(subs) {
			t.Errorf("progress = %v, want it to end at %d", progress, len(subs))
		}
		got, err := s.FindSubscriber(ctx, "es", "new@example.com")
		ok(t, err)
		if got.ID == 0 || got.ID != subs[0].ID || got.Status != kiosko.SubscriberConfirmed || got.Source != "import" || got.Name != "Nuevo" {
			t.Errorf("imported subscriber = %+v", got)
		}
		got, err = s.FindSubscriber(ctx, "es", pending.Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberConfirmed || got.Name != "Desde CSV" {
			t.Errorf("pending subscriber after import = %+v, want confirmed with the CSV's name", got)
		}
		sameTimePtr(t, "imported ConfirmedAt", got.ConfirmedAt, ptr(at(time.Hour)))
		got, err = s.FindSubscriber(ctx, "es", confirmed.Email)
		ok(t, err)
		if got.Name != "Lector" {
			t.Errorf("an import renamed a confirmed subscriber: %q", got.Name)
		}
		counts, err := s.CountSubscribers(ctx, "es")
		ok(t, err)
		wantCount := map[string]int{kiosko.SubscriberConfirmed: 3, kiosko.SubscriberUnsubscribed: 1, kiosko.SubscriberBounced: 1}
		for k, v := range wantCount {
			if counts[k] != v {
				t.Errorf("CountSubscribers = %v, want %v", counts, wantCount)
				break
			}
		}
		if counts[kiosko.SubscriberPending] != 0 {
			t.Errorf("CountSubscribers = %v, want no pending", counts)
		}

		// An import that fails part-way leaves nothing behind.
		bad := []*kiosko.Subscriber{imp("fresh@example.com", ""), imp("fresh2@example.com", "")}
		bad[1].UnsubscribeToken = bad[0].UnsubscribeToken // violates the unique token
		if _, err := s.ImportSubscribers(ctx, bad, at(time.Hour), nil); err == nil {
			t.Fatal("ImportSubscribers with a duplicate token succeeded")
		}
		_, err = s.FindSubscriber(ctx, "es", "fresh@example.com")
		wantCode(t, err, kiosko.ENOTFOUND)
	}},

	{"IssueAndLock", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		i := newIssue(t, s, "es", "2026-W45")
		if i.ID == 0 {
			t.Fatal("CreateIssue set no ID")
		}
		got, err := s.FindIssue(ctx, "es", "2026-W45")
		ok(t, err)
		if got.ID != i.ID || got.Edition != "es" || got.Week != "2026-W45" || !slices.Equal(got.ArticleIDs, []string{"b", "a"}) {
			t.Errorf("FindIssue = %+v, want %+v", got, i)
		}
		sameTime(t, "Since", got.Since, i.Since)
		sameTime(t, "Until", got.Until, i.Until)
		sameTime(t, "CreatedAt", got.CreatedAt, i.CreatedAt)
		_, err = s.FindIssue(ctx, "es", "2026-W44")
		wantCode(t, err, kiosko.ENOTFOUND)
		wantCode(t, s.CreateIssue(ctx, &kiosko.Issue{Edition: "es", Week: "2026-W45", CreatedAt: t0}), kiosko.ECONFLICT)
		// An issue without articles keeps an empty list.
		empty := &kiosko.Issue{Edition: "es", Week: "2026-W46", CreatedAt: t0}
		ok(t, s.CreateIssue(ctx, empty))
		got, err = s.FindIssue(ctx, "es", "2026-W46")
		ok(t, err)
		if len(got.ArticleIDs) != 0 {
			t.Errorf("ArticleIDs = %v, want none", got.ArticleIDs)
		}

		lock := func(owner string, now time.Duration) bool {
			t.Helper()
			won, err := s.LockIssue(ctx, i.ID, owner, at(now), at(now+30*time.Second))
			ok(t, err)
			return won
		}
		if !lock("a", 0) {
			t.Fatal("a could not take a free lock")
		}
		if lock("b", 10*time.Second) {
			t.Fatal("b took a's live lock")
		}
		if !lock("a", 20*time.Second) { // renew: now until 50s
			t.Fatal("a could not renew its lock")
		}
		if lock("b", 40*time.Second) {
			t.Fatal("b took a's renewed lock")
		}
		ok(t, s.UnlockIssue(ctx, i.ID, "b")) // not b's: no effect
		if lock("b", 45*time.Second) {
			t.Fatal("b's unlock released a's lock")
		}
		if !lock("b", 51*time.Second) {
			t.Fatal("b could not take a's lapsed lock")
		}
		ok(t, s.UnlockIssue(ctx, i.ID, "b"))
		// Racing senders on a free lock: one wins.
		errs := race(4, func(n int) error {
			won, err := s.LockIssue(ctx, i.ID, fmt.Sprintf("racer%d", n), at(time.Minute), at(2*time.Minute))
			if err == nil && !won {
				return kiosko.Errorf(kiosko.ECONFLICT, "", "lost")
			}
			return err
		})
		oneWinner(t, errs, kiosko.ECONFLICT, "")
	}},

	{"EnqueueAndFindDue", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		a := newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		b := newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		newSubscriber(t, s, "es", kiosko.SubscriberPending)
		newSubscriber(t, s, "es", kiosko.SubscriberUnsubscribed)
		newSubscriber(t, s, "es", kiosko.SubscriberBounced)
		newSubscriber(t, s, "us", kiosko.SubscriberConfirmed)
		i := newIssue(t, s, "es", "2026-W45")
		n, err := s.EnqueueDeliveries(ctx, i.ID, t0)
		ok(t, err)
		if n != 2 {
			t.Fatalf("EnqueueDeliveries = %d, want the 2 confirmed subscribers of es", n)
		}
		if n, err := s.EnqueueDeliveries(ctx, i.ID, t0); err != nil || n != 0 {
			t.Fatalf("EnqueueDeliveries again = %d, %v; want 0", n, err)
		}
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 2})

		ds, err := s.FindDueDeliveries(ctx, i.ID, t0, 0, 10)
		ok(t, err)
		if len(ds) != 2 || ds[0].ID >= ds[1].ID {
			t.Fatalf("FindDueDeliveries = %+v, want 2 in id order", ds)
		}
		for k, want := range []*kiosko.Subscriber{a, b} {
			d := ds[k]
			if d.IssueID != i.ID || d.Status != kiosko.DeliveryPending || d.Attempts != 0 || d.SentAt != nil {
				t.Errorf("delivery = %+v", d)
			}
			if got := d.Subscriber; got == nil || got.ID != want.ID || got.Email != want.Email || got.Name != want.Name ||
				got.Edition != "es" || got.Status != kiosko.SubscriberConfirmed || got.UnsubscribeToken != want.UnsubscribeToken {
				t.Errorf("delivery's subscriber = %+v, want %+v", got, want)
			}
		}
		sameIDs(t, "after the first", due(t, s, i.ID, t0)[1:], []int64{ds[1].ID})
		page, err := s.FindDueDeliveries(ctx, i.ID, t0, ds[0].ID, 10)
		ok(t, err)
		sameIDs(t, "after", ids(page, func(d *kiosko.Delivery) int64 { return d.ID }), []int64{ds[1].ID})
		page, err = s.FindDueDeliveries(ctx, i.ID, t0, 0, 1)
		ok(t, err)
		sameIDs(t, "limit 1", ids(page, func(d *kiosko.Delivery) int64 { return d.ID }), []int64{ds[0].ID})

		// A subscriber who leaves is not due, and SkipDeliveries skips them.
		ok(t, s.UnsubscribeSubscriber(ctx, b.ID, t0))
		sameIDs(t, "due after b left", due(t, s, i.ID, t0), []int64{ds[0].ID})
		n, err = s.SkipDeliveries(ctx, i.ID)
		ok(t, err)
		if n != 1 {
			t.Errorf("SkipDeliveries = %d, want 1", n)
		}
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 1, Skipped: 1})
		// A new confirmed subscriber joins a resumed send.
		newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		if n, err := s.EnqueueDeliveries(ctx, i.ID, t0); err != nil || n != 1 {
			t.Fatalf("EnqueueDeliveries after a new subscriber = %d, %v; want 1", n, err)
		}
	}},

	{"EnqueueInChunks", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newEdition(t, s, "us", kiosko.LangEnglish)
		var confirmed []*kiosko.Subscriber
		for k := range 5 {
			confirmed = append(confirmed, newSubscriber(t, s, "es", kiosko.SubscriberConfirmed))
			if k == 2 {
				newSubscriber(t, s, "es", kiosko.SubscriberPending)
				newSubscriber(t, s, "us", kiosko.SubscriberConfirmed)
			}
		}
		i := newIssue(t, s, "es", "2026-W45")
		// The first subscriber already has a delivery, as in a resumed send.
		added, last, err := s.EnqueueDeliveriesAfter(ctx, i.ID, 0, 1, t0)
		ok(t, err)
		if added != 1 || last != confirmed[0].ID {
			t.Fatalf("EnqueueDeliveriesAfter(0, 1) = %d, %d; want 1, %d", added, last, confirmed[0].ID)
		}
		type chunk struct {
			added int
			last  int64
		}
		var got []chunk
		for after := int64(0); ; {
			added, last, err := s.EnqueueDeliveriesAfter(ctx, i.ID, after, 2, t0)
			ok(t, err)
			got = append(got, chunk{added, last})
			if last == 0 || len(got) > 10 {
				break
			}
			after = last
		}
		// Chunks of two confirmed subscribers of es, pending and other
		// editions' left out, the one enqueued before not added again.
		want := []chunk{{1, confirmed[1].ID}, {2, confirmed[3].ID}, {1, confirmed[4].ID}, {0, 0}}
		if !slices.Equal(got, want) {
			t.Fatalf("chunks = %v, want %v", got, want)
		}
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 5})
		ds, err := s.FindDueDeliveries(ctx, i.ID, t0, 0, 10)
		ok(t, err)
		sameIDs(t, "subscribers enqueued", ids(ds, func(d *kiosko.Delivery) int64 { return d.Subscriber.ID }),
			ids(confirmed, func(s *kiosko.Subscriber) int64 { return s.ID }))
	}},

	{"DeliveryLifecycle", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		i, subs, ds := enqueued(t, s, 5)
		sent, retry, bounce, fail, unknown := ds[0], ds[1], ds[2], ds[3], ds[4]

		ok(t, s.MarkDeliveryCommitting(ctx, sent.ID))
		wantError(t, s.MarkDeliveryCommitting(ctx, sent.ID), kiosko.ECONFLICT, "error.conflict")
		ok(t, s.MarkDeliverySent(ctx, sent.ID, at(time.Minute)))

		ok(t, s.RetryDelivery(ctx, retry.ID, 1, at(10*time.Minute), "451 try later"))
		// A retry is not due before its time.
		sameIDs(t, "due now", due(t, s, i.ID, at(time.Minute)), []int64{bounce.ID, fail.ID, unknown.ID})
		sameIDs(t, "due later", due(t, s, i.ID, at(10*time.Minute)), []int64{retry.ID, bounce.ID, fail.ID, unknown.ID})
		later, err := s.FindDueDeliveries(ctx, i.ID, at(10*time.Minute), 0, 1)
		ok(t, err)
		if d := later[0]; d.Attempts != 1 || d.LastError != "451 try later" {
			t.Errorf("retried delivery = %+v", d)
		}
		sameTime(t, "NextAttemptAt", later[0].NextAttemptAt, at(10*time.Minute))

		ok(t, s.FailDelivery(ctx, bounce.ID, 1, "550 no such user", true, at(2*time.Minute)))
		ok(t, s.FailDelivery(ctx, fail.ID, 5, "421 busy", false, at(2*time.Minute)))
		ok(t, s.MarkDeliveryCommitting(ctx, unknown.ID))
		ok(t, s.MarkDeliveryUnknown(ctx, unknown.ID, "connection reset after the dot"))

		c, err := s.CountDeliveries(ctx, i.ID)
		ok(t, err)
		sameTime(t, "counts' NextAttemptAt", c.NextAttemptAt, at(10*time.Minute))
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 1, Sent: 1, Failed: 2, Unknown: 1})
		if c.Total() != 5 || c.Done() != 4 {
			t.Errorf("Total, Done = %d, %d; want 5, 4", c.Total(), c.Done())
		}

		// A permanent refusal bounces the subscriber; a given-up one does not.
		got, err := s.FindSubscriber(ctx, "es", subs[2].Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberBounced || got.BounceReason != "550 no such user" {
			t.Errorf("bounced subscriber = %+v", got)
		}
		sameTimePtr(t, "BouncedAt", got.BouncedAt, ptr(at(2*time.Minute)))
		got, err = s.FindSubscriber(ctx, "es", subs[3].Email)
		ok(t, err)
		if got.Status != kiosko.SubscriberConfirmed {
			t.Errorf("subscriber of a given-up delivery = %s, want confirmed", got.Status)
		}

		// Unknown deliveries go back only when the operator asks.
		n, err := s.ResendUnknownDeliveries(ctx, i.ID)
		ok(t, err)
		if n != 1 {
			t.Errorf("ResendUnknownDeliveries = %d, want 1", n)
		}
		sameIDs(t, "due after resend", due(t, s, i.ID, at(time.Minute)), []int64{unknown.ID})

		for name, err := range map[string]error{
			"MarkDeliveryCommitting": s.MarkDeliveryCommitting(ctx, 1<<40),
			"MarkDeliverySent":       s.MarkDeliverySent(ctx, 1<<40, t0),
			"MarkDeliveryUnknown":    s.MarkDeliveryUnknown(ctx, 1<<40, "x"),
			"RetryDelivery":          s.RetryDelivery(ctx, 1<<40, 1, t0, "x"),
			"FailDelivery":           s.FailDelivery(ctx, 1<<40, 1, "x", true, t0),
		} {
			if err == nil {
				t.Errorf("%s of a missing delivery succeeded", name)
			}
		}
	}},

	{"InterruptedDeliveries", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		i, _, ds := enqueued(t, s, 3)
		ok(t, s.MarkDeliveryCommitting(ctx, ds[0].ID))
		ok(t, s.MarkDeliveryCommitting(ctx, ds[1].ID))
		ok(t, s.MarkDeliverySent(ctx, ds[1].ID, t0))
		// A crash: ds[0] was in the commit window, ds[2] never started.
		n, err := s.InterruptedDeliveries(ctx, i.ID)
		ok(t, err)
		if n != 1 {
			t.Errorf("InterruptedDeliveries = %d, want 1", n)
		}
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 1, Sent: 1, Unknown: 1})
		sameIDs(t, "due after the crash", due(t, s, i.ID, t0), []int64{ds[2].ID})
	}},

	{"RecordDeliveries", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		i, _, ds := enqueued(t, s, 6)
		refused, err := s.RecordDeliveries(ctx, kiosko.DeliveryBatch{SentAt: t0, Commit: []int64{ds[0].ID, ds[1].ID, ds[2].ID}})
		ok(t, err)
		if len(refused) != 0 {
			t.Fatalf("refused %v of pending deliveries", refused)
		}
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 3, Committing: 3})

		// One batch: the earlier ones sent, more committing; one of those
		// was taken by another sender meanwhile.
		ok(t, s.MarkDeliveryCommitting(ctx, ds[4].ID))
		refused, err = s.RecordDeliveries(ctx, kiosko.DeliveryBatch{Sent: []int64{ds[0].ID, ds[1].ID}, SentAt: at(time.Minute),
			Commit: []int64{ds[3].ID, ds[4].ID, ds[0].ID}})
		ok(t, err)
		slices.Sort(refused)
		sameIDs(t, "refused", refused, []int64{ds[0].ID, ds[4].ID})
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 1, Committing: 3, Sent: 2})
		sameIDs(t, "due", due(t, s, i.ID, t0), []int64{ds[5].ID})

		// Sent only, and an empty batch.
		refused, err = s.RecordDeliveries(ctx, kiosko.DeliveryBatch{Sent: []int64{ds[2].ID, ds[3].ID, ds[4].ID}, SentAt: at(time.Minute)})
		ok(t, err)
		if len(refused) != 0 {
			t.Errorf("refused = %v with nothing to commit", refused)
		}
		_, err = s.RecordDeliveries(ctx, kiosko.DeliveryBatch{})
		ok(t, err)
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Pending: 1, Sent: 5})

		// Two senders racing to commit the same rows: each row goes to one.
		last := ds[5].ID
		errs := race(4, func(int) error {
			refused, err := s.RecordDeliveries(ctx, kiosko.DeliveryBatch{SentAt: t0, Commit: []int64{last}})
			if err == nil && len(refused) > 0 {
				return kiosko.Errorf(kiosko.ECONFLICT, "", "refused")
			}
			return err
		})
		oneWinner(t, errs, kiosko.ECONFLICT, "")
		wantCounts(t, s, i.ID, kiosko.DeliveryCounts{Committing: 1, Sent: 5})

		// A larger batch than one statement's usual parameter limit.
		big := make([]int64, 40000)
		for k := range big {
			big[k] = int64(k) + 1<<40
		}
		refused, err = s.RecordDeliveries(ctx, kiosko.DeliveryBatch{Sent: big, SentAt: t0, Commit: big})
		ok(t, err)
		if len(refused) != len(big) {
			t.Errorf("refused %d of %d missing deliveries", len(refused), len(big))
		}
	}},

	{"DeliveriesFollowIssue", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		newEdition(t, s, "es", kiosko.LangSpanish)
		newSubscriber(t, s, "es", kiosko.SubscriberConfirmed)
		w1 := newIssue(t, s, "es", "2026-W45")
		w2 := newIssue(t, s, "es", "2026-W46")
		for _, i := range []*kiosko.Issue{w1, w2} {
			if n, err := s.EnqueueDeliveries(ctx, i.ID, t0); err != nil || n != 1 {
				t.Fatalf("EnqueueDeliveries = %d, %v", n, err)
			}
		}
		// One issue's state does not leak into another's.
		d1 := due(t, s, w1.ID, t0)
		ok(t, s.MarkDeliveryCommitting(ctx, d1[0]))
		n, err := s.InterruptedDeliveries(ctx, w2.ID)
		ok(t, err)
		if n != 0 {
			t.Errorf("InterruptedDeliveries of another issue = %d", n)
		}
		wantCounts(t, s, w2.ID, kiosko.DeliveryCounts{Pending: 1})
	}},
}

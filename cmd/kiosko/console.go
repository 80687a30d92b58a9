package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/console"
	"github.com/kiosko/kiosko/internal/admin"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/web"
	"github.com/kiosko/kiosko/webhook"
)

// startConsole builds the publisher console (/admin/) on the running
// server's parts; non-admins get the site's 404.
func (m *Main) startConsole(site *web.Server) (http.Handler, error) {
	m.Console = &console.Console{Store: m.Store, Auth: m.Auth, Reading: m.Reading, Clock: m.Clock, Log: m.Log,
		Plans:   m.Plans.Current,
		Counted: func(action string) { m.Metrics.AdminActions.WithLabelValues(action).Inc() }}
	if accts := m.Deps.Accounts; accts != nil {
		m.Console.Delete = func(ctx context.Context, a *kiosko.Account, actorID int64) error {
			_, err := accts.Delete(ctx, a, actorID)
			return err
		}
	}
	h, err := admin.New(m.Deps, m.Console, site.NotFound)
	if err != nil {
		return nil, err
	}
	if hooks, ok := kiosko.StoreAs[webhook.Store](m.Store); ok {
		h.SetWebhooks(hooks)
	}
	return h, nil
}

// viewFlushEvery is how often counted page views are written.
const viewFlushEvery = 10 * time.Second

// startViews starts the page-view recorder's flusher; it flushes once
// more when the workers stop, before the store closes.
func (m *Main) startViews(store kiosko.Store, workers context.Context) *kiosko.ViewRecorder {
	v := kiosko.NewViewRecorder(store, m.Clock, m.Log)
	m.wg.Add(1)
	go func() { defer m.wg.Done(); v.Run(workers, viewFlushEvery) }()
	return v
}

// mailLog records every email sent to an account in its timeline (the
// subject only: bodies may carry links with tokens).
type mailLog struct {
	kiosko.Mailer
	store kiosko.Store
	clock kiosko.Clock
}

func (l mailLog) Send(ctx context.Context, msg *kiosko.Message) error {
	if err := l.Mailer.Send(ctx, msg); err != nil {
		return err
	}
	if a, err := l.store.FindAccountByEmail(ctx, msg.To); err == nil {
		_ = l.store.AppendEvents(ctx, []kiosko.Event{kiosko.NewEvent(kiosko.EventEmailSent, a.ID, 0, map[string]string{"subject": msg.Subject}, l.clock.Now())})
	}
	return nil
}

// seedHistory gives a fresh demo some reading history for the insights
// (demo.SeedHistory); a failure leaves the demo without it, said in the log.
func seedHistory(ctx context.Context, store kiosko.Store, hasher kiosko.PasswordHasher, now time.Time, log *slog.Logger, h demo.History) error {
	if h.Days == 0 {
		return nil
	}
	start := time.Now()
	if err := demo.SeedHistory(ctx, store, hasher, now, h); err != nil {
		log.Error("demo: no reading history for the insights", "err", err)
		return nil
	}
	log.Info("demo: reading history seeded for the insights", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

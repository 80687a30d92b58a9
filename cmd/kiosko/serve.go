package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/console"
	"github.com/kiosko/kiosko/internal/api"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/mail"
	"github.com/kiosko/kiosko/internal/metrics"
	"github.com/kiosko/kiosko/internal/password"
	kredis "github.com/kiosko/kiosko/internal/redis"
	"github.com/kiosko/kiosko/internal/sqlite"
	"github.com/kiosko/kiosko/internal/useragent"
	"github.com/kiosko/kiosko/internal/web"
)

func serveCommand(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiosko serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(fs, args)
	if err != nil {
		return err
	}
	m := NewMain(cfg, newLogger(cfg, stderr))
	m.History = demo.DefaultHistory
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	<-ctx.Done()
	m.Log.Info("shutting down")
	return m.Close()
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// Main is a running kiosko server. Run starts it; Close stops HTTP first,
// then the background workers, then storage.
type Main struct {
	Config *Config
	Log    *slog.Logger
	// Hasher may be replaced before Run (tests use cheaper parameters).
	Hasher kiosko.PasswordHasher
	// Clock may be replaced before Run.
	Clock kiosko.Clock
	// BodyTimeout is how long a client has to send a request body (0: 30s).
	BodyTimeout time.Duration
	// History is the reading history a fresh demo gets for the insights
	// (serve sets demo.DefaultHistory; zero: none, as tests start).
	History demo.History

	Store   kiosko.Store
	Leases  kiosko.LeaseEngine
	Hub     kiosko.Hub
	Auth    *kiosko.Auth
	Reading *kiosko.Reading
	Deps    *httpx.Deps
	Metrics *metrics.Metrics // observe.go
	Console *console.Console // console.go
	Plans   *kiosko.PlanCatalog
	Content *kiosko.ContentCache // changes.go

	redis   goredis.UniversalClient
	ln      net.Listener
	server  *http.Server
	events  *kiosko.EventWriter
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closers []func() error
	once    sync.Once
}

// NewMain returns a Main for cfg.
func NewMain(cfg *Config, log *slog.Logger) *Main {
	return &Main{Config: cfg, Log: log, Hasher: password.New(), Clock: kiosko.SystemClock{}}
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.ln.Addr().String() }

// URL is the base URL of the running server.
func (m *Main) URL() string { return "http://" + m.Addr() }

// Run opens storage, seeds an empty publication, and starts serving.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	var err error
	m.ln, err = net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	m.closers = append(m.closers, func() error { m.ln.Close(); return nil })
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + m.ln.Addr().String()
	}
	m.Log.Info("starting kiosko", cfg.Redacted()...)
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	m.Store = store
	m.closers = append(m.closers, store.Close)

	plans, err := planCatalog(ctx, cfg, store, m.Clock.Now(), m.Log)
	if err != nil {
		return err
	}
	m.Plans = plans
	if err := seed(ctx, cfg, store, m.Hasher, m.Clock.Now(), m.Log, m.History); err != nil {
		return err
	}
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}

	workers, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if err := m.startLeases(ctx, workers); err != nil {
		return err
	}

	rm := &kiosko.ReadingMetrics{}
	m.observe(rm)
	m.events = kiosko.NewEventWriter(store, 65536, m.Log, &rm.EventsDropped)
	m.Reading = &kiosko.Reading{Store: store, Leases: m.Leases, Hub: m.Hub, Clock: m.Clock, Settings: cfg.Reading, Events: m.events, Metrics: rm, Log: m.Log}
	if err := m.Reading.Restore(ctx); err != nil {
		return err
	}
	var mailer kiosko.Mailer = mail.New(mail.Config{Addr: cfg.SMTPAddr, User: cfg.SMTPUser, Password: cfg.SMTPPassword, From: cfg.MailFrom, Dir: mailDir(cfg), Log: m.Log})
	mailer = mailLog{Mailer: mailer, store: store, clock: m.Clock}
	m.Auth = &kiosko.Auth{Store: store, Hasher: m.Hasher, Clock: m.Clock, Settings: kiosko.DefaultAuthSettings(), Hub: m.Hub,
		DeviceName: useragent.Name, Reading: m.Reading, Log: m.Log, Judge: password.Judge{}, DeviceKey: deviceKey(secret)}
	m.startChanges(workers) // changes.go
	m.Deps = &httpx.Deps{Store: store, Auth: m.Auth, Reading: m.Reading, Hub: m.Hub, Plans: plans, Content: m.Content, Catalog: i18n.Default(), Clock: m.Clock,
		Meter: cfg.Meter, ReadingSettings: cfg.Reading, Mailer: mailer, PublicURL: cfg.PublicURL, Secret: secret,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), TrustProxy: cfg.TrustProxy, Log: m.Log,
		TrustedProxies: cfg.TrustedProxies, HSTS: strings.HasPrefix(cfg.PublicURL, "https://")}
	m.Deps.ContactEmail = cfg.ContactEmail
	m.Deps.Views = m.startViews(store, workers) // console.go
	if m.Deps.Billing, err = newBilling(cfg, m.Deps); err != nil {
		return err
	}
	m.Auth.Mail = web.NewAccountMail(m.Deps)
	m.Deps.Accounts = newAccounts(m, workers) // accounts.go
	news, err := newNewsletter(cfg, store, m.Log)
	if err != nil {
		return err
	}
	m.closers = append(m.closers, func() error { news.Bulk.Close(); return nil })
	m.Deps.Newsletter = news
	m.startNewsroom(workers)
	news.OnDelivery = m.Metrics.CountNewsletter
	sched, err := newsletterScheduler(cfg, news, m.Log)
	if err != nil {
		return err
	}
	if sched != nil {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			if err := sched.Run(workers); err != nil {
				m.Log.Error("newsletter schedule", "err", err)
			}
		}()
	}
	if err := m.startIntegration(ctx, workers); err != nil {
		return err
	}
	site, err := web.New(m.Deps)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	apiHandler := api.New(m.Deps)
	mux.Handle("/api/v1/", apiHandler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", m.ready)
	if err := m.mountIntegration(mux); err != nil {
		return err
	}
	mux.Handle("GET /metrics", m.Metrics.Handler(cfg.MetricsToken))
	consoleSite, err := m.startConsole(site)
	if err != nil {
		return err
	}
	mux.Handle("/admin/", consoleSite)
	mux.Handle("/", site)
	if err := m.mountNewsroom(mux, site); err != nil {
		return err
	}
	csrf := http.NewCrossOriginProtection()
	handler := httpx.SecurityHeaders(csrf.Handler(metrics.Routes(mux)))
	if handler, err = m.embedOrigins(handler, csrf, apiHandler); err != nil {
		return err
	}
	handler = secure(m.Deps, site, cmp.Or(m.BodyTimeout, bodyReadTimeout), handler)
	handler = httpx.Compress(handler) // gzip for pages, CSS, JS and JSON; never event streams
	handler = m.Metrics.Observe(m.Log, m.Deps.ClientIP, handler)

	// Requests carry a context that ends when shutdown starts, so open
	// event streams close and Shutdown does not wait for them.
	base, endStreams := context.WithCancel(context.Background())
	m.server = &http.Server{BaseContext: func(net.Listener) context.Context { return base }, Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(m.Log.Handler(), slog.LevelWarn)}
	m.server.RegisterOnShutdown(endStreams)
	go func() {
		if err := m.server.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server", "err", err)
		}
	}()
	if cfg.SMTPAddr == "" {
		m.Log.Info("kiosko is serving", "url", m.URL(), "mail", "no SMTP server: emails are written as .eml files to "+mailDir(cfg))
	} else {
		m.Log.Info("kiosko is serving", "url", m.URL())
	}
	return nil
}

// startLeases starts the lease engine and the push hub: in process, or in
// Redis when several nodes share the reading rule.
func (m *Main) startLeases(ctx context.Context, workers context.Context) error {
	if m.Config.RedisURL == "" {
		engine := inmem.NewLeaseEngine(m.Config.Reading)
		m.wg.Add(1)
		go func() { defer m.wg.Done(); engine.Start(workers) }()
		m.Leases, m.Hub = engine, inmem.NewHub()
		return nil
	}
	client, err := kredis.NewClient(m.Config.RedisURL)
	if err != nil {
		return fmt.Errorf("KIOSKO_REDIS_URL: %w", err)
	}
	m.redis = client
	engine := kredis.NewLeaseEngine(client, m.Config.RedisPrefix, m.Config.Reading)
	if err := engine.Preload(ctx); err != nil {
		// Redis down at start: reading fails open until it is back.
		m.Log.Error("redis unreachable at start; reading fails open until it answers", "err", err)
	}
	hub := kredis.NewHub(client, m.Config.RedisPrefix)
	m.Leases, m.Hub = engine, hub
	m.closers = append(m.closers, func() error { hub.Close(); return client.Close() })
	return nil
}

// ready answers /readyz: the database must answer.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok"}
	status := http.StatusOK
	if err := m.Store.Ping(ctx); err != nil {
		checks["database"] = "unreachable" // counted by the store's OnError (observe.go)
		status = http.StatusServiceUnavailable
		m.Log.Warn("readiness: database", "err", err)
	}
	if m.redis != nil {
		// Reading fails open without Redis, so it does not make the node unready.
		checks["redis"] = "ok"
		if err := m.redis.Ping(ctx).Err(); err != nil {
			checks["redis"] = "unreachable"
		}
	}
	httpx.WriteJSON(w, status, map[string]any{"status": map[bool]string{true: "ok", false: "unavailable"}[status == http.StatusOK], "checks": checks})
}

// Close stops the server gracefully: HTTP (open streams end), workers,
// the event writer, then storage.
func (m *Main) Close() error {
	var err error
	m.once.Do(func() {
		if m.server != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if e := m.server.Shutdown(ctx); e != nil {
				m.server.Close()
			}
			cancel()
		}
		if m.cancel != nil {
			m.cancel()
		}
		m.wg.Wait()
		if m.events != nil {
			m.events.Close()
		}
		for i := len(m.closers) - 1; i >= 0; i-- {
			if e := m.closers[i](); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

// openDatabase opens the database the configuration names.
func openDatabase(ctx context.Context, cfg *Config) (kiosko.Store, error) {
	switch {
	case strings.HasPrefix(cfg.DatabaseURL, "postgres://"), strings.HasPrefix(cfg.DatabaseURL, "postgresql://"):
		return openPostgres(ctx, cfg.DatabaseURL)
	case strings.HasPrefix(cfg.DatabaseURL, "sqlite:"):
		return sqlite.Open(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:"))
	}
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return sqlite.Open(filepath.Join(cfg.Data, "kiosko.db"))
}

// seed fills an empty database: the demo publication, or just the editions.
func seed(ctx context.Context, cfg *Config, store kiosko.Store, hasher kiosko.PasswordHasher, now time.Time, log *slog.Logger, history demo.History) error {
	empty, err := demo.IsEmpty(ctx, store)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if !empty {
		return nil
	}
	if !cfg.SeedDemo {
		log.Info("empty database: creating the editions only (--seed-demo=false)")
		return demo.SeedEditions(ctx, store)
	}
	log.Info("empty database: seeding the demo publication")
	if err := demo.Seed(ctx, store, hasher, now); err != nil {
		return err
	}
	return seedHistory(ctx, store, hasher, now, log, history)
}

// loadPlans reads plans.json from the data directory; write makes it from
// the defaults when it is missing, so the operator has a file to edit.
func loadPlans(cfg *Config, write bool) (kiosko.Plans, error) {
	path := filepath.Join(cfg.Data, "plans.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		plans := kiosko.DefaultPlans()
		if write {
			if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
			b, _ := kiosko.MarshalPlans(plans)
			if err := os.WriteFile(path, b, 0o640); err != nil {
				return nil, fmt.Errorf("write %s: %w", path, err)
			}
		}
		return plans, nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	plans, err := kiosko.ParsePlans(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return plans, nil
}

// loadSecret returns the key for signed cookies: KIOSKO_SECRET, or a key
// made once and kept in the data directory.
func loadSecret(cfg *Config) ([]byte, error) {
	if cfg.Secret != "" {
		return []byte(cfg.Secret), nil
	}
	path := filepath.Join(cfg.Data, "secret.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	key := []byte(hex.EncodeToString(b))
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/embed"
	"github.com/kiosko/kiosko/internal/httpx"
)

// Config is every setting of kiosko. Each one is declared once in
// settings() with its flag, environment variable, default and check; a
// flag wins over the variable.
type Config struct {
	Addr        string
	Data        string
	DatabaseURL string
	RedisURL    string
	RedisPrefix string
	SeedDemo    bool
	PublicURL   string
	Secret      string
	// PreviousSecret (KIOSKO_PREVIOUS_SECRET) is the secret before a
	// change: what it sealed in the database is sealed again under
	// Secret at start (secrets.go).
	PreviousSecret string
	TrustProxy     bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (KIOSKO_TRUSTED_PROXIES); TrustProxy alone trusts the one peer.
	TrustedProxies []netip.Prefix
	LogLevel       string
	LogFormat      string // text or json (observe.go)
	MetricsToken   string // when set, /metrics needs it as a Bearer token

	SMTPAddr     string
	SMTPUser     string
	SMTPPassword string
	MailFrom     string
	ContactEmail string // where readers write to get a plan or a company subscription

	Reading kiosko.ReadingSettings
	Meter   kiosko.MeterSettings

	NewsletterDay  string // weekday name, "" or "off" disables the schedule
	NewsletterHour int
	NewsletterTZ   string
	SendRate       int // newsletter messages per second, 0: unlimited
	SendWorkers    int

	StripeKey           string // empty: the manual provider (no online payment)
	StripeWebhookSecret string
	StripeAPIURL        string // empty: Stripe itself; tests point it at stripe-mock

	Integration IntegrationConfig // publisher integration: webhooks, entitlements, embed.js (integration.go)
}

// setting declares one option.
type setting struct {
	flag, env, def, help string
	secret               bool
	set                  func(c *Config, v string) error
}

func settings() []setting {
	str := func(p func(c *Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *p(c) = v; return nil }
	}
	dur := func(p func(c *Config) *time.Duration, min time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration (use Go syntax such as 90s, 5m, 168h)")
			}
			if d < min {
				return fmt.Errorf("must be at least %s", min)
			}
			*p(c) = d
			return nil
		}
	}
	integer := func(p func(c *Config) *int, min, max int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("not a whole number")
			}
			if n < min || n > max {
				return fmt.Errorf("must be between %d and %d", min, max)
			}
			*p(c) = n
			return nil
		}
	}
	boolean := func(p func(c *Config) *bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			*p(c) = b
			return nil
		}
	}
	return []setting{
		{"addr", "KIOSKO_ADDR", "127.0.0.1:8080", "address to listen on", false, func(c *Config, v string) error {
			if _, _, err := net.SplitHostPort(v); err != nil {
				return fmt.Errorf("must be host:port")
			}
			c.Addr = v
			return nil
		}},
		{"data", "KIOSKO_DATA", "./kiosko-data", "data directory (SQLite database, secret key)", false, func(c *Config, v string) error {
			if strings.TrimSpace(v) == "" {
				return errors.New("must not be empty")
			}
			c.Data = v
			return nil
		}},
		{"database-url", "KIOSKO_DATABASE_URL", "", "PostgreSQL URL (postgres://...); empty: SQLite in the data directory", true, func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") && !strings.HasPrefix(v, "sqlite:") {
				return errors.New("must start with postgres:// (or sqlite:PATH)")
			}
			c.DatabaseURL = v
			return nil
		}},
		{"redis-url", "KIOSKO_REDIS_URL", "", "Redis URL (redis://...) for leases and push between nodes; empty: in process", true, func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
				return errors.New("must start with redis:// or rediss://")
			}
			c.RedisURL = v
			return nil
		}},
		{"redis-prefix", "KIOSKO_REDIS_PREFIX", "kiosko:", "prefix of kiosko's Redis keys and channels (several sites may share one Redis)", false, func(c *Config, v string) error {
			if v == "" || len(v) > 64 || strings.ContainsAny(v, " {}") {
				return errors.New("must be 1 to 64 characters without spaces or braces")
			}
			c.RedisPrefix = v
			return nil
		}},
		{"seed-demo", "KIOSKO_SEED_DEMO", "true", "seed an empty database with the demo publication", false, boolean(func(c *Config) *bool { return &c.SeedDemo })},
		{"public-url", "KIOSKO_PUBLIC_URL", "", "public base URL of the site, used in emails (default http://ADDR)", false, func(c *Config, v string) error {
			if v == "" {
				c.PublicURL = ""
				return nil
			}
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an http(s) URL such as https://news.example.com")
			}
			c.PublicURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"secret", "KIOSKO_SECRET", "", "key for signed cookies and for the secrets sealed in the database (signing keys, webhook secrets); every node must share it (default: made once and kept in the data directory)", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must have at least 32 characters")
			}
			c.Secret = v
			return nil
		}},
		{"previous-secret", "KIOSKO_PREVIOUS_SECRET", "", "the secret before KIOSKO_SECRET changed: the signing keys and webhook secrets sealed under it are sealed again under the new one at start (remove it once every node runs with the new secret)", true, func(c *Config, v string) error {
			if v != "" && len(v) < 32 {
				return errors.New("must have at least 32 characters")
			}
			c.PreviousSecret = v
			return nil
		}},
		{"trust-proxy", "KIOSKO_TRUST_PROXY", "false", "older spelling: the one peer is a proxy, the client is the rightmost X-Forwarded-For address (prefer KIOSKO_TRUSTED_PROXIES)", false, boolean(func(c *Config) *bool { return &c.TrustProxy })},
		{"trusted-proxies", "KIOSKO_TRUSTED_PROXIES", "", "CIDR prefixes of the proxies in front of kiosko, comma-separated; the client is the rightmost X-Forwarded-For address that is not one of them", false, func(c *Config, v string) error {
			p, err := httpx.ParseProxies(v)
			if err != nil {
				return err
			}
			c.TrustedProxies = p
			return nil
		}},
		{"log-level", "KIOSKO_LOG_LEVEL", "info", "debug, info, warn or error", false, func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("must be debug, info, warn or error")
		}},
		observeSettings()[0], observeSettings()[1],
		{"smtp-addr", "KIOSKO_SMTP_ADDR", "", "SMTP server host:port; empty: emails are written as .eml files under mail/ in the data directory", false, func(c *Config, v string) error {
			if v != "" {
				if _, _, err := net.SplitHostPort(v); err != nil {
					return errors.New("must be host:port")
				}
			}
			c.SMTPAddr = v
			return nil
		}},
		{"smtp-user", "KIOSKO_SMTP_USER", "", "SMTP user name", false, str(func(c *Config) *string { return &c.SMTPUser })},
		{"smtp-password", "KIOSKO_SMTP_PASSWORD", "", "SMTP password", true, str(func(c *Config) *string { return &c.SMTPPassword })},
		{"mail-from", "KIOSKO_MAIL_FROM", "El Kiosko <noreply@kiosko.localhost>", "sender of emails", false, func(c *Config, v string) error {
			if !strings.Contains(v, "@") {
				return errors.New("must be an email address")
			}
			c.MailFrom = v
			return nil
		}},
		{"contact-email", "KIOSKO_CONTACT_EMAIL", "subscriptions@kiosko.localhost", "address readers write to for a plan or a company subscription (plans and business pages)", false, func(c *Config, v string) error {
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v {
				return errors.New("must be a plain email address (name@example.com)")
			}
			c.ContactEmail = v
			return nil
		}},
		{"lease-ttl", "KIOSKO_LEASE_TTL", "90s", "a reading lease lapses this long after the last heartbeat", false, dur(func(c *Config) *time.Duration { return &c.Reading.LeaseTTL }, time.Second)},
		{"heartbeat-every", "KIOSKO_HEARTBEAT_EVERY", "30s", "how often reading pages heartbeat", false, dur(func(c *Config) *time.Duration { return &c.Reading.HeartbeatEvery }, time.Second)},
		{"contest-window", "KIOSKO_CONTEST_WINDOW", "60s", "a takeover is contested if the other device was seen this recently", false, dur(func(c *Config) *time.Duration { return &c.Reading.ContestWindow }, 0)},
		{"presence-window", "KIOSKO_PRESENCE_WINDOW", "15s", "a takeover counts towards the sharing warning if a person is seen at the displaced device this soon after (its report, or taking the lease back)", false, dur(func(c *Config) *time.Duration { return &c.Reading.PresenceWindow }, 0)},
		{"sharing-takeovers", "KIOSKO_SHARING_TAKEOVERS", "3", "contested takeovers that set the sharing warning", false, integer(func(c *Config) *int { return &c.Reading.SharingTakeovers }, 1, 1000)},
		{"sharing-window", "KIOSKO_SHARING_WINDOW", "168h", "window in which contested takeovers are counted", false, dur(func(c *Config) *time.Duration { return &c.Reading.SharingWindow }, time.Minute)},
		{"sharing-quiet", "KIOSKO_SHARING_QUIET", "0", "lift a sharing warning after this long without contested takeovers (0: never)", false, dur(func(c *Config) *time.Duration { return &c.Reading.SharingQuiet }, 0)},
		{"meter-anonymous", "KIOSKO_METER_ANONYMOUS", "10", "free articles a month for anonymous readers", false, integer(func(c *Config) *int { return &c.Meter.Anonymous }, 0, 10000)},
		{"meter-registered", "KIOSKO_METER_REGISTERED", "20", "free articles a month for registered free accounts", false, integer(func(c *Config) *int { return &c.Meter.Registered }, 0, 10000)},
		{"newsletter-day", "KIOSKO_NEWSLETTER_DAY", "friday", "weekday the weekly newsletter goes out (off: no schedule)", false, func(c *Config, v string) error {
			v = strings.ToLower(v)
			for _, d := range []string{"off", "", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
				if v == d {
					c.NewsletterDay = v
					return nil
				}
			}
			return errors.New("must be a weekday name in English, or off")
		}},
		{"newsletter-hour", "KIOSKO_NEWSLETTER_HOUR", "7", "hour of the day the newsletter goes out", false, integer(func(c *Config) *int { return &c.NewsletterHour }, 0, 23)},
		{"newsletter-tz", "KIOSKO_NEWSLETTER_TZ", "", "time zone of the schedule (default: each edition's)", false, func(c *Config, v string) error {
			if v != "" {
				if _, err := time.LoadLocation(v); err != nil {
					return errors.New("unknown time zone")
				}
			}
			c.NewsletterTZ = v
			return nil
		}},
		{"send-rate", "KIOSKO_SEND_RATE", "0", "newsletter messages per second (0: no limit)", false, integer(func(c *Config) *int { return &c.SendRate }, 0, 1000000)},
		{"send-workers", "KIOSKO_SEND_WORKERS", "8", "newsletter SMTP connections in parallel", false, integer(func(c *Config) *int { return &c.SendWorkers }, 1, 256)},
		{"stripe-key", "KIOSKO_STRIPE_KEY", "", "Stripe secret key (sk_...); empty: no online payment, admins grant plans from the command line", true, func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "sk_") && !strings.HasPrefix(v, "rk_") {
				return errors.New("must be a Stripe secret or restricted key (sk_... or rk_...)")
			}
			c.StripeKey = v
			return nil
		}},
		{"stripe-webhook-secret", "KIOSKO_STRIPE_WEBHOOK_SECRET", "", "signing secret of the Stripe webhook endpoint /billing/webhook (whsec_...); required with KIOSKO_STRIPE_KEY", true, str(func(c *Config) *string { return &c.StripeWebhookSecret })},
		{"stripe-api-url", "KIOSKO_STRIPE_API_URL", "", "base URL of the Stripe API (empty: Stripe's; tests use stripe-mock)", false, func(c *Config, v string) error {
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					return errors.New("must be an http(s) URL")
				}
			}
			c.StripeAPIURL = strings.TrimRight(v, "/")
			return nil
		}},
		{"embed-origins", "KIOSKO_EMBED_ORIGINS", "", "origins of the publisher pages that use /embed.js, comma-separated (https://www.example.com); they may call kiosko with the reader's cookies", false, func(c *Config, v string) error {
			o, err := embed.ParseOrigins(v)
			c.Integration.EmbedOrigins = o
			return err
		}},
		{"demo-site-addr", "KIOSKO_DEMO_SITE_ADDR", "", "also serve the demo publisher site, whose pages use only /embed.js, on this address (e.g. 127.0.0.1:8081); empty: off", false, str(func(c *Config) *string { return &c.Integration.DemoSiteAddr })},
		{"webhook-allow-private", "KIOSKO_WEBHOOK_ALLOW_PRIVATE", "false", "let webhook endpoints be on loopback or private addresses (for a receiver on the publisher's own network)", false, boolean(func(c *Config) *bool { return &c.Integration.WebhookAllowPrivate })},
	}
}

// parseConfig reads settings from env, then from flags in fs (declared
// here), and validates them. Extra flags of a subcommand are declared on fs
// by the caller before.
func parseConfig(fs *flag.FlagSet, args []string, only ...string) (*Config, error) {
	c := &Config{Reading: kiosko.DefaultReadingSettings(), Meter: kiosko.DefaultMeterSettings()}
	wanted := func(name string) bool {
		if len(only) == 0 {
			return true
		}
		for _, o := range only {
			if o == name {
				return true
			}
		}
		return false
	}
	all := settings()
	values := map[string]*string{}
	for _, s := range all {
		v := s.def
		if e, ok := os.LookupEnv(s.env); ok {
			v = e
		}
		val := v
		values[s.flag] = &val
		if wanted(s.flag) {
			fs.StringVar(values[s.flag], s.flag, v, s.help+" (env "+s.env+")")
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range all {
		if err := s.set(c, *values[s.flag]); err != nil {
			src := "--" + s.flag
			if _, ok := os.LookupEnv(s.env); ok && !flagSet(fs, s.flag) {
				src = s.env
			}
			return nil, fmt.Errorf("%s=%q: %v", src, redact(s, *values[s.flag]), err)
		}
	}
	if c.Reading.HeartbeatEvery >= c.Reading.LeaseTTL {
		return nil, fmt.Errorf("KIOSKO_HEARTBEAT_EVERY (%s) must be shorter than KIOSKO_LEASE_TTL (%s)", c.Reading.HeartbeatEvery, c.Reading.LeaseTTL)
	}
	return c, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

func redact(s setting, v string) string {
	if s.secret && v != "" {
		return "[redacted]"
	}
	return v
}

// Redacted lists the effective settings for the log, secrets hidden.
func (c *Config) Redacted() []any {
	out := []any{"addr", c.Addr, "data", c.Data, "public_url", c.PublicURL, "smtp", c.SMTPAddr != "", "lease_ttl", c.Reading.LeaseTTL,
		"heartbeat_every", c.Reading.HeartbeatEvery, "contest_window", c.Reading.ContestWindow, "sharing_takeovers", c.Reading.SharingTakeovers,
		"sharing_window", c.Reading.SharingWindow, "sharing_quiet", c.Reading.SharingQuiet}
	if c.DatabaseURL != "" {
		out = append(out, "database", redactURL(c.DatabaseURL))
	}
	if c.RedisURL != "" {
		out = append(out, "redis", redactURL(c.RedisURL))
	}
	return out
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable]"
	}
	return u.Redacted()
}

// BaseURL is the public URL, or http://ADDR when none is set.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	return "http://" + c.Addr
}

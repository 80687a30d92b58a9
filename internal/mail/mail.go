// Package mail sends kiosko's email: over SMTP (github.com/wneessen/go-mail)
// when a server is configured, else to the log so local use works.
//
// New returns the mailer for one-off messages (sign-up, password reset,
// newsletter confirmations); NewBulk returns the sender for newsletters: a
// pool of persistent connections, a rate limit, and errors classified as
// permanent (5xx) or temporary (4xx, network) through *kiosko.DeliveryError.
package mail

import (
	"cmp"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	gomail "github.com/wneessen/go-mail"
)

// Config says how to reach the mail server.
type Config struct {
	Addr     string        // host:port (KIOSKO_SMTP_ADDR); empty: messages go to .eml files in Dir
	Dir      string        // where messages go without SMTP (KIOSKO_DATA/mail); empty: nowhere, only a log line
	User     string        // KIOSKO_SMTP_USER; empty: no authentication
	Password string        // KIOSKO_SMTP_PASSWORD
	From     string        // KIOSKO_MAIL_FROM, e.g. "El Diario <no-reply@example.com>"
	HELO     string        // name sent in EHLO; default: the host's name
	Timeout  time.Duration // per connection and command; default 30s
	Log      *slog.Logger  // default slog.Default()
}

// DefaultFrom is the sender when Config.From is empty.
const DefaultFrom = "kiosko <no-reply@localhost>"

func (c Config) withDefaults() Config {
	c.From = cmp.Or(strings.TrimSpace(c.From), DefaultFrom)
	c.Timeout = cmp.Or(c.Timeout, 30*time.Second)
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}

// Validate checks the configuration, so a typo fails at start and not at
// the first email.
func (c Config) Validate() error {
	if c.Addr != "" {
		host, port, err := net.SplitHostPort(c.Addr)
		if err != nil || host == "" {
			return fmt.Errorf("mail: KIOSKO_SMTP_ADDR %q must be host:port", c.Addr)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return fmt.Errorf("mail: KIOSKO_SMTP_ADDR %q has a bad port", c.Addr)
		}
	}
	if c.From != "" {
		m := gomail.NewMsg()
		if err := m.From(c.From); err != nil {
			return fmt.Errorf("mail: KIOSKO_MAIL_FROM %q is not an address: %w", c.From, err)
		}
	}
	if c.Password != "" && c.User == "" {
		return fmt.Errorf("mail: KIOSKO_SMTP_PASSWORD is set without KIOSKO_SMTP_USER")
	}
	return nil
}

// New returns the mailer cfg describes: SMTP when cfg.Addr is set, else a
// mailer that writes each message to an .eml file in cfg.Dir.
func New(cfg Config) kiosko.Mailer {
	cfg = cfg.withDefaults()
	if cfg.Addr == "" {
		return &LogMailer{Log: cfg.Log, Dir: cfg.Dir}
	}
	return &SMTPMailer{cfg: cfg}
}

// build turns a kiosko.Message into a go-mail message: a text part, an HTML
// alternative when there is one, and the extra headers.
func build(from string, m *kiosko.Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8))
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, &kiosko.DeliveryError{Permanent: true, Err: fmt.Errorf("recipient %q: %w", m.To, err)}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	for k, v := range m.Headers {
		if strings.ContainsAny(k+v, "\r\n") {
			return nil, fmt.Errorf("mail: header %q has a line break", k)
		}
		if strings.EqualFold(k, "Message-ID") {
			msg.SetMessageIDWithValue(strings.Trim(v, "<>"))
			continue
		}
		if isASCII(v) {
			msg.SetGenHeaderPreformatted(gomail.Header(k), v)
		} else {
			msg.SetGenHeader(gomail.Header(k), v)
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

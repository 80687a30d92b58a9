package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"time"

	"github.com/kiosko/kiosko"
	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// SMTPMailer sends each message over its own connection: right for the
// occasional transactional email, where a connection kept open would mostly
// sit idle and go stale. Safe for concurrent use.
type SMTPMailer struct {
	cfg Config
}

var _ kiosko.Mailer = (*SMTPMailer)(nil)

// Send delivers m. Failures are *kiosko.DeliveryError.
func (s *SMTPMailer) Send(ctx context.Context, m *kiosko.Message) error {
	msg, err := build(s.cfg.From, m)
	if err != nil {
		return err
	}
	c, err := newClient(s.cfg)
	if err != nil {
		return err
	}
	conn, err := dial(ctx, c)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := transact(ctx, conn, msg, nil, s.cfg.Timeout); err != nil {
		return err
	}
	_ = conn.Quit()
	return nil
}

// newClient makes the go-mail client that dials connections: STARTTLS when
// the server offers it, authentication when a user is configured.
func newClient(cfg Config) (*gomail.Client, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("mail: bad SMTP address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("mail: bad SMTP port %q", portStr)
	}
	opts := []gomail.Option{
		gomail.WithPort(port),
		gomail.WithTLSPortPolicy(gomail.TLSOpportunistic),
		gomail.WithTimeout(cfg.Timeout),
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	} else if h, err := os.Hostname(); err != nil || h == "" {
		opts = append(opts, gomail.WithHELO("localhost"))
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return c, nil
}

// dial opens one ready connection (greeted, TLS, authenticated).
func dial(ctx context.Context, c *gomail.Client) (*smtp.Client, error) {
	conn, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, classify(fmt.Errorf("connect to %s: %w", c.ServerAddr(), err))
	}
	return conn, nil
}

// transact runs one mail transaction on conn. commit, when not nil, runs
// after the content is written and before the final "." (see
// kiosko.BulkMailer). reusable reports whether conn may carry another
// message.
func transact(ctx context.Context, conn *smtp.Client, msg *gomail.Msg, commit func() error, timeout time.Duration) (reusable bool, err error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	// The connection's deadline was set when it was dialled; a pooled
	// connection needs a fresh one for every message.
	if err := conn.UpdateDeadline(timeout); err != nil {
		return false, classify(err)
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return true, fmt.Errorf("mail: sender: %w", err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return true, &kiosko.DeliveryError{Permanent: true, Err: err}
	}
	// A refusal of MAIL or RCPT leaves the connection usable after RSET;
	// anything else (a dropped connection, a timeout) does not.
	refused := func(err error) (bool, error) {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return conn.Reset() == nil, classify(err)
		}
		return false, classify(err)
	}
	if err := conn.Mail(from); err != nil {
		return refused(err)
	}
	for _, r := range rcpts {
		if err := conn.Rcpt(r); err != nil {
			return refused(err)
		}
	}
	w, err := conn.Data()
	if err != nil {
		return refused(err)
	}
	if _, err := msg.WriteTo(w); err != nil {
		return false, classify(err)
	}
	if commit != nil {
		if err := commit(); err != nil {
			// Without the final dot the server discards the message;
			// dropping the connection is the only way to abandon DATA.
			return false, err
		}
	}
	if err := w.Close(); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return conn.Reset() == nil, classify(err)
		}
		return false, classify(err)
	}
	return true, nil
}

// classify wraps err as a *kiosko.DeliveryError: SMTP 5xx is permanent,
// 4xx and everything else (network, timeouts) temporary.
func classify(err error) error {
	var d *kiosko.DeliveryError
	if errors.As(err, &d) {
		return err
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return &kiosko.DeliveryError{Code: tp.Code, Permanent: tp.Code >= 500 && tp.Code < 600, Err: err}
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return &kiosko.DeliveryError{Code: se.ErrorCode(), Permanent: !se.IsTemp() && se.ErrorCode() >= 500, Err: err}
	}
	return &kiosko.DeliveryError{Err: err}
}

package mail

import (
	"cmp"
	"context"
	"errors"
	"sync"

	"github.com/kiosko/kiosko"
	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// BulkConfig tunes the newsletter sender (listmonk's knobs).
type BulkConfig struct {
	Connections int     // concurrent SMTP connections, kept open; default 4
	Rate        float64 // messages per second over all connections; 0: no limit
}

// Bulk sends many messages over a pool of persistent SMTP connections, at
// most Connections at a time and at most Rate per second.
type Bulk struct {
	cfg     Config
	client  *gomail.Client
	limiter *rate.Limiter // nil: unlimited
	slots   chan struct{} // one per connection that may be in use

	mu     sync.Mutex
	idle   []*smtp.Client
	closed bool
}

var _ kiosko.BulkMailer = (*Bulk)(nil)

// NewBulk returns the newsletter sender cfg describes: a *Bulk when cfg.Addr
// is set, else the log mailer.
func NewBulk(cfg Config, b BulkConfig) (kiosko.BulkMailer, error) {
	cfg = cfg.withDefaults()
	if cfg.Addr == "" {
		return &LogMailer{Log: cfg.Log, Dir: cfg.Dir}, nil
	}
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	n := cmp.Or(max(b.Connections, 0), 4)
	s := &Bulk{cfg: cfg, client: c, slots: make(chan struct{}, n)}
	if b.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(b.Rate), max(1, int(b.Rate/10)))
	}
	return s, nil
}

// Send delivers m over a pooled connection.
func (s *Bulk) Send(ctx context.Context, m *kiosko.Message) error {
	return s.SendCommit(ctx, m, nil)
}

// SendCommit delivers m, calling commit just before the final "." (see
// kiosko.BulkMailer). A stale pooled connection that fails before commit is
// replaced and the message tried once more on a fresh one.
func (s *Bulk) SendCommit(ctx context.Context, m *kiosko.Message, commit func() error) error {
	msg, err := build(s.cfg.From, m)
	if err != nil {
		return err
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.slots }()
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			return err
		}
	}
	committed := false
	track := func() error {
		if commit != nil {
			if err := commit(); err != nil {
				return err
			}
		}
		committed = true
		return nil
	}
	for attempt := 0; ; attempt++ {
		conn, pooled, err := s.get(ctx)
		if err != nil {
			return err
		}
		reusable, err := transact(ctx, conn, msg, track, s.cfg.Timeout)
		if reusable {
			s.put(conn)
		} else {
			conn.Close()
		}
		var d *kiosko.DeliveryError
		if err != nil && pooled && !committed && attempt == 0 && errors.As(err, &d) && d.Code == 0 {
			continue // the server closed an idle connection; try a new one
		}
		return err
	}
}

// get returns an idle connection or dials a new one; pooled says which.
func (s *Bulk) get(ctx context.Context) (*smtp.Client, bool, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, false, errors.New("mail: bulk sender closed")
	}
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, true, nil
	}
	s.mu.Unlock()
	c, err := dial(ctx, s.client)
	return c, false, err
}

func (s *Bulk) put(c *smtp.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Quit()
		return
	}
	s.idle = append(s.idle, c)
}

// Close says goodbye on every idle connection.
func (s *Bulk) Close() error {
	s.mu.Lock()
	idle := s.idle
	s.idle, s.closed = nil, true
	s.mu.Unlock()
	for _, c := range idle {
		if err := c.Quit(); err != nil {
			c.Close()
		}
	}
	return nil
}

package mail

import (
	"cmp"
	"context"
	"errors"
	"net/textproto"
	"sync"
	"time"

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
//
// go-mail dials each connection (greeting, STARTTLS, authentication);
// the mail transactions are Bulk's own, on the connection's text stream:
// MAIL, RCPT and DATA go in one write when the server offers PIPELINING
// (RFC 2920), and the message goes out as bytes already encoded (see
// encoder), in one write with its final "." when commit allows.
type Bulk struct {
	cfg     Config
	client  *gomail.Client
	enc     *encoder
	limiter *rate.Limiter // nil: unlimited
	slots   chan struct{} // one per connection that may be in use
	bufs    sync.Pool     // *[]byte wire buffers

	mu     sync.Mutex
	idle   []*bulkConn
	closed bool
}

// bulkConn is one open connection and what its server offers.
type bulkConn struct {
	c          *smtp.Client
	pipelining bool
	utf8       bool
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
	enc, err := newEncoder(cfg.From)
	if err != nil {
		return nil, err
	}
	n := cmp.Or(max(b.Connections, 0), 4)
	s := &Bulk{cfg: cfg, client: c, enc: enc, slots: make(chan struct{}, n)}
	if b.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(b.Rate), max(1, int(b.Rate/10)))
	}
	return s, nil
}

// Send delivers m over a pooled connection.
func (s *Bulk) Send(ctx context.Context, m *kiosko.Message) error {
	bm := &kiosko.BulkMessage{To: m.To, Subject: m.Subject, Headers: m.Headers, Text: []kiosko.Piece{{Text: m.Text}}}
	if m.HTML != "" {
		bm.HTML = []kiosko.Piece{{Text: m.HTML}}
	}
	return s.SendCommit(ctx, bm, nil)
}

// SendCommit delivers m, calling commit just before the final "." (see
// kiosko.BulkMailer). A stale pooled connection that fails before commit is
// replaced and the message tried once more on a fresh one.
func (s *Bulk) SendCommit(ctx context.Context, m *kiosko.BulkMessage, commit func() error) error {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer s.bufs.Put(bp)
	msg, to, err := s.enc.encode((*bp)[:0], m, time.Now())
	*bp = msg
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
		reusable, err := s.transact(ctx, conn, to, msg, track)
		if reusable {
			s.put(conn)
		} else {
			conn.c.Close()
		}
		var d *kiosko.DeliveryError
		if err != nil && pooled && !committed && attempt == 0 && errors.As(err, &d) && d.Code == 0 {
			continue // the server closed an idle connection; try a new one
		}
		return err
	}
}

// transact runs one mail transaction on conn: msg is the message in its
// wire form, to its one recipient. commit runs after the content and
// before the final "."; reusable reports whether conn may carry another
// message.
func (s *Bulk) transact(ctx context.Context, conn *bulkConn, to string, msg []byte, commit func() error) (reusable bool, err error) {
	if err := ctx.Err(); err != nil {
		return true, err
	}
	c := conn.c
	// The connection's deadline was set when it was dialled; a pooled
	// connection needs a fresh one for every message.
	if err := c.UpdateDeadline(s.cfg.Timeout); err != nil {
		return false, classify(err)
	}
	w, r := c.Text.W, c.Text
	mailCmd := "MAIL FROM:<" + s.enc.envelope + ">"
	if conn.utf8 && (!isASCII(to) || !isASCII(s.enc.envelope)) {
		mailCmd += " SMTPUTF8"
	}
	cmds := [...]struct {
		line string
		code int
	}{{mailCmd, 250}, {"RCPT TO:<" + to + ">", 25}, {"DATA", 354}}
	// A refusal of MAIL or RCPT leaves the connection usable after RSET
	// once every answer is read; anything else (a dropped connection, a
	// timeout) does not.
	var refusal error
	dataOK := false // the server waits for content
	answer := func(code int) error {
		_, _, err := r.ReadResponse(code)
		if err == nil && code == 354 {
			dataOK = true
		}
		if err != nil {
			var tp *textproto.Error
			if !errors.As(err, &tp) {
				return err // the connection is gone
			}
			if refusal == nil {
				refusal = err
			}
		}
		return nil
	}
	if conn.pipelining {
		for _, cmd := range cmds {
			w.WriteString(cmd.line)
			w.WriteString("\r\n")
		}
		if err := w.Flush(); err != nil {
			return false, classify(err)
		}
		for _, cmd := range cmds {
			if err := answer(cmd.code); err != nil {
				return false, classify(err)
			}
		}
	} else {
		for _, cmd := range cmds {
			w.WriteString(cmd.line)
			w.WriteString("\r\n")
			if err := w.Flush(); err != nil {
				return false, classify(err)
			}
			if err := answer(cmd.code); err != nil {
				return false, classify(err)
			}
			if refusal != nil {
				break
			}
		}
	}
	if refusal != nil {
		if dataOK {
			// DATA accepted after a refused MAIL or RCPT: never send
			// content to nobody; only dropping the connection ends DATA.
			return false, classify(refusal)
		}
		return c.Reset() == nil, classify(refusal)
	}
	if _, err := w.Write(msg); err != nil {
		return false, classify(err)
	}
	if commit != nil {
		if err := commit(); err != nil {
			// Without the final dot the server discards the message;
			// dropping the connection is the only way to abandon DATA.
			return false, err
		}
	}
	w.WriteString(".\r\n")
	if err := w.Flush(); err != nil {
		return false, classify(err)
	}
	if _, _, err := r.ReadResponse(250); err != nil {
		var tp *textproto.Error
		if errors.As(err, &tp) {
			return c.Reset() == nil, classify(err)
		}
		return false, classify(err)
	}
	return true, nil
}

// get returns an idle connection or dials a new one; pooled says which.
func (s *Bulk) get(ctx context.Context) (*bulkConn, bool, error) {
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
	if err != nil {
		return nil, false, err
	}
	conn := &bulkConn{c: c}
	conn.pipelining, _ = c.Extension("PIPELINING")
	conn.utf8, _ = c.Extension("SMTPUTF8")
	return conn, false, nil
}

func (s *Bulk) put(c *bulkConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.c.Quit()
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
		if err := c.c.Quit(); err != nil {
			c.c.Close()
		}
	}
	return nil
}

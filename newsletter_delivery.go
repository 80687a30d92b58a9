package kiosko

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// BulkMailer sends many messages, as a newsletter does, over persistent
// connections with bounded concurrency and rate. It is safe for concurrent
// use.
type BulkMailer interface {
	Mailer
	// SendCommit sends m, calling commit (when not nil) after the whole
	// message has been handed to the mail server but before the final "."
	// that makes the server accept it. When commit fails the message is
	// abandoned unsent. The pieces of m marked Shared are the same in many
	// messages: a mailer may encode them once and reuse the result.
	SendCommit(ctx context.Context, m *BulkMessage, commit func() error) error
	// Close ends every connection.
	Close() error
}

// DeliveryError is a mail server's refusal of a message, or a failure to
// talk to it. Permanent refusals (SMTP 5xx) will not succeed on retry;
// everything else (4xx, network, timeouts) may.
type DeliveryError struct {
	Code      int // SMTP reply code; 0 when the server did not answer
	Permanent bool
	Err       error
}

// Error implements the error interface.
func (e *DeliveryError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	if e.Code != 0 {
		return fmt.Sprintf("mail delivery failed (%s, %d): %v", kind, e.Code, e.Err)
	}
	return fmt.Sprintf("mail delivery failed (%s): %v", kind, e.Err)
}

// Unwrap returns the underlying error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// IsPermanentDelivery reports whether err is a permanent refusal: the
// address should be marked bounced, not retried.
func IsPermanentDelivery(err error) bool {
	var d *DeliveryError
	return errors.As(err, &d) && d.Permanent
}

// Piece is a stretch of a message body. A Shared piece is the same in
// every copy of a bulk message (an issue's list of articles); the others
// differ per recipient (the greeting, the unsubscribe link).
type Piece struct {
	Text   string
	Shared bool
}

// BulkMessage is one recipient's copy of a message sent to many. Its text
// and HTML bodies are the concatenation of their pieces, so the part every
// copy shares is written, and encoded for the wire, once per issue rather
// than once per recipient.
type BulkMessage struct {
	To      string
	Subject string
	Headers map[string]string // extra headers, e.g. List-Unsubscribe
	Text    []Piece
	HTML    []Piece // empty: a text-only message
}

// Message joins the pieces into an ordinary message (a preview, the
// mailer that writes .eml files).
func (m *BulkMessage) Message() *Message {
	return &Message{To: m.To, Subject: m.Subject, Headers: m.Headers, Text: JoinPieces(m.Text), HTML: JoinPieces(m.HTML)}
}

// JoinPieces returns the text of ps.
func JoinPieces(ps []Piece) string {
	n := 0
	for _, p := range ps {
		n += len(p.Text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range ps {
		b.WriteString(p.Text)
	}
	return b.String()
}

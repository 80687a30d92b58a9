package kiosko

import (
	"context"
	"errors"
	"fmt"
)

// BulkMailer sends many messages, as a newsletter does, over persistent
// connections with bounded concurrency and rate. It is safe for concurrent
// use.
type BulkMailer interface {
	Mailer
	// SendCommit sends m like Send, calling commit after the whole message
	// has been handed to the mail server but before the final "." that makes
	// the server accept it. When commit fails the message is abandoned
	// unsent. The newsletter records "about to be accepted" in commit, which
	// narrows the window where a crash leaves it unsure whether a message
	// went out to the one round trip of the server's answer.
	SendCommit(ctx context.Context, m *Message, commit func() error) error
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

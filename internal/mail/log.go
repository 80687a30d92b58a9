package mail

import (
	"context"
	"log/slog"

	"github.com/kiosko/kiosko"
)

// LogMailer writes each message to the log instead of sending it: what
// kiosko does when no SMTP server is configured, so a developer can follow
// the links of confirmation and reset emails.
type LogMailer struct {
	Log *slog.Logger
}

var _ kiosko.BulkMailer = (*LogMailer)(nil)

// Send logs m.
func (l *LogMailer) Send(ctx context.Context, m *kiosko.Message) error {
	if _, err := build(DefaultFrom, m); err != nil {
		return err
	}
	attrs := []any{"to", m.To, "subject", m.Subject, "text", m.Text}
	if v, ok := m.Headers["List-Unsubscribe"]; ok {
		attrs = append(attrs, "list_unsubscribe", v)
	}
	l.logger().InfoContext(ctx, "email (no SMTP server configured)", attrs...)
	return nil
}

// SendCommit logs m after commit succeeds.
func (l *LogMailer) SendCommit(ctx context.Context, m *kiosko.Message, commit func() error) error {
	if err := commit(); err != nil {
		return err
	}
	return l.Send(ctx, m)
}

// Close does nothing.
func (l *LogMailer) Close() error { return nil }

func (l *LogMailer) logger() *slog.Logger {
	if l.Log == nil {
		return slog.Default()
	}
	return l.Log
}

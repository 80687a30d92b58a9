package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kiosko/kiosko"
)

// LogMailer is what kiosko does when no SMTP server is configured: each
// message is written whole as an .eml file under Dir (KIOSKO_DATA/mail/),
// which any mail client opens, and the log gets one line with the
// recipient, the subject and the file. The log never gets the message's
// text: reset, confirmation and invitation links carry tokens, and logs
// travel further than the data directory.
type LogMailer struct {
	Log *slog.Logger
	Dir string // empty: the message is not kept anywhere
}

var _ kiosko.BulkMailer = (*LogMailer)(nil)

// Send writes m to Dir and logs where.
func (l *LogMailer) Send(ctx context.Context, m *kiosko.Message) error {
	msg, err := build(DefaultFrom, m)
	if err != nil {
		return err
	}
	attrs := []any{"to", m.To, "subject", m.Subject}
	if l.Dir != "" {
		path, err := l.write(msg)
		if err != nil {
			return err
		}
		attrs = append(attrs, "file", path)
	}
	l.logger().InfoContext(ctx, "email (no SMTP server configured)", attrs...)
	return nil
}

// write stores msg as a new .eml file readable by the owner only.
func (l *LogMailer) write(msg interface {
	WriteToFile(string) error
}) (string, error) {
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return "", fmt.Errorf("mail: %w", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	path := filepath.Join(l.Dir, time.Now().UTC().Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(b)+".eml")
	// Written under another name and renamed, so whoever watches the
	// directory never opens half a message.
	tmp := path + ".part"
	if err := msg.WriteToFile(tmp); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mail: write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mail: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("mail: %w", err)
	}
	return path, nil
}

// SendCommit writes m after commit succeeds.
func (l *LogMailer) SendCommit(ctx context.Context, m *kiosko.BulkMessage, commit func() error) error {
	if commit != nil {
		if err := commit(); err != nil {
			return err
		}
	}
	return l.Send(ctx, m.Message())
}

// Close does nothing.
func (l *LogMailer) Close() error { return nil }

func (l *LogMailer) logger() *slog.Logger {
	if l.Log == nil {
		return slog.Default()
	}
	return l.Log
}

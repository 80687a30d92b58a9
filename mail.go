package kiosko

import "context"

// Message is one email.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string            // optional
	Headers map[string]string // extra headers, e.g. List-Unsubscribe
}

// Mailer sends email: SMTP when configured, else the log.
type Mailer interface {
	Send(ctx context.Context, m *Message) error
}

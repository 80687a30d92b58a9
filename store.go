package kiosko

import "context"

// Store is all durable data. Implementations: SQLite (internal/sqlite) and
// PostgreSQL (internal/postgres); both pass internal/storetest.
type Store interface {
	AccountStore
	SessionStore
	ArticleStore
	APIKeyStore
	ImageStore
	SubscriptionStore
	EventStore
	EventLog
	MeterStore
	NewsletterStore
	InviteStore
	BillingStore
	ConsoleStore
	InsightsStore
	AccountDataStore // accountdata.go
	MemberStore      // members.go
	// Ping checks the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

package kiosko

// NewsletterStore keeps newsletter subscribers, issues and deliveries.
// (Filled in with the newsletter.)
type NewsletterStore interface {
}

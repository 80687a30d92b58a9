package kiosko

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Scopes an API key may carry. Each opens one family of publisher calls;
// none implies another.
const (
	ScopeNewsroom = "newsroom" // push, read and unpublish articles (a CMS)
	ScopeWebhooks = "webhooks" // manage outgoing webhooks
	ScopeAdmin    = "admin"    // the console's calls
)

// Scopes lists every scope.
var Scopes = []string{ScopeNewsroom, ScopeWebhooks, ScopeAdmin}

// APIKeyPrefix starts every API key, so a key is told from a session
// token at a glance (and by secret scanners).
const APIKeyPrefix = "kiosko_"

// APIKey lets a server (a CMS, the publisher's backend) call kiosko. Only
// a hash of the key is stored; the key itself is shown once, at creation.
type APIKey struct {
	ID         int64
	Name       string
	Prefix     string // the key's first characters, to recognise it in a list
	Hash       string
	Scopes     []string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Has reports whether the key carries scope.
func (k *APIKey) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Revoked reports whether the key was revoked.
func (k *APIKey) Revoked() bool { return k.RevokedAt != nil }

// RoleHasScope reports whether a signed-in account with role may make the
// calls of scope: editors and admins the newsroom's, admins every other.
func RoleHasScope(role, scope string) bool {
	switch scope {
	case ScopeNewsroom:
		return role == RoleEditor || role == RoleAdmin
	case ScopeWebhooks, ScopeAdmin:
		return role == RoleAdmin
	}
	return false
}

// NewAPIKey makes a key named name with scopes; secret is the key to give
// its user, once. The key is 256 bits from crypto/rand, so a plain
// SHA-256 is a sufficient hash (nothing to slow down guessing of).
func NewAPIKey(name string, scopes []string, now time.Time) (k *APIKey, secret string, err error) {
	name = CleanName(strings.TrimSpace(name))
	if name == "" || len(name) > 100 {
		return nil, "", Errorf(EINVALID, "error.apikey_name", "An API key needs a name of at most 100 characters.")
	}
	var clean []string
	for _, s := range scopes {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(Scopes, s) {
			return nil, "", Errorf(EINVALID, "error.apikey_scope", "Unknown scope %q: use newsroom, webhooks or admin.", s)
		}
		if !slices.Contains(clean, s) {
			clean = append(clean, s)
		}
	}
	if len(clean) == 0 {
		return nil, "", Errorf(EINVALID, "error.apikey_scope_required", "An API key needs at least one scope: newsroom, webhooks or admin.")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	secret = APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return &APIKey{Name: name, Prefix: secret[:len(APIKeyPrefix)+6], Hash: HashAPIKey(secret), Scopes: clean, CreatedAt: now.UTC()}, secret, nil
}

// HashAPIKey is what the store keeps of a key.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	// CreateAPIKey stores k and sets its ID.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeyByHash returns the key with that hash, revoked or not, or
	// ENOTFOUND.
	FindAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	// FindAPIKeys lists every key, oldest first.
	FindAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey revokes a key at at; ENOTFOUND if there is none.
	// Revoking a revoked key keeps its first revocation.
	RevokeAPIKey(ctx context.Context, id int64, at time.Time) error
	// TouchAPIKey records that the key was used at at.
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error
}

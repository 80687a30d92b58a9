// Package entitlement signs the entitlements of reading answers: a JWT
// (ES256) that a publisher's CDN edge or backend verifies with kiosko's
// published keys (GET /.well-known/jwks.json), without calling kiosko, to
// serve an article's body only to a reader who may read it now (DESIGN.md,
// "Publisher integration").
//
// Claims: sub (the account id), art (the article id), dev (the device
// id), iat, exp (no later than the lease's lapse) and iss (kiosko's public
// URL). The signing keys live in the database, so every node signs with
// the same key and publishes the same set; the first node that needs a
// key makes it.
package entitlement

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Algorithm is the only signing algorithm.
const Algorithm = "ES256"

// Key is a signing key as stored. RetiredAt, when set, is when it stops
// signing (it may be in the future: a rotation retires the old key once
// the new one has been published for PublishAhead).
type Key struct {
	KID       string
	Alg       string
	Private   []byte // PKCS #8, DER
	CreatedAt time.Time
	RetiredAt *time.Time
}

// KeyStore keeps signing keys. *sqlite.DB and *postgres.DB implement it.
type KeyStore interface {
	// FindSigningKeys lists every key, oldest first.
	FindSigningKeys(ctx context.Context) ([]*Key, error)
	// CreateSigningKey stores k. With first, it stores k only if no key
	// that has not retired exists, and reports whether it stored it: of
	// two nodes starting at once, one key wins.
	CreateSigningKey(ctx context.Context, k *Key, first bool) (bool, error)
	// RetireSigningKeys sets RetiredAt to at on every key but kid that
	// has none.
	RetireSigningKeys(ctx context.Context, kid string, at time.Time) error
}

// Timing of a rollover. A new key is published PublishAhead before it
// signs, so verifiers that cache the key set (for up to CacheFor) know it
// before they meet it; a retired key stays published for KeepRetired,
// far longer than any entitlement it signed lives.
const (
	PublishAhead = 15 * time.Minute
	CacheFor     = 5 * time.Minute
	KeepRetired  = 24 * time.Hour
	reload       = time.Minute // how often a node rereads the keys
)

// NewKey makes a P-256 key.
func NewKey(now time.Time) (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 9)
	_, _ = rand.Read(id)
	return &Key{KID: "k" + strconv.FormatInt(now.Unix(), 36) + "-" + base64.RawURLEncoding.EncodeToString(id), Alg: Algorithm, Private: der, CreatedAt: now.UTC()}, nil
}

// Rotate adds a new key that signs from PublishAhead on, and retires the
// others then. Both are published meanwhile.
func Rotate(ctx context.Context, s KeyStore, now time.Time) (*Key, error) {
	k, err := NewKey(now)
	if err != nil {
		return nil, err
	}
	if _, err := s.CreateSigningKey(ctx, k, false); err != nil {
		return nil, err
	}
	if err := s.RetireSigningKeys(ctx, k.KID, now.Add(PublishAhead)); err != nil {
		return nil, err
	}
	return k, nil
}

// Claims are an entitlement's claims.
type Claims struct {
	jwt.Claims
	Article string `json:"art,omitempty"`
	Device  string `json:"dev"`
}

// Issuer signs entitlements and serves the key set.
type Issuer struct {
	Store  KeyStore
	Issuer string           // iss; kiosko's public URL
	Now    func() time.Time // nil: time.Now

	mu       sync.Mutex
	loadedAt time.Time
	keys     []*loadedKey
}

type loadedKey struct {
	Key
	priv   *ecdsa.PrivateKey
	signer jose.Signer
}

func (i *Issuer) now() time.Time {
	if i.Now != nil {
		return i.Now()
	}
	return time.Now()
}

// Init makes sure a key exists and loads the keys; a node calls it at start.
func (i *Issuer) Init(ctx context.Context) error {
	k, err := NewKey(i.now())
	if err != nil {
		return err
	}
	if _, err := i.Store.CreateSigningKey(ctx, k, true); err != nil {
		return fmt.Errorf("entitlement key: %w", err)
	}
	return i.load(ctx)
}

func (i *Issuer) load(ctx context.Context) error {
	keys, err := i.Store.FindSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("entitlement keys: %w", err)
	}
	out := make([]*loadedKey, 0, len(keys))
	for _, k := range keys {
		parsed, err := x509.ParsePKCS8PrivateKey(k.Private)
		if err != nil {
			return fmt.Errorf("entitlement key %s: %w", k.KID, err)
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok {
			return fmt.Errorf("entitlement key %s is not an ECDSA key", k.KID)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
			(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.KID))
		if err != nil {
			return err
		}
		out = append(out, &loadedKey{Key: *k, priv: priv, signer: signer})
	}
	i.mu.Lock()
	i.keys, i.loadedAt = out, i.now()
	i.mu.Unlock()
	return nil
}

// current returns the loaded keys, rereading them when stale.
func (i *Issuer) current(ctx context.Context) ([]*loadedKey, error) {
	i.mu.Lock()
	keys, stale := i.keys, i.now().Sub(i.loadedAt) >= reload || i.keys == nil
	i.mu.Unlock()
	if stale {
		if err := i.load(ctx); err != nil {
			if keys != nil {
				return keys, nil // keep signing with what we have
			}
			return nil, err
		}
		i.mu.Lock()
		keys = i.keys
		i.mu.Unlock()
	}
	return keys, nil
}

// signing picks the key that signs at now. During a rollover the old key,
// whose retirement is due, signs until then (the new one is being
// published meanwhile); otherwise the newest key that has not retired.
func signing(keys []*loadedKey, now time.Time) *loadedKey {
	var retiring, newest *loadedKey
	for _, k := range keys {
		switch {
		case k.RetiredAt == nil:
			newest = k // keys come oldest first
		case now.Before(*k.RetiredAt):
			if retiring == nil || k.RetiredAt.Before(*retiring.RetiredAt) {
				retiring = k
			}
		}
	}
	if retiring != nil {
		return retiring
	}
	return newest
}

// ErrNoKey means no signing key is loaded (Init was not called).
var ErrNoKey = errors.New("entitlement: no signing key")

// Sign returns an entitlement for account to read article on device until
// exp (rounded down to the second).
func (i *Issuer) Sign(ctx context.Context, account int64, article, device string, exp time.Time) (string, error) {
	keys, err := i.current(ctx)
	if err != nil {
		return "", err
	}
	now := i.now()
	k := signing(keys, now)
	if k == nil {
		return "", ErrNoKey
	}
	c := Claims{
		Claims: jwt.Claims{Subject: strconv.FormatInt(account, 10), Issuer: i.Issuer,
			IssuedAt: jwt.NewNumericDate(now.Truncate(time.Second)), Expiry: jwt.NewNumericDate(exp.Truncate(time.Second))},
		Article: article, Device: device,
	}
	return jwt.Signed(k.signer).Claims(c).Serialize()
}

// JWKS returns the public keys to publish: every key not retired for
// longer than KeepRetired.
func (i *Issuer) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := i.current(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	now := i.now()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, k := range keys {
		if k.RetiredAt != nil && now.Sub(*k.RetiredAt) > KeepRetired {
			continue
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: k.KID, Algorithm: Algorithm, Use: "sig"})
	}
	return set, nil
}

// Verify checks an entitlement against a key set as a publisher would:
// an ES256 signature by a key of set, an unexpired exp (with leeway for
// clock skew), and iss when issuer is not empty. It is the reference for
// docs/integration.md's examples and for tests.
func Verify(token string, set jose.JSONWebKeySet, issuer string, now time.Time, leeway time.Duration) (*Claims, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	if len(tok.Headers) != 1 {
		return nil, errors.New("entitlement: want one signature")
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) == 0 {
		return nil, fmt.Errorf("entitlement: unknown key %q", tok.Headers[0].KeyID)
	}
	var c Claims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return nil, err
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, Time: now}, leeway); err != nil {
		return nil, err
	}
	if c.Expiry == nil {
		return nil, errors.New("entitlement: no exp")
	}
	return &c, nil
}

// Package atrest seals the secrets kiosko must keep readable in its
// database (the entitlement signing keys, the webhook endpoints' whsec_
// secrets) so that a copy of the database, a backup or a stolen SQLite
// file does not give them away: AES-256-GCM under a key derived with HKDF
// from kiosko's secret (KIOSKO_SECRET, or secret.key in the data
// directory), which never enters the database.
//
// A sealed value is text: Prefix and the base64 of nonce and ciphertext.
// A value without the prefix is a clear row written before sealing
// existed; Open returns it as it is, and the stores seal such rows on
// their first start with a Box (SealSecrets).
package atrest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// Prefix starts every sealed value. A clear signing key (DER, 0x30) or
// webhook secret ("whsec_") never does.
const Prefix = "kiosko-sealed:v1:"

// info binds the derived key to this use, so the same kiosko secret
// signing cookies never doubles as this key.
const info = "kiosko secrets at rest v1"

// ErrWrongKey is the answer to a sealed value that this key cannot open:
// the database was sealed under another kiosko secret.
var ErrWrongKey = errors.New("a stored secret was sealed under another key: KIOSKO_SECRET (or secret.key in the data directory) is not the one this database was started with; after changing it, set the old one as KIOSKO_PREVIOUS_SECRET")

// Box seals and opens secrets. A nil *Box seals nothing (Seal returns
// the clear value) and opens only clear values.
type Box struct {
	aead     cipher.AEAD
	previous []cipher.AEAD // keys of earlier secrets: they open, never seal
}

// New derives the sealing key from kiosko's secret. previous are secrets
// kiosko had before (KIOSKO_PREVIOUS_SECRET): values sealed under them
// still open, and SealSecrets seals them again under secret, so that the
// secret can be changed without losing what was sealed.
func New(secret []byte, previous ...[]byte) (*Box, error) {
	aead, err := derive(secret)
	if err != nil {
		return nil, err
	}
	b := &Box{aead: aead}
	for _, p := range previous {
		if len(p) == 0 {
			continue
		}
		old, err := derive(p)
		if err != nil {
			return nil, err
		}
		b.previous = append(b.previous, old)
	}
	return b, nil
}

func derive(secret []byte) (cipher.AEAD, error) {
	if len(secret) < 16 {
		return nil, errors.New("atrest: the secret is shorter than 16 bytes")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	return aead, nil
}

// Sealed reports whether stored is a sealed value.
func Sealed(stored []byte) bool { return bytes.HasPrefix(stored, []byte(Prefix)) }

// Seal returns plain sealed for the place label names (a table and
// column, a key id): a value moved to another place does not open.
func (b *Box) Seal(plain []byte, label string) []byte {
	if b == nil {
		return plain
	}
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	_, _ = rand.Read(nonce)
	ct := b.aead.Seal(nonce, nonce, plain, []byte(label))
	out := make([]byte, len(Prefix)+base64.RawStdEncoding.EncodedLen(len(ct)))
	copy(out, Prefix)
	base64.RawStdEncoding.Encode(out[len(Prefix):], ct)
	return out
}

// SealString is Seal for text columns.
func (b *Box) SealString(plain, label string) string { return string(b.Seal([]byte(plain), label)) }

// Open returns the clear value of stored: stored itself when it is not
// sealed, ErrWrongKey when it was sealed under another key or for
// another label.
func (b *Box) Open(stored []byte, label string) ([]byte, error) {
	plain, _, err := b.OpenStale(stored, label)
	return plain, err
}

// OpenStale is Open that also says whether stored should be sealed
// again: it is clear, or it opened only with a previous secret's key.
func (b *Box) OpenStale(stored []byte, label string) (plain []byte, stale bool, err error) {
	if !Sealed(stored) {
		return stored, true, nil
	}
	if b == nil {
		return nil, false, errors.New("atrest: a stored secret is sealed and no key was given to open it")
	}
	ct, err := base64.RawStdEncoding.DecodeString(string(stored[len(Prefix):]))
	if err != nil || len(ct) < b.aead.NonceSize() {
		return nil, false, fmt.Errorf("atrest: a sealed secret is damaged")
	}
	n := b.aead.NonceSize()
	if plain, err := b.aead.Open(nil, ct[:n], ct[n:], []byte(label)); err == nil {
		return plain, false, nil
	}
	for _, old := range b.previous {
		if plain, err := old.Open(nil, ct[:n], ct[n:], []byte(label)); err == nil {
			return plain, true, nil
		}
	}
	return nil, false, ErrWrongKey
}

// OpenString is Open for text columns.
func (b *Box) OpenString(stored, label string) (string, error) {
	p, err := b.Open([]byte(stored), label)
	return string(p), err
}

// Sealer is a store that keeps sealed secrets. SealSecrets makes box the
// store's key: it checks that every sealed row opens with it (ErrWrongKey
// otherwise, and the store keeps its previous key), seals every clear row
// and every row sealed under a previous secret in place under the
// current one, and from then on seals what it writes and opens what it
// reads. *sqlite.DB and *postgres.DB implement it.
type Sealer interface {
	SealSecrets(ctx context.Context, box *Box) (sealed int, err error)
}

// Labels of the sealed columns.
const (
	WebhookSecretLabel = "webhook_endpoints.secret"
	signingKeyLabel    = "signing_keys.private_key:"
)

// SigningKeyLabel is the label of the signing key kid.
func SigningKeyLabel(kid string) string { return signingKeyLabel + kid }

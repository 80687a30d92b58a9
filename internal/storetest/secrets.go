package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/atrest"
	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/webhook"
)

func signingKeys(t *testing.T, s kiosko.Store) entitlement.KeyStore {
	t.Helper()
	ks, isKeys := s.(entitlement.KeyStore)
	if !isKeys {
		t.Fatalf("%T does not keep signing keys", s)
	}
	return ks
}

func sealer(t *testing.T, s kiosko.Store) atrest.Sealer {
	t.Helper()
	sl, isSealer := s.(atrest.Sealer)
	if !isSealer {
		t.Fatalf("%T does not seal its secrets", s)
	}
	return sl
}

func newBox(t *testing.T, secret string) *atrest.Box {
	t.Helper()
	b, err := atrest.New([]byte(secret))
	ok(t, err)
	return b
}

// newSigningKey stores a fresh signing key made at at.
func newSigningKey(t *testing.T, s kiosko.Store, at time.Time) *entitlement.Key {
	t.Helper()
	k, err := entitlement.NewKey(at)
	ok(t, err)
	_, err = signingKeys(t, s).CreateSigningKey(t.Context(), k, false)
	ok(t, err)
	return k
}

// sameSecrets checks that the store gives back every key and endpoint
// with the secret it was given.
func sameSecrets(t *testing.T, s kiosko.Store, what string, keys []*entitlement.Key, eps []*webhook.Endpoint) {
	t.Helper()
	got, err := signingKeys(t, s).FindSigningKeys(t.Context())
	ok(t, err)
	if len(got) != len(keys) {
		t.Fatalf("%s: %d signing keys, want %d", what, len(got), len(keys))
	}
	for i, k := range keys {
		if got[i].KID != k.KID || !bytes.Equal(got[i].Private, k.Private) {
			t.Errorf("%s: signing key %s came back as %s with other bytes", what, k.KID, got[i].KID)
		}
	}
	h := hooks(t, s)
	for _, e := range eps {
		one, err := h.FindWebhookEndpoint(t.Context(), e.ID)
		ok(t, err)
		if one.Secret != e.Secret {
			t.Errorf("%s: endpoint %d secret %q, want %q", what, e.ID, one.Secret, e.Secret)
		}
	}
	all, err := h.FindWebhookEndpoints(t.Context())
	ok(t, err)
	for i, e := range all {
		if i < len(eps) && e.Secret != eps[i].Secret {
			t.Errorf("%s: listed endpoint %d secret %q, want %q", what, e.ID, e.Secret, eps[i].Secret)
		}
	}
}

var secretTests = []test{
	{"SigningKeys", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		ks := signingKeys(t, s)
		k1, err := entitlement.NewKey(t0)
		ok(t, err)
		created, err := ks.CreateSigningKey(ctx, k1, true)
		ok(t, err)
		k2, _ := entitlement.NewKey(at(time.Second))
		again, err := ks.CreateSigningKey(ctx, k2, true)
		ok(t, err)
		if !created || again {
			t.Fatalf("first key stored %v, a second first key stored %v; want true then false", created, again)
		}
		k3 := newSigningKey(t, s, at(time.Minute))
		ok(t, ks.RetireSigningKeys(ctx, k3.KID, at(time.Hour)))
		got, err := ks.FindSigningKeys(ctx)
		ok(t, err)
		if len(got) != 2 || got[0].KID != k1.KID || got[0].RetiredAt == nil || !got[0].RetiredAt.Equal(at(time.Hour)) || got[1].RetiredAt != nil {
			t.Fatalf("keys after a rotation = %+v %+v", got[0], got[len(got)-1])
		}
	}},
	{"SealedAtRest", func(t *testing.T, s kiosko.Store) {
		ctx := t.Context()
		// Rows from before sealing existed: stored clear.
		clearKey := newSigningKey(t, s, t0)
		clearEp := newEndpoint(t, s)

		box := newBox(t, "the secret of this kiosko, 32 bytes")
		n, err := sealer(t, s).SealSecrets(ctx, box)
		ok(t, err)
		if n != 2 {
			t.Errorf("first SealSecrets sealed %d rows, want the 2 clear ones", n)
		}
		sameSecrets(t, s, "after sealing the clear rows", []*entitlement.Key{clearKey}, []*webhook.Endpoint{clearEp})

		// Rows written with the key, a rotation among them.
		rotated, err := entitlement.Rotate(ctx, signingKeys(t, s), at(time.Minute))
		ok(t, err)
		newEp := newEndpoint(t, s)
		sameSecrets(t, s, "rows written sealed", []*entitlement.Key{clearKey, rotated}, []*webhook.Endpoint{clearEp, newEp})
		if n, err := sealer(t, s).SealSecrets(ctx, box); err != nil || n != 0 {
			t.Errorf("SealSecrets again = %d, %v; want nothing left to seal", n, err)
		}
		// Claims hand the worker the clear secret it signs with.
		newSubscription(t, s, newAccount(t, s), 1)
		claimed, err := hooks(t, s).ClaimWebhookEndpoints(ctx, "w1", at(time.Hour), at(2*time.Hour), 10)
		ok(t, err)
		if len(claimed) != 2 || claimed[0].Secret != clearEp.Secret || claimed[1].Secret != newEp.Secret {
			t.Errorf("claimed endpoints carry secrets %+v", claimed)
		}

		// Another kiosko secret opens nothing, and the store keeps
		// working under the one it has.
		_, err = sealer(t, s).SealSecrets(ctx, newBox(t, "some other secret, also 32 bytes"))
		if !errors.Is(err, atrest.ErrWrongKey) {
			t.Fatalf("SealSecrets under another key = %v, want ErrWrongKey", err)
		}
		sameSecrets(t, s, "after a refused key", []*entitlement.Key{clearKey, rotated}, []*webhook.Endpoint{clearEp, newEp})

		// Changing the secret, with the old one as the previous: every
		// row is sealed again under the new one, and nothing is lost.
		const newSecret = "the secret after a change, 32 bytes"
		changed, err := atrest.New([]byte(newSecret), []byte("the secret of this kiosko, 32 bytes"))
		ok(t, err)
		n, err = sealer(t, s).SealSecrets(ctx, changed)
		ok(t, err)
		if n != 4 {
			t.Errorf("SealSecrets with a new secret re-sealed %d rows, want all 4", n)
		}
		sameSecrets(t, s, "after changing the secret", []*entitlement.Key{clearKey, rotated}, []*webhook.Endpoint{clearEp, newEp})
		if n, err := sealer(t, s).SealSecrets(ctx, newBox(t, newSecret)); err != nil || n != 0 {
			t.Errorf("the new secret alone = %d, %v; want every row open and nothing to seal", n, err)
		}
		if _, err := sealer(t, s).SealSecrets(ctx, box); !errors.Is(err, atrest.ErrWrongKey) {
			t.Errorf("the old secret still opens the rows: %v", err)
		}
	}},
}

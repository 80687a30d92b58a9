package atrest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	b, err := New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	plain := "whsec_c2VjcmV0IGJ5dGVzIGhlcmU="
	s := b.SealString(plain, WebhookSecretLabel)
	if !strings.HasPrefix(s, Prefix) || strings.Contains(s, plain) || strings.Contains(s, "c2VjcmV0") {
		t.Fatalf("sealed value %q shows the secret or lacks the prefix", s)
	}
	if again := b.SealString(plain, WebhookSecretLabel); again == s {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	got, err := b.OpenString(s, WebhookSecretLabel)
	if err != nil || got != plain {
		t.Fatalf("Open = %q, %v", got, err)
	}

	other, _ := New([]byte("another secret, as long as the first"))
	if _, err := other.OpenString(s, WebhookSecretLabel); !errors.Is(err, ErrWrongKey) {
		t.Errorf("another key opened it: %v", err)
	}
	if _, err := b.OpenString(s, SigningKeyLabel("k1")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a value moved to another place opened: %v", err)
	}
	if _, err := b.OpenString(s[:len(s)-4]+"AAAA", WebhookSecretLabel); err == nil {
		t.Error("a tampered value opened")
	}
	if _, err := b.OpenString(Prefix+"!!", WebhookSecretLabel); err == nil {
		t.Error("a damaged value opened")
	}
	var none *Box
	if _, err := none.OpenString(s, WebhookSecretLabel); err == nil {
		t.Error("a sealed value opened without a key")
	}
}

func TestClearValuesPassThrough(t *testing.T) {
	b, _ := New([]byte("0123456789abcdef0123456789abcdef"))
	der := []byte{0x30, 0x81, 0x87, 0x02, 0x01}
	got, err := b.Open(der, SigningKeyLabel("k"))
	if err != nil || !bytes.Equal(got, der) {
		t.Fatalf("a clear row = %x, %v; want it as it is", got, err)
	}
	var none *Box
	if s := none.SealString("whsec_x", WebhookSecretLabel); s != "whsec_x" {
		t.Errorf("a nil box sealed: %q", s)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Error("a short secret was accepted")
	}
}

func TestPreviousSecretOpensAndIsStale(t *testing.T) {
	oldSecret, newSecret := []byte("the secret kiosko had until today"), []byte("the secret kiosko has from today on")
	old, _ := New(oldSecret)
	sealed := old.Seal([]byte("whsec_abc"), WebhookSecretLabel)

	both, err := New(newSecret, oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	plain, stale, err := both.OpenStale(sealed, WebhookSecretLabel)
	if err != nil || string(plain) != "whsec_abc" || !stale {
		t.Fatalf("a value of the previous secret = %q, stale %v, %v; want it, stale", plain, stale, err)
	}
	resealed := both.Seal(plain, WebhookSecretLabel)
	if _, stale, err := both.OpenStale(resealed, WebhookSecretLabel); err != nil || stale {
		t.Fatalf("a value sealed now is stale %v, %v", stale, err)
	}
	if _, err := old.Open(resealed, WebhookSecretLabel); !errors.Is(err, ErrWrongKey) {
		t.Errorf("the previous secret opens what the new one sealed: %v", err)
	}
	newOnly, _ := New(newSecret)
	if _, err := newOnly.Open(sealed, WebhookSecretLabel); !errors.Is(err, ErrWrongKey) {
		t.Errorf("without the previous secret its values opened: %v", err)
	}
	if _, stale, _ := both.OpenStale([]byte("whsec_clear"), WebhookSecretLabel); !stale {
		t.Error("a clear value is not stale")
	}
}

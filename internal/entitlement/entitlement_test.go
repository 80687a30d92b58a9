package entitlement_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/internal/postgres"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
	"github.com/kiosko/kiosko/internal/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func issuer(t *testing.T, s entitlement.KeyStore, c *clock) *entitlement.Issuer {
	t.Helper()
	i := &entitlement.Issuer{Store: s, Issuer: "https://kiosko.example", Now: c.Now}
	if err := i.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	return i
}

// publish is the key set as a publisher fetches it: JSON, round-tripped.
func publish(t *testing.T, i *entitlement.Issuer) jose.JSONWebKeySet {
	t.Helper()
	set, err := i.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"d"`) {
		t.Fatalf("the key set publishes a private key: %s", b)
	}
	var out jose.JSONWebKeySet
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func sign(t *testing.T, i *entitlement.Issuer, c *clock) string {
	t.Helper()
	tok, err := i.Sign(t.Context(), 42, "art-1", "dev-1", c.Now().Add(90*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func kid(t *testing.T, token string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Kid, Alg, Typ string
	}
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Alg != "ES256" || hdr.Typ != "JWT" {
		t.Errorf("header %s", h)
	}
	return hdr.Kid
}

func TestBadEntitlementsFail(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	i := issuer(t, openSQLite(t), c)
	set := publish(t, i)
	tok := sign(t, i, c)
	got, err := entitlement.Verify(tok, set, "https://kiosko.example", c.Now(), 0)
	if err != nil {
		t.Fatalf("a good entitlement fails: %v", err)
	}
	if got.Subject != "42" || got.Article != "art-1" || got.Device != "dev-1" || !got.Expiry.Time().Equal(c.Now().Add(90*time.Second)) {
		t.Errorf("claims %+v", got)
	}

	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"art-1"`, `"art-2"`, 1))) + "." + parts[2]
	foreign := sign(t, issuer(t, openSQLite(t), c), c)
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"`+kid(t, tok)+`"}`)) + "." + parts[1] + "."
	for name, bad := range map[string]string{"forged": forged, "foreign key": foreign, "alg none": none, "garbage": "x.y.z"} {
		if _, err := entitlement.Verify(bad, set, "https://kiosko.example", c.Now(), 0); err == nil {
			t.Errorf("a %s entitlement verifies", name)
		}
	}
	if _, err := entitlement.Verify(tok, set, "https://kiosko.example", c.Now().Add(91*time.Second), 0); err == nil {
		t.Error("an expired entitlement verifies")
	}
	if _, err := entitlement.Verify(tok, set, "https://other.example", c.Now(), 0); err == nil {
		t.Error("an entitlement of another issuer verifies")
	}
}

// TestRotationWithoutDowntime: a new key is published before it signs,
// both keys are published meanwhile, and what the old key signed still
// verifies with the set a publisher fetched at any time.
func TestRotationWithoutDowntime(t *testing.T) {
	db := openSQLite(t)
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	i := issuer(t, db, c)
	old := sign(t, i, c)
	oldKid := kid(t, old)

	k, err := entitlement.Rotate(t.Context(), db, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute + time.Second) // the node rereads its keys
	set := publish(t, i)
	if len(set.Keys) != 2 || len(set.Key(oldKid)) != 1 || len(set.Key(k.KID)) != 1 {
		t.Fatalf("during the rollover the set has %d keys, want the old and the new", len(set.Keys))
	}
	if got := kid(t, sign(t, i, c)); got != oldKid {
		t.Errorf("the new key signs before it has been published for %v", entitlement.PublishAhead)
	}
	if _, err := entitlement.Verify(old, set, "", c.Now(), 0); err != nil {
		t.Errorf("the old key's entitlement fails during the rollover: %v", err)
	}

	c.Add(entitlement.PublishAhead)
	tok := sign(t, i, c)
	if kid(t, tok) != k.KID {
		t.Errorf("after the rollover the old key still signs")
	}
	if _, err := entitlement.Verify(tok, set, "", c.Now(), 0); err != nil {
		t.Errorf("a set fetched during the rollover does not verify the new key's entitlement: %v", err)
	}
	c.Add(entitlement.KeepRetired + time.Minute)
	if set := publish(t, i); len(set.Keys) != 1 || set.Keys[0].KeyID != k.KID {
		t.Errorf("a day after retiring the old key is still published: %d keys", len(set.Keys))
	}
}

// TestNodesShareOneKey: two nodes starting at once on one PostgreSQL
// database make one key between them.
func TestNodesShareOneKey(t *testing.T) {
	url := pgtest.URL(t)
	c := &clock{now: time.Now()}
	var dbs []*postgres.DB
	for range 4 {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	issuers := make([]*entitlement.Issuer, len(dbs))
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for n, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			issuers[n] = &entitlement.Issuer{Store: db, Now: c.Now}
			errs[n] = issuers[n].Init(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := dbs[0].FindSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("%d keys after four nodes started, want 1", len(keys))
	}
	set := publish(t, issuers[0])
	for n, i := range issuers {
		if _, err := entitlement.Verify(sign(t, i, c), set, "", c.Now(), 0); err != nil {
			t.Errorf("node %d's entitlement fails with node 0's key set: %v", n, err)
		}
	}
}

// BenchmarkSign is what an entitlement adds to a claim or heartbeat.
func BenchmarkSign(b *testing.B) {
	db, err := sqlite.Open(filepath.Join(b.TempDir(), "kiosko.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	i := &entitlement.Issuer{Store: db, Issuer: "https://kiosko.example"}
	if err := i.Init(context.Background()); err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(90 * time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Sign(context.Background(), 42, "art-1", "dev-1", exp); err != nil {
			b.Fatal(err)
		}
	}
}

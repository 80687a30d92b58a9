package main

import (
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// fetchJWKS gets a node's published keys as a publisher does.
func fetchJWKS(t *testing.T, base string) jose.JSONWebKeySet {
	t.Helper()
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") || res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET /.well-known/jwks.json: %d %v %s", res.StatusCode, res.Header, b)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) == 0 {
		t.Fatalf("key set %s: %v", b, err)
	}
	return set
}

// TestEntitlementsVerifyWithAnyNodesKeys runs two nodes on one PostgreSQL
// database: an entitlement one node signs verifies, with go-jose, against
// the key set the other publishes, and carries the claims of DESIGN.md.
func TestEntitlementsVerifyWithAnyNodesKeys(t *testing.T) {
	url := pgtest.URL(t)
	// Nodes share KIOSKO_SECRET: it also seals the signing keys in the
	// database, so each node can open the key the first one made.
	secret := strings.Repeat("n", 40)
	a := startMain(t, "--database-url", url, "--secret", secret)
	b := startMain(t, "--database-url", url, "--seed-demo=false", "--secret", secret)
	// A node started with another secret is refused at once, with the reason.
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := parseConfig(fs, []string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--database-url", url, "--seed-demo=false", "--secret", strings.Repeat("x", 40)})
	if err != nil {
		t.Fatal(err)
	}
	stray := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := stray.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "KIOSKO_SECRET") {
		t.Errorf("a node with another secret started: %v", err)
	}
	stray.Close()
	setB := fetchJWKS(t, b.URL())
	if len(setB.Keys) != 1 || len(fetchJWKS(t, a.URL()).Keys) != 1 || fetchJWKS(t, a.URL()).Keys[0].KeyID != setB.Keys[0].KeyID {
		t.Fatalf("the nodes publish different keys")
	}
	article := subscriberArticle(t, a.URL())
	tok := signInAPI(t, a.URL(), "digital@kiosko.test", demo.Password, "edge-device")
	before := time.Now()
	code, out := call(t, "POST", a.URL()+"/api/v1/reading/claim", tok, map[string]any{"article": article})
	if code != 200 {
		t.Fatalf("claim: %d %v", code, out)
	}
	ent, _ := out["entitlement"].(string)
	parsed, err := jwt.ParseSigned(ent, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("entitlement %q: %v", ent, err)
	}
	keys := setB.Key(parsed.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("node b does not publish the key of node a's entitlement")
	}
	var c struct {
		jwt.Claims
		Art string `json:"art"`
		Dev string `json:"dev"`
	}
	if err := parsed.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("the signature does not verify: %v", err)
	}
	if err := c.Validate(jwt.Expected{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if c.Art != article || c.Dev != "edge-device" || c.Subject == "" || c.Expiry.Time().After(before.Add(a.Config.Reading.LeaseTTL)) {
		t.Errorf("claims %+v; want art %s, dev edge-device, exp by %v", c, article, before.Add(a.Config.Reading.LeaseTTL))
	}
	// The other node's heartbeat answer carries one too.
	code, out = call(t, "POST", b.URL()+"/api/v1/reading/heartbeat", tok, map[string]any{"article": article})
	if s, _ := out["entitlement"].(string); code != 200 || s == "" {
		t.Fatalf("heartbeat on node b: %d %v", code, out)
	}
}

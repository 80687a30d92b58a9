package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiosko/kiosko/internal/entitlement"
	"github.com/kiosko/kiosko/internal/httpx"
)

// withEntitlements gives the API an issuer on its own database's keys.
func withEntitlements(t *testing.T) option {
	return func(d *httpx.Deps) {
		iss := &entitlement.Issuer{Store: d.Store.(entitlement.KeyStore), Issuer: "https://kiosko.example", Now: d.Clock.Now}
		if err := iss.Init(t.Context()); err != nil {
			t.Fatal(err)
		}
		d.Entitlements = iss
	}
}

// publisherClaims is what a publisher's verifier reads.
type publisherClaims struct {
	jwt.Claims
	Art string `json:"art"`
	Dev string `json:"dev"`
}

// verifyLikeAPublisher checks token with go-jose and the key set alone.
func verifyLikeAPublisher(t *testing.T, token string, set jose.JSONWebKeySet, now time.Time) (*publisherClaims, error) {
	t.Helper()
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return nil, jose.ErrUnsupportedKeyType
	}
	var c publisherClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return nil, err
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: "https://kiosko.example", Time: now}, 0); err != nil {
		return nil, err
	}
	return &c, nil
}

func TestReadingAnswersCarryAnEntitlement(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withEntitlements(t))
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := e.deps.Entitlements.JWKS(r.Context())
		if err != nil {
			t.Error(err)
		}
		_ = json.NewEncoder(w).Encode(set)
	}))
	defer jwks.Close()
	res, err := http.Get(jwks.URL)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil || len(set.Keys) != 1 || !set.Keys[0].IsPublic() {
		t.Fatalf("key set %s (%v): want one public key", raw, err)
	}

	phone := e.signIn(t, "digital@kiosko.test", "Phone")
	laptop := e.signIn(t, "digital@kiosko.test", "Laptop")
	check := func(what string, r response, article, device string) {
		t.Helper()
		tok, _ := r.json(t)["entitlement"].(string)
		if tok == "" {
			t.Fatalf("%s: no entitlement in %s", what, r.body)
		}
		c, err := verifyLikeAPublisher(t, tok, set, e.clock.Now())
		if err != nil {
			t.Fatalf("%s: the entitlement does not verify: %v", what, err)
		}
		ttl := e.deps.Reading.Settings.LeaseTTL
		if c.Art != article || c.Dev != device || c.Subject == "" || c.Expiry.Time().After(e.clock.Now().Add(ttl)) || c.Expiry.Time().Before(e.clock.Now().Add(ttl-time.Second)) {
			t.Errorf("%s: claims %+v, want art %s dev %s exp within a second before %v", what, c, article, device, e.clock.Now().Add(ttl))
		}
		if _, err := strconv.ParseInt(c.Subject, 10, 64); err != nil {
			t.Errorf("%s: sub %q is not an account id", what, c.Subject)
		}
		// A publisher checking after the lease's lapse refuses it.
		if _, err := verifyLikeAPublisher(t, tok, set, e.clock.Now().Add(ttl+time.Second)); err == nil {
			t.Errorf("%s: the entitlement still verifies after the lease lapsed", what)
		}
	}
	r := e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, 200)
	check("claim", r, subscriberArticle, phone.id)
	e.clock.Add(20 * time.Second)
	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{"article": subscriberArticle}}, 200)
	check("heartbeat", r, subscriberArticle, phone.id)

	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{}}, 200)
	if _, has := r.json(t)["entitlement"]; has {
		t.Errorf("a heartbeat that names no article carries an entitlement: %s", r.body)
	}
	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, 409)
	if _, has := r.json(t)["entitlement"]; has {
		t.Errorf("a conflict carries an entitlement: %s", r.body)
	}
	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/takeover", token: laptop.token, body: claim(subscriberArticle)}, 200)
	check("takeover", r, subscriberArticle, laptop.id)
	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{"article": subscriberArticle}}, 409)
	if _, has := r.json(t)["entitlement"]; has {
		t.Errorf("a displaced answer carries an entitlement: %s", r.body)
	}
	free := e.signIn(t, "free@kiosko.test", "Free phone")
	r = e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: free.token, body: claim(otherSubscriber)}, 402)
	if _, has := r.json(t)["entitlement"]; has {
		t.Errorf("a paywall answer carries an entitlement: %s", r.body)
	}
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/i18n"
	"github.com/kiosko/kiosko/internal/inmem"
	"github.com/kiosko/kiosko/internal/password"
	"github.com/kiosko/kiosko/internal/sqlite"
	"github.com/kiosko/kiosko/internal/useragent"
)

// Demo articles the tests read.
const (
	subscriberArticle = "us-ferry-returns"       // subscriber-only
	freeArticle       = "us-library-of-seeds"    // free
	otherSubscriber   = "es-huerto-en-la-azotea" // subscriber-only, other edition
)

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a real API over HTTP: SQLite with the demo publication, the
// in-memory lease engine and hub, and a clock under the test's control.
type env struct {
	t     *testing.T
	clock *fakeClock
	deps  *httpx.Deps
	h     *Handler
	srv   *httptest.Server
}

type option func(*httpx.Deps)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "kiosko.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{now: time.Now().UTC().Truncate(time.Second)}
	hasher := &password.Hasher{Memory: 64, Time: 1, Threads: 1}
	if err := demo.Seed(ctx, db, hasher, clock.Now()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	settings := kiosko.DefaultReadingSettings()
	hub := inmem.NewHub()
	reading := &kiosko.Reading{Store: db, Leases: inmem.NewLeaseEngine(settings), Hub: hub, Clock: clock, Settings: settings, Log: log}
	auth := &kiosko.Auth{Store: db, Hasher: hasher, Clock: clock, Settings: kiosko.DefaultAuthSettings(), Hub: hub,
		DeviceName: useragent.Name, Reading: reading, Log: log}
	d := &httpx.Deps{Store: db, Auth: auth, Reading: reading, Hub: hub, Plans: kiosko.DefaultPlans(), Catalog: i18n.Default(),
		Clock: clock, Meter: kiosko.DefaultMeterSettings(), ReadingSettings: settings, Secret: []byte("test secret"), Log: log}
	for _, o := range opts {
		o(d)
	}
	h := New(d)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		h.Close()
		srv.Close()
	})
	return &env{t: t, clock: clock, deps: d, h: h, srv: srv}
}

// call is one API request: a body (any value is sent as JSON, a string as
// it is), a Bearer token, and extra headers.
type call struct {
	method, path string
	token        string
	cookie       string // session token sent as the browser's cookie
	body         any
	header       map[string]string
}

// response is an answer, its body kept for assertions.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// errorCode returns the code of a JSON error answer.
func (r response) errorCode(t *testing.T) string {
	t.Helper()
	var b httpx.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("answer is not {error:{code,message}}: %s", r.body)
	}
	return b.Error.Code
}

func (r response) errorMessage(t *testing.T) string {
	t.Helper()
	var b httpx.ErrorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("answer is not JSON: %s", r.body)
	}
	return b.Error.Message
}

func (e *env) request(c call) (*http.Request, error) {
	var body io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(c.method, e.srv.URL+c.path, body)
	if err != nil {
		return nil, err
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: e.deps.SessionCookieName(), Value: c.cookie})
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	return req, nil
}

// do sends c; safe from any goroutine (it reports with t.Error).
func (e *env) do(c call) response {
	req, err := e.request(c)
	if err != nil {
		e.t.Error(err)
		return response{}
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Error(err)
		return response{}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Error(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// expect sends c and fails unless the answer has status.
func (e *env) expect(t *testing.T, c call, status int) response {
	t.Helper()
	r := e.do(c)
	if r.status != status {
		t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, r.status, status, r.body)
	}
	return r
}

// device is one signed-in device of a demo account.
type device struct {
	token, id string
}

// signIn signs email in on a new device called name and returns it.
func (e *env) signIn(t *testing.T, email, name string) device {
	t.Helper()
	r := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": email, "password": demo.Password, "device_name": name}}, http.StatusCreated)
	var out struct {
		Token    string `json:"token"`
		DeviceID string `json:"device_id"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Token == "" || out.DeviceID == "" {
		t.Fatalf("sign-in answer %s: %v", r.body, err)
	}
	return device{token: out.Token, id: out.DeviceID}
}

func TestUnknownPathAndMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		code         string
	}{
		{"unknown path", "GET", "/api/v1/nothing-here", http.StatusNotFound, kiosko.ENOTFOUND},
		{"unknown nested path", "POST", "/api/v1/reading/claim/extra", http.StatusNotFound, kiosko.ENOTFOUND},
		{"wrong method on articles", "POST", "/api/v1/articles", http.StatusMethodNotAllowed, kiosko.EINVALID},
		{"wrong method on claim", "GET", "/api/v1/reading/claim", http.StatusMethodNotAllowed, kiosko.EINVALID},
		{"wrong method on devices", "PUT", "/api/v1/devices/abc", http.StatusMethodNotAllowed, kiosko.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.expect(t, call{method: tc.method, path: tc.path}, tc.status)
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			if tc.status == http.StatusMethodNotAllowed && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev := e.signIn(t, "digital@kiosko.test", "Phone")
	e.expect(t, call{method: "DELETE", path: "/api/v1/sessions/current", token: dev.token}, http.StatusNoContent)
	calls := []call{
		{method: "DELETE", path: "/api/v1/sessions/current"},
		{method: "POST", path: "/api/v1/reading/claim", body: map[string]string{"article": subscriberArticle}},
		{method: "POST", path: "/api/v1/reading/heartbeat", body: map[string]any{}},
		{method: "POST", path: "/api/v1/reading/takeover", body: map[string]string{"article": subscriberArticle}},
		{method: "GET", path: "/api/v1/reading/events"},
		{method: "GET", path: "/api/v1/devices"},
		{method: "DELETE", path: "/api/v1/devices/" + dev.id, body: map[string]string{"current_password": demo.Password}},
		{method: "POST", path: "/api/v1/account/password", body: map[string]string{"current_password": demo.Password, "new_password": "a brand new passphrase"}},
	}
	for _, who := range []struct {
		name  string
		set   func(*call)
		check string
	}{
		{"no session", func(*call) {}, ""},
		{"ended session", func(c *call) { c.token = dev.token }, ""},
		{"forged token", func(c *call) { c.token = kiosko.NewToken() }, ""},
		{"forged cookie", func(c *call) { c.cookie = kiosko.NewToken() }, ""},
		{"malformed Authorization", func(c *call) { c.header = map[string]string{"Authorization": "Basic Zm9vOmJhcg=="} }, ""},
	} {
		for _, c := range calls {
			t.Run(who.name+" "+c.method+" "+c.path, func(t *testing.T) {
				who.set(&c)
				r := e.expect(t, c, http.StatusUnauthorized)
				if got := r.errorCode(t); got != kiosko.EUNAUTHORIZED {
					t.Errorf("code %q", got)
				}
			})
		}
	}
}

func TestErrorLanguage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cat := i18n.Default()
	for _, tc := range []struct {
		accept, lang string
	}{
		{"en-US,en;q=0.9", "en"},
		{"es-ES,es;q=0.9", "es"},
		{"fr-FR, en;q=0.5", "en"},
		{"", "es"}, // Spanish by default
	} {
		t.Run(tc.accept, func(t *testing.T) {
			r := e.expect(t, call{method: "GET", path: "/api/v1/devices", header: map[string]string{"Accept-Language": tc.accept}}, http.StatusUnauthorized)
			if got, want := r.errorMessage(t), cat.T(tc.lang, "error.signed_out"); got != want {
				t.Errorf("message %q, want %q", got, want)
			}
			r = e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: "{nope", header: map[string]string{"Accept-Language": tc.accept}}, http.StatusBadRequest)
			if got, want := r.errorMessage(t), cat.T(tc.lang, "error.bad_json"); got != want {
				t.Errorf("message %q, want %q", got, want)
			}
		})
	}
	if cat.T("en", "error.signed_out") == cat.T("es", "error.signed_out") {
		t.Fatal("the catalogs say the same in both languages")
	}
}

func TestCrossSiteCookieWrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev := e.signIn(t, "digital@kiosko.test", "Laptop")
	claim := map[string]string{"article": subscriberArticle}
	// A cross-site page cannot write with the reader's cookie...
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", cookie: dev.token, body: claim,
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, http.StatusForbidden)
	// ...the site's own script can, and so can an app with its token.
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", cookie: dev.token, body: claim,
		header: map[string]string{"Sec-Fetch-Site": "same-origin"}}, http.StatusOK)
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: dev.token, body: claim,
		header: map[string]string{"Sec-Fetch-Site": "cross-site"}}, http.StatusOK)
}

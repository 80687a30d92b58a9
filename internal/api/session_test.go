package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/httpx"
)

func TestCreateSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"right password", map[string]string{"email": "digital@kiosko.test", "password": demo.Password}, http.StatusCreated, ""},
		{"email in another case", map[string]string{"email": " Digital@Kiosko.TEST ", "password": demo.Password}, http.StatusCreated, ""},
		{"wrong password", map[string]string{"email": "digital@kiosko.test", "password": "not the password"}, http.StatusUnauthorized, kiosko.EUNAUTHORIZED},
		{"unknown email", map[string]string{"email": "nobody@kiosko.test", "password": demo.Password}, http.StatusUnauthorized, kiosko.EUNAUTHORIZED},
		{"empty password", map[string]string{"email": "digital@kiosko.test", "password": ""}, http.StatusUnauthorized, kiosko.EUNAUTHORIZED},
		{"malformed JSON", `{"email": "digital@kiosko.test",`, http.StatusBadRequest, kiosko.EINVALID},
		{"wrong type", map[string]any{"email": 42, "password": demo.Password}, http.StatusBadRequest, kiosko.EINVALID},
		{"array", `[]`, http.StatusBadRequest, kiosko.EINVALID},
		{"null", `null`, http.StatusBadRequest, kiosko.EINVALID},
		{"empty body", ``, http.StatusBadRequest, kiosko.EINVALID},
		{"trailing garbage", `{"email":"digital@kiosko.test","password":"x"} {}`, http.StatusBadRequest, kiosko.EINVALID},
		{"too large", `{"email":"digital@kiosko.test","password":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, http.StatusRequestEntityTooLarge, kiosko.ETOOLARGE},
		{"unknown fields are fine", map[string]any{"email": "digital@kiosko.test", "password": demo.Password, "app_version": "3.1"}, http.StatusCreated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: tc.body}, tc.status)
			if tc.code != "" {
				if got := r.errorCode(t); got != tc.code {
					t.Errorf("code %q, want %q", got, tc.code)
				}
				return
			}
			m := r.json(t)
			if tok, _ := m["token"].(string); len(tok) < 20 {
				t.Errorf("token %v", m["token"])
			}
			if id, _ := m["device_id"].(string); !kiosko.ValidDeviceID(id) {
				t.Errorf("device_id %v", m["device_id"])
			}
		})
	}

	t.Run("unknown email answers like a wrong password", func(t *testing.T) {
		a := e.do(call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": "wrong password"}})
		b := e.do(call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "nobody@kiosko.test", "password": "wrong password"}})
		if a.status != b.status || string(a.body) != string(b.body) {
			t.Fatalf("%d %s vs %d %s", a.status, a.body, b.status, b.body)
		}
	})
}

func TestCreateSessionDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const appDevice = "app-3f9c2a71b8"
	r := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{
		"email": "digital@kiosko.test", "password": demo.Password, "device_id": appDevice, "device_name": "  Ana's iPad\n"}}, http.StatusCreated)
	if got := r.json(t)["device_id"]; got != appDevice {
		t.Fatalf("device_id %v, want the app's own %q", got, appDevice)
	}
	token := r.json(t)["token"].(string)

	// Signing in again on the same device gives a new token, same device.
	r2 := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{
		"email": "digital@kiosko.test", "password": demo.Password, "device_id": appDevice, "device_name": "Ana's iPad"}}, http.StatusCreated)
	if r2.json(t)["token"] == token {
		t.Fatal("the same token twice")
	}

	// Without a name, the device is named from its User-Agent; an invalid
	// id gets a new one.
	r3 := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{
		"email": "digital@kiosko.test", "password": demo.Password, "device_id": "bad id!"},
		header: map[string]string{"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}}, http.StatusCreated)
	browser := r3.json(t)["device_id"].(string)
	if browser == "bad id!" || !kiosko.ValidDeviceID(browser) {
		t.Fatalf("device_id %q", browser)
	}

	var devices []deviceJSON
	if err := json.Unmarshal(e.expect(t, call{method: "GET", path: "/api/v1/devices", token: token}, http.StatusOK).body, &devices); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, d := range devices {
		names[d.ID] = d.Name
	}
	if names[appDevice] != "Ana's iPad" {
		t.Errorf("app device named %q, want the name the app gave", names[appDevice])
	}
	if !strings.Contains(names[browser], "Firefox") {
		t.Errorf("browser named %q, want one from its User-Agent", names[browser])
	}
}

func TestCreateSessionRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *httpx.Deps) { d.Auth.Settings.FailedPerIP = 3 })
	wrong := call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": "not the password"}}
	for range 3 {
		e.expect(t, wrong, http.StatusUnauthorized)
	}
	r := e.expect(t, wrong, http.StatusTooManyRequests)
	if got := r.errorCode(t); got != kiosko.ETOOMANY {
		t.Fatalf("code %q", got)
	}
}

func TestDeleteSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "Phone")
	laptop := e.signIn(t, "digital@kiosko.test", "Laptop")
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: map[string]string{"article": subscriberArticle}}, http.StatusOK)

	e.expect(t, call{method: "DELETE", path: "/api/v1/sessions/current", token: phone.token}, http.StatusNoContent)
	e.expect(t, call{method: "GET", path: "/api/v1/devices", token: phone.token}, http.StatusUnauthorized)
	e.expect(t, call{method: "DELETE", path: "/api/v1/sessions/current", token: phone.token}, http.StatusUnauthorized)
	// The other device is still signed in, and the lease the phone held is
	// free at once.
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: map[string]string{"article": subscriberArticle}}, http.StatusOK)

	// A browser signs out with its cookie, and the cookie is cleared.
	r := e.expect(t, call{method: "DELETE", path: "/api/v1/sessions/current", cookie: laptop.token}, http.StatusNoContent)
	if sc := r.header.Get("Set-Cookie"); !strings.Contains(sc, e.deps.SessionCookieName()+"=") || !strings.Contains(sc, "Max-Age=0") {
		t.Errorf("Set-Cookie %q does not clear the session", sc)
	}
	e.expect(t, call{method: "GET", path: "/api/v1/devices", cookie: laptop.token}, http.StatusUnauthorized)
}

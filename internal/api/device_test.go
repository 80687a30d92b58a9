package api

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

func (e *env) devices(t *testing.T, token string) map[string]deviceJSON {
	t.Helper()
	r := e.expect(t, call{method: "GET", path: "/api/v1/devices", token: token}, http.StatusOK)
	var raw []map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	for _, d := range raw {
		for _, k := range []string{"id", "name", "first_seen", "last_seen", "place", "reading", "current"} {
			if _, ok := d[k]; !ok {
				t.Fatalf("device without %q: %s", k, r.body)
			}
		}
	}
	var list []deviceJSON
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]deviceJSON{}
	for _, d := range list {
		out[d.ID] = d
	}
	return out
}

func TestListDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "Ana's phone")
	e.clock.Add(time.Minute)
	laptop := e.signIn(t, "digital@kiosko.test", "Work laptop")
	e.signIn(t, "premium@kiosko.test", "someone else")

	list := e.devices(t, phone.token)
	if len(list) != 2 {
		t.Fatalf("%d devices, want the account's 2: %v", len(list), list)
	}
	p, l := list[phone.id], list[laptop.id]
	if p.Name != "Ana's phone" || l.Name != "Work laptop" {
		t.Errorf("names %q, %q", p.Name, l.Name)
	}
	if !p.Current || l.Current {
		t.Errorf("current: phone %v, laptop %v", p.Current, l.Current)
	}
	if p.Reading || l.Reading {
		t.Error("a device reads before any claim")
	}
	first, err := time.Parse(time.RFC3339, l.FirstSeen)
	if err != nil || !first.Equal(e.clock.Now()) {
		t.Errorf("laptop first_seen %q (%v), want %v", l.FirstSeen, err, e.clock.Now())
	}

	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, http.StatusOK)
	list = e.devices(t, phone.token)
	if !list[laptop.id].Reading || list[phone.id].Reading {
		t.Errorf("reading: phone %v, laptop %v; want the laptop", list[phone.id].Reading, list[laptop.id].Reading)
	}
	if list := e.devices(t, laptop.token); !list[laptop.id].Current {
		t.Error("the laptop is not current on its own list")
	}
}

func TestSignOutDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	laptop := e.signIn(t, "digital@kiosko.test", "laptop")
	stranger := e.signIn(t, "premium@kiosko.test", "stranger")
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, http.StatusOK)

	del := func(id string, body any) call {
		return call{method: "DELETE", path: "/api/v1/devices/" + id, token: laptop.token, body: body}
	}
	for _, tc := range []struct {
		name   string
		c      call
		status int
		code   string
	}{
		{"wrong password", del(phone.id, map[string]string{"current_password": "not the password"}), http.StatusForbidden, kiosko.EFORBIDDEN},
		{"no password", del(phone.id, map[string]string{}), http.StatusForbidden, kiosko.EFORBIDDEN},
		{"no body", del(phone.id, ""), http.StatusBadRequest, kiosko.EINVALID},
		{"password of the wrong type", del(phone.id, map[string]any{"current_password": true}), http.StatusBadRequest, kiosko.EINVALID},
		{"unknown device", del("d_nosuchdevice", map[string]string{"current_password": demo.Password}), http.StatusNotFound, kiosko.ENOTFOUND},
		{"another account's device", del(stranger.id, map[string]string{"current_password": demo.Password}), http.StatusNotFound, kiosko.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.expect(t, tc.c, tc.status)
			if got := r.errorCode(t); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
		})
	}
	// Nothing above signed anyone out.
	e.expect(t, call{method: "GET", path: "/api/v1/devices", token: phone.token}, http.StatusOK)
	e.expect(t, call{method: "GET", path: "/api/v1/devices", token: stranger.token}, http.StatusOK)

	e.expect(t, del(phone.id, map[string]string{"current_password": demo.Password}), http.StatusNoContent)
	e.expect(t, call{method: "POST", path: "/api/v1/reading/heartbeat", token: phone.token, body: map[string]any{}}, http.StatusUnauthorized)
	list := e.devices(t, laptop.token)
	if _, ok := list[phone.id]; ok || len(list) != 1 {
		t.Errorf("devices after sign-out: %v", list)
	}
	// The phone's lease went with it.
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, http.StatusOK)
}

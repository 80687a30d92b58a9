package api

import (
	"net/http"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/i18n"
)

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	laptop := e.signIn(t, "digital@kiosko.test", "laptop")
	tablet := e.signIn(t, "digital@kiosko.test", "tablet")
	const next = "correct horse battery staple"
	change := func(current, next string, lang string) call {
		return call{method: "POST", path: "/api/v1/account/password", token: laptop.token,
			body: map[string]string{"current_password": current, "new_password": next}, header: map[string]string{"Accept-Language": lang}}
	}
	cat := i18n.Default()
	for _, tc := range []struct {
		name   string
		c      call
		status int
		key    string
		lang   string
	}{
		{"wrong current password", change("not the password", next, "en"), http.StatusForbidden, "error.current_password_wrong", "en"},
		{"short new password, English", change(demo.Password, "short", "en"), http.StatusBadRequest, "error.password_too_short", "en"},
		{"short new password, Spanish", change(demo.Password, "short", "es-ES"), http.StatusBadRequest, "error.password_too_short", "es"},
		{"common new password", change(demo.Password, "password1234", "es"), http.StatusBadRequest, "error.password_common", "es"},
		{"malformed", call{method: "POST", path: "/api/v1/account/password", token: laptop.token, body: `{"current_password":1}`}, http.StatusBadRequest, "error.bad_json", "es"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.expect(t, tc.c, tc.status)
			if got, want := r.errorMessage(t), cat.T(tc.lang, tc.key); got != want {
				t.Errorf("message %q, want %q", got, want)
			}
		})
	}
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, http.StatusOK)

	e.expect(t, change(demo.Password, next, "en"), http.StatusNoContent)
	// Every other session ended at once; this one goes on.
	for _, d := range []device{phone, tablet} {
		r := e.expect(t, call{method: "GET", path: "/api/v1/devices", token: d.token}, http.StatusUnauthorized)
		if got := r.errorCode(t); got != kiosko.EUNAUTHORIZED {
			t.Errorf("code %q", got)
		}
	}
	list := e.devices(t, laptop.token)
	if len(list) != 1 || !list[laptop.id].Current {
		t.Errorf("devices after the change: %v", list)
	}
	// The phone's lease was freed with its session.
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, http.StatusOK)

	e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": demo.Password}}, http.StatusUnauthorized)
	e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": next}}, http.StatusCreated)
}

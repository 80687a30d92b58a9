package web

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

func TestSignUp(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, lang, email, pw, want string
		status                      int
	}{
		{"short password es", "es-ES", "ana@example.com", "corta", "es:error.password_too_short", http.StatusUnprocessableEntity},
		{"short password en", "en-US", "ana@example.com", "short", "en:error.password_too_short", http.StatusUnprocessableEntity},
		{"bad email es", "es", "no-es-un-correo", "una frase bastante larga", "es:error.email_invalid", http.StatusUnprocessableEntity},
		{"common password en", "en", "ana@example.com", "password1234", "en:error.password_common", http.StatusUnprocessableEntity},
		{"taken email en", "en", "free@kiosko.test", "a long enough passphrase", "en:error.email_taken", http.StatusConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := e.browser(tc.lang).post("/signup", url.Values{"email": {tc.email}, "password": {tc.pw}, "name": {"Ana"}})
			if tc.status == http.StatusConflict {
				tc.status = http.StatusUnprocessableEntity
			}
			if p.status != tc.status {
				t.Errorf("status %d, want %d", p.status, tc.status)
			}
			lang, key, _ := strings.Cut(tc.want, ":")
			want := template.HTMLEscapeString(e.d.Catalog.T(lang, key))
			if !p.has(`id="form-error"`) || !p.has(want) || want == key {
				t.Errorf("no message %q: %s", want, text(p.body))
			}
			if !p.has(`value="` + tc.email + `"`) {
				t.Error("the form lost the email")
			}
			if tc.email != "free@kiosko.test" {
				if _, err := e.store.FindAccountByEmail(t.Context(), tc.email); !kiosko.IsNotFound(err) {
					t.Errorf("an account was stored: %v", err)
				}
			}
		})
	}
	t.Run("signing up signs in", func(t *testing.T) {
		b := e.browser("en")
		p := b.post("/signup", url.Values{"email": {"New.Reader@Example.com"}, "password": {"correct horse battery"}, "next": {"/us/"}})
		if p.status != http.StatusSeeOther || p.location() != "/us/" {
			t.Fatalf("status %d to %q: %s", p.status, p.location(), text(p.body))
		}
		checkCookie(t, p.header, "kiosko_session")
		checkCookie(t, p.header, "kiosko_device")
		acct := b.get("/account")
		if acct.status != http.StatusOK || !acct.has("new.reader@example.com") || !acct.has("Free account") {
			t.Fatalf("account page: %d %s", acct.status, text(acct.body))
		}
	})
}

// checkCookie fails unless the answer sets an HttpOnly, SameSite=Lax cookie.
func checkCookie(t *testing.T, h http.Header, name string) {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("cookie %s: HttpOnly=%v SameSite=%v Path=%q", name, c.HttpOnly, c.SameSite, c.Path)
			}
			return
		}
	}
	t.Errorf("no %s cookie set", name)
}

func TestCookies(t *testing.T) {
	e := newEnv(t)
	b := e.browser("en")
	p := b.get(articlePath(e.articles("us", kiosko.AccessFree)[0]))
	checkCookie(t, p.header, "kiosko_meter")
	p = b.post("/signin", url.Values{"email": {"free@kiosko.test"}, "password": {demo.Password}})
	checkCookie(t, p.header, "kiosko_session")
	if cc := p.header.Get("Cache-Control"); cc != "" && !strings.Contains(cc, "no-store") {
		t.Errorf("sign-in answer may be cached: %q", cc)
	}
}

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	t.Run("wrong password, in Spanish, keeps the email", func(t *testing.T) {
		p := e.browser("es").post("/signin", url.Values{"email": {"free@kiosko.test"}, "password": {"wrong password!"}})
		if p.status != http.StatusUnauthorized || !p.has(template.HTMLEscapeString(e.d.Catalog.T("es", "error.bad_credentials"))) || !p.has(`value="free@kiosko.test"`) {
			t.Errorf("%d %s", p.status, text(p.body))
		}
	})
	t.Run("next must be local", func(t *testing.T) {
		for next, want := range map[string]string{"/us/x": "/us/x", "//evil.example/": "/account", "https://evil.example/": "/account", "/\\evil.example": "/account"} {
			p := e.browser("en").post("/signin", url.Values{"email": {"free@kiosko.test"}, "password": {demo.Password}, "next": {next}})
			if p.status != http.StatusSeeOther || p.location() != want {
				t.Errorf("next %q: %d to %q, want %q", next, p.status, p.location(), want)
			}
		}
	})
	t.Run("pages for signed-in readers send others to sign in", func(t *testing.T) {
		for _, path := range []string{"/account", "/account/password"} {
			p := e.browser("en").get(path)
			if p.status != http.StatusSeeOther || p.location() != "/signin?next="+url.QueryEscape(path) {
				t.Errorf("%s: %d to %q", path, p.status, p.location())
			}
		}
	})
	// A place is a country (accounts_devices_test.go); a time zone is not one.
	t.Run("a time zone is not shown as the device's place", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("premium@kiosko.test", demo.Password)
		if p := b.get("/account"); p.has("Europe/Madrid") || !p.has("this device") {
			t.Errorf("account page: %s", text(p.body))
		}
	})
	t.Run("sign out", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("premium@kiosko.test", demo.Password)
		if p := b.post("/signout", url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.status)
		}
		if p := b.get("/account"); p.status != http.StatusSeeOther {
			t.Error("still signed in after signing out")
		}
	})
}

func TestDevices(t *testing.T) {
	e := newEnv(t)
	laptop, phone := e.browser("es"), e.browser("es")
	laptop.signIn("digital@kiosko.test", demo.Password)
	phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	phone.signIn("digital@kiosko.test", demo.Password)
	p := laptop.get("/account")
	ids := regexp.MustCompile(`action="/account/devices/([^/"]+)/signout"`).FindAllStringSubmatch(p.body, -1)
	if len(ids) != 2 || !p.has("este dispositivo") || !p.has("Safari") || !p.has("Firefox") {
		t.Fatalf("account page lists %d devices: %s", len(ids), text(p.body))
	}
	var phoneID string
	for _, m := range ids {
		if !regexp.MustCompile(`(?s)data-device="` + m[1] + `">\s*<div class="device-head">\s*<strong class="device-name">Firefox`).MatchString(p.body) {
			phoneID = m[1]
		}
	}
	// A wrong password changes nothing and says so.
	bad := laptop.post("/account/devices/"+phoneID+"/signout", url.Values{"current_password": {"not my password"}})
	if bad.status != http.StatusForbidden || !bad.has(template.HTMLEscapeString(e.d.Catalog.T("es", "error.current_password_wrong"))) {
		t.Fatalf("wrong password: %d %s", bad.status, text(bad.body))
	}
	if p := phone.get("/account"); p.status != http.StatusOK {
		t.Fatal("the phone was signed out with a wrong password")
	}
	ok := laptop.post("/account/devices/"+phoneID+"/signout", url.Values{"current_password": {demo.Password}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("sign out device: %d %s", ok.status, text(ok.body))
	}
	if p := phone.get("/account"); p.status != http.StatusSeeOther {
		t.Error("the phone is still signed in")
	}
	if p := laptop.get("/account?done=device"); p.status != http.StatusOK || !p.has("Se ha cerrado la sesión en ese dispositivo.") {
		t.Error("the laptop was signed out too")
	}
	// Sign out everywhere else.
	phone.signIn("digital@kiosko.test", demo.Password)
	if p := laptop.post("/account/signout-others", url.Values{"current_password": {demo.Password}}); p.status != http.StatusSeeOther {
		t.Fatalf("sign out others: %d", p.status)
	}
	if p := phone.get("/account"); p.status != http.StatusSeeOther {
		t.Error("the phone is still signed in")
	}
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	b := e.browser("en")
	same := func(email string) string {
		p := b.post("/password/forgot", url.Values{"email": {email}})
		if p.status != http.StatusOK || !p.has(`id="forgot-sent"`) {
			t.Fatalf("forgot %s: %d %s", email, p.status, text(p.body))
		}
		return text(p.body)
	}
	if same("nobody@kiosko.test") != same("premium@kiosko.test") {
		t.Error("the answer tells whether the address has an account")
	}
	msg := e.mail.wait(t)
	if msg.To != "premium@kiosko.test" || msg.Subject != "Choose a new password" || msg.HTML == "" {
		t.Fatalf("reset email: %+v", msg)
	}
	link := regexp.MustCompile(`http://kiosko\.example/password/reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msg.Text)
	if link == nil || !strings.Contains(msg.HTML, link[0]) {
		t.Fatalf("no link in the email:\n%s", msg.Text)
	}
	token := link[1]
	if p := b.get("/password/reset?token=" + token); !p.has(`name="token" value="` + token + `"`) {
		t.Fatal("reset form lacks the token")
	}
	if p := b.post("/password/reset", url.Values{"token": {token}, "password": {"short"}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("short password: %d", p.status)
	}
	p := b.post("/password/reset", url.Values{"token": {token}, "password": {"a brand new passphrase"}})
	if p.status != http.StatusSeeOther || p.location() != "/signin?done=reset" {
		t.Fatalf("reset: %d %q %s", p.status, p.location(), text(p.body))
	}
	if changed := e.mail.wait(t); changed.Subject != "Your password was changed" {
		t.Errorf("second email: %q", changed.Subject)
	}
	if p := b.post("/password/reset", url.Values{"token": {token}, "password": {"another new passphrase"}}); p.status != http.StatusUnprocessableEntity || !p.has(template.HTMLEscapeString(e.d.Catalog.T("en", "error.reset_link_invalid"))) {
		t.Errorf("token used twice: %d %s", p.status, text(p.body))
	}
	if p := e.browser("en").post("/signin", url.Values{"email": {"premium@kiosko.test"}, "password": {"another new passphrase"}}); p.status == http.StatusSeeOther {
		t.Error("the password sent with a used reset link signs in")
	}
	b.signIn("premium@kiosko.test", "a brand new passphrase")
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	a, other := e.browser("es"), e.browser("es")
	a.signIn("free@kiosko.test", demo.Password)
	other.signIn("free@kiosko.test", demo.Password)
	p := a.post("/account/password", url.Values{"current_password": {"equivocada del todo"}, "new_password": {"otra frase bien larga"}})
	if p.status != http.StatusForbidden || !p.has(template.HTMLEscapeString(e.d.Catalog.T("es", "error.current_password_wrong"))) {
		t.Fatalf("wrong current password: %d %s", p.status, text(p.body))
	}
	p = a.post("/account/password", url.Values{"current_password": {demo.Password}, "new_password": {"otra frase bien larga"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", p.status, text(p.body))
	}
	if p := a.get("/account"); p.status != http.StatusOK {
		t.Error("changing the password signed this device out")
	}
	if p := other.get("/account"); p.status != http.StatusSeeOther {
		t.Error("the other device is still signed in")
	}
	if msg := e.mail.wait(t); msg.Subject != "Tu contraseña se ha cambiado" {
		t.Errorf("email: %q", msg.Subject)
	}
}

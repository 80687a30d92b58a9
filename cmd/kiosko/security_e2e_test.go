package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/kiosko/kiosko/internal/billing/stripemock"
	"github.com/kiosko/kiosko/internal/demo"
	"github.com/kiosko/kiosko/internal/password"
)

// One test per hole of issue 15, each through the real server over HTTP.
// The server trusts 127.0.0.1 as a proxy where a test needs clients at
// several addresses: X-Forwarded-For then says who the client is.

// syncBuffer is a log the server writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startLogged is startMain with the server's log kept, and a hook to set
// Main's fields before Run.
func startLogged(t *testing.T, log io.Writer, before func(*Main), args ...string) *Main {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg, err := parseConfig(fs, append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--newsletter-day", "off"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	m := NewMain(cfg, slog.New(slog.NewTextHandler(log, nil)))
	m.Hasher = &password.Hasher{Memory: 64, Time: 1, Threads: 1}
	if before != nil {
		before(m)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// call makes one API call from client address ip (via X-Forwarded-For)
// and decodes a JSON answer into out, when given.
func apiCall(t *testing.T, m *Main, method, path, token, ip string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, m.URL()+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	} else {
		_, _ = io.Copy(io.Discard, res.Body)
	}
	return res.StatusCode
}

type signIn struct {
	Token       string `json:"token"`
	DeviceID    string `json:"device_id"`
	DeviceToken string `json:"device_token"`
}

func apiSignIn(t *testing.T, m *Main, ip string, body map[string]string) (int, signIn) {
	t.Helper()
	var s signIn
	code := apiCall(t, m, "POST", "/api/v1/sessions", "", ip, body, &s)
	return code, s
}

// A device_id the client names confers no trust: knowing one of the
// owner's device ids gives an attacker no more guesses than anyone, while
// the owner's app, holding its device_token, is never locked out.
func TestDeviceIDConfersNoTrustAndTheOwnerKeepsTheirDevice(t *testing.T) {
	m := startMain(t, "--trusted-proxies", "127.0.0.1/32")
	const email = "digital@kiosko.test"
	code, owner := apiSignIn(t, m, "198.51.100.1", map[string]string{"email": email, "password": demo.Password, "device_id": "owner-phone-1"})
	if code != http.StatusCreated || owner.DeviceID != "owner-phone-1" || owner.DeviceToken == "" {
		t.Fatalf("owner's sign-in: %d %+v (want a device_token)", code, owner)
	}
	// The attacker knows the device id and guesses from many addresses.
	limited := false
	for i := 0; i < 110 && !limited; i++ {
		code, _ := apiSignIn(t, m, fmt.Sprintf("203.0.113.%d", i%250), map[string]string{"email": email, "password": fmt.Sprintf("guess number %d", i), "device_id": "owner-phone-1"})
		switch code {
		case http.StatusTooManyRequests:
			limited = true
			if i < 100 {
				t.Fatalf("limited after %d guesses, before the account's 100", i)
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess %d: status %d", i, code)
		}
	}
	if !limited {
		t.Fatal("110 guesses naming the owner's device id were never slowed down")
	}
	// The right password with only the device id is slowed too...
	if code, _ := apiSignIn(t, m, "203.0.113.1", map[string]string{"email": email, "password": demo.Password, "device_id": "owner-phone-1"}); code != http.StatusTooManyRequests {
		t.Fatalf("device id alone: %d, want 429", code)
	}
	// ...while the owner's app with its device token signs in, from anywhere.
	code, again := apiSignIn(t, m, "203.0.113.1", map[string]string{"email": email, "password": demo.Password, "device_id": "owner-phone-1", "device_token": owner.DeviceToken})
	if code != http.StatusCreated || again.DeviceToken == "" {
		t.Fatalf("owner with device token: %d", code)
	}
	// A browser that signed in before keeps its device cookie and gets in.
	b := newBrowser(t, m)
	b.c.Jar.SetCookies(mustURL(t, m.URL()), []*http.Cookie{{Name: "kiosko_device_token", Value: again.DeviceToken}})
	b.signIn(email, demo.Password)
	// A device token works only for its account and only as issued.
	if code, _ := apiSignIn(t, m, "203.0.113.1", map[string]string{"email": email, "password": demo.Password, "device_token": again.DeviceToken + "x"}); code != http.StatusTooManyRequests {
		t.Fatalf("tampered device token: %d, want 429", code)
	}
	// The per-token limit: ten wrong passwords lock that token, not the owner.
	for i := 0; i < 10; i++ {
		apiSignIn(t, m, "198.51.100.9", map[string]string{"email": email, "password": "wrong again and again", "device_token": owner.DeviceToken})
	}
	if code, _ := apiSignIn(t, m, "198.51.100.9", map[string]string{"email": email, "password": demo.Password, "device_token": owner.DeviceToken}); code != http.StatusTooManyRequests {
		t.Fatalf("a device token past its own limit: %d, want 429", code)
	}
	if code, _ := apiSignIn(t, m, "198.51.100.9", map[string]string{"email": email, "password": demo.Password, "device_token": again.DeviceToken}); code != http.StatusCreated {
		t.Fatalf("another device token of the owner: %d", code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// 300 failures from one address slow down that address only: its
// neighbours in the same /24 still sign in.
func TestFailuresFromOneAddressSpareItsNeighbours(t *testing.T) {
	m := startMain(t, "--trusted-proxies", "127.0.0.1/32")
	for i := 0; i < 300; i++ {
		if code, _ := apiSignIn(t, m, "192.0.2.10", map[string]string{"email": fmt.Sprintf("nobody%d@example.com", i), "password": "not a real password"}); code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code, _ := apiSignIn(t, m, "192.0.2.10", map[string]string{"email": "nobody@example.com", "password": "not a real password"}); code != http.StatusTooManyRequests {
		t.Fatalf("the guessing address is not slowed: %d", code)
	}
	if code, _ := apiSignIn(t, m, "192.0.2.11", map[string]string{"email": "digital@kiosko.test", "password": demo.Password}); code != http.StatusCreated {
		t.Fatalf("a neighbour in the same /24 was locked out: %d", code)
	}
}

// With the older --trust-proxy, only the proxy's own entry (the rightmost)
// is believed: rotating the leftmost X-Forwarded-For evades nothing.
func TestRotatingForwardedForDoesNotEvadeTheLimit(t *testing.T) {
	for _, args := range [][]string{{"--trust-proxy=true"}, {"--trusted-proxies", "127.0.0.0/8, 10.0.0.0/8"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			m := startMain(t, args...)
			chain := func(i int) string { return fmt.Sprintf("10.%d.%d.%d, 198.51.100.77", i/65536, i/256%256, i%256) }
			if len(args) == 2 {
				// The client's own entry, then a trusted inner proxy.
				chain = func(i int) string { return fmt.Sprintf("203.0.%d.%d, 198.51.100.77, 10.0.0.2", i/256, i%256) }
			}
			for i := 0; i < 300; i++ {
				apiSignIn(t, m, chain(i), map[string]string{"email": fmt.Sprintf("x%d@example.com", i), "password": "not a real password"})
			}
			if code, _ := apiSignIn(t, m, chain(999), map[string]string{"email": "x@example.com", "password": "not a real password"}); code != http.StatusTooManyRequests {
				t.Fatalf("300 failures with a rotated X-Forwarded-For were not limited: %d", code)
			}
		})
	}
}

// Checking the current password counts like a failed sign-in: a stolen
// token cannot be used to guess the password and change it.
func TestCurrentPasswordChecksAreThrottled(t *testing.T) {
	m := startMain(t)
	_, s := apiSignIn(t, m, "", map[string]string{"email": "digital@kiosko.test", "password": demo.Password})
	for i := 0; i < 10; i++ {
		if code := apiCall(t, m, "POST", "/api/v1/account/password", s.Token, "", map[string]string{"current_password": fmt.Sprintf("guess %d of the thief", i), "new_password": "the thief's own passphrase"}, nil); code != http.StatusForbidden {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := apiCall(t, m, "POST", "/api/v1/account/password", s.Token, "", map[string]string{"current_password": demo.Password, "new_password": "the thief's own passphrase"}, nil); code != http.StatusTooManyRequests {
		t.Fatalf("after 10 wrong current passwords the right one changed the password: %d", code)
	}
	if code := apiCall(t, m, "DELETE", "/api/v1/devices/whatever-device", s.Token, "", map[string]string{"current_password": demo.Password}, nil); code != http.StatusTooManyRequests {
		t.Fatalf("device sign-out after the limit: %d", code)
	}
	// The owner, signing in anew, still can.
	_, fresh := apiSignIn(t, m, "", map[string]string{"email": "digital@kiosko.test", "password": demo.Password})
	if code := apiCall(t, m, "POST", "/api/v1/account/password", fresh.Token, "", map[string]string{"current_password": demo.Password, "new_password": "a brand new passphrase"}, nil); code != http.StatusNoContent {
		t.Fatalf("the owner's own password change: %d", code)
	}
}

// Every route caps its body at 1 MiB and answers 413 in its usual shape.
func TestBodiesAreCapped(t *testing.T) {
	m := startMain(t)
	big := strings.Repeat("a", 2<<20)
	// Over a connection of its own: the server answers 413 before the
	// client has sent the whole body, so the client reads the answer while
	// it still writes (and ignores the write failing once the server hangs up).
	post := func(path, ctype string, body io.Reader, chunked bool) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", m.URL()+path, body)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Accept-Language", "es")
		if chunked {
			req.ContentLength = -1
			req.TransferEncoding = []string{"chunked"}
		}
		conn, err := net.Dial("tcp", m.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go func() { _ = req.Write(conn) }()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, chunked := range []bool{false, true} {
		res, body := post("/api/v1/newsletter/subscriptions", "application/json", strings.NewReader(`{"email":"a@example.com","edition":"es","name":"`+big+`"}`), chunked)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"too_large"`) || !strings.Contains(body, "demasiado") {
			t.Errorf("API, chunked=%v: %d %.200s", chunked, res.StatusCode, body)
		}
		res, body = post("/newsletter", "application/x-www-form-urlencoded", strings.NewReader("edition=es&email=a%40example.com&name="+big), chunked)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "413") {
			t.Errorf("site, chunked=%v: %d %s %.200s", chunked, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	if n := countMail(t, m); n != 0 {
		t.Errorf("a refused body sent %d emails", n)
	}
}

// A client that sends its body slowly is cut off at the read deadline.
func TestSlowBodiesAreCutOff(t *testing.T) {
	m := startLogged(t, io.Discard, func(m *Main) { m.BodyTimeout = time.Second })
	conn, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server still held the slow body's connection after 10s")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("closed after %s", d)
	}
}

// One session may hold 8 event streams and one account 32; beyond: 429.
func TestEventStreamsAreCapped(t *testing.T) {
	m := startMain(t)
	open := func(token string) (int, func()) {
		req, _ := http.NewRequest("GET", m.URL()+"/api/v1/reading/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		ctx, cancel := context.WithCancel(context.Background())
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if res.StatusCode == http.StatusOK {
			_, _ = bufio.NewReader(res.Body).ReadString('\n') // the stream is open
		}
		return res.StatusCode, func() { cancel(); res.Body.Close() }
	}
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	var tokens []string
	for i := 0; i < 5; i++ {
		_, s := apiSignIn(t, m, "", map[string]string{"email": "digital@kiosko.test", "password": demo.Password})
		tokens = append(tokens, s.Token)
	}
	for i := 0; i < 8; i++ {
		code, c := open(tokens[0])
		closers = append(closers, c)
		if code != http.StatusOK {
			t.Fatalf("stream %d: %d", i, code)
		}
	}
	code, c := open(tokens[0])
	closers = append(closers, c)
	if code != http.StatusTooManyRequests {
		t.Fatalf("a 9th stream of one session: %d, want 429", code)
	}
	for _, tok := range tokens[1:4] {
		for i := 0; i < 8; i++ {
			code, c := open(tok)
			closers = append(closers, c)
			if code != http.StatusOK {
				t.Fatalf("account stream: %d", code)
			}
		}
	}
	code, c = open(tokens[4])
	closers = append(closers, c)
	if code != http.StatusTooManyRequests {
		t.Fatalf("a 33rd stream of one account: %d, want 429", code)
	}
	// Closing one frees its place.
	closers[0]()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, c := open(tokens[0])
		closers = append(closers, c)
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed stream never freed its place: %d", code)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mailFiles lists the emails written without SMTP.
func mailFiles(t *testing.T, m *Main) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(m.Config.Data, "mail", "*.eml"))
	return files
}

// readMail returns an .eml file with its quoted-printable undone, so links
// read as they were written.
func readMail(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(quotedprintable.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

func countMail(t *testing.T, m *Main) int { return len(mailFiles(t, m)) }

// waitMail waits until n emails were written, with room for a loaded CI
// machine (a .eml file appears whole: it is renamed into place).
func waitMail(t *testing.T, m *Main, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if files := mailFiles(t, m); len(files) >= n {
			return files
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d emails written, want %d", countMail(t, m), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Newsletter sign-ups are limited per client and per address, and the
// confirmation carries none of the sender's words.
func TestNewsletterSignUpsCannotBombInboxes(t *testing.T) {
	m := startMain(t, "--trusted-proxies", "127.0.0.1/32")
	sub := func(ip, email, name string) int {
		return apiCall(t, m, "POST", "/api/v1/newsletter/subscriptions", "", ip, map[string]string{"email": email, "edition": "es", "name": name}, nil)
	}
	if code := sub("198.51.100.5", "victim@example.com", "Gana un premio en http://estafa.example"); code != http.StatusAccepted {
		t.Fatalf("first sign-up: %d", code)
	}
	files := waitMail(t, m, 1)
	b := readMail(t, files[0])
	if strings.Contains(string(b), "estafa") || strings.Contains(string(b), "premio") {
		t.Fatal("the confirmation email carries the sign-up form's name")
	}
	if !strings.Contains(string(b), "/newsletter/confirm?token=") {
		t.Fatal("the confirmation email has no link")
	}
	// One client, many addresses: 10 an hour, then 429.
	limited := 0
	for i := 0; i < 60; i++ {
		if sub("203.0.113.9", fmt.Sprintf("target%d@example.com", i), "") == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 50 {
		t.Fatalf("of 60 sign-ups from one client, %d were refused, want 50", limited)
	}
	// One address from many clients: at most 3 emails an hour reach it.
	for i := 0; i < 6; i++ {
		apiCall(t, m, "POST", "/api/v1/newsletter/subscriptions", "", fmt.Sprintf("192.0.2.%d", i), map[string]string{"email": "other@example.com", "edition": []string{"es", "us"}[i%2]}, nil)
	}
	waitMail(t, m, 1+10+2)
	n := 0
	for _, f := range mailFiles(t, m) {
		if b := readMail(t, f); strings.Contains(string(b), "other@example.com") {
			n++
		}
	}
	if n > 3 {
		t.Fatalf("one address got %d confirmation emails", n)
	}
}

// A new sign-in in the same browser ends the session it held before.
func TestSignInAgainEndsThePreviousSession(t *testing.T) {
	m := startMain(t)
	b := newBrowser(t, m)
	b.signIn("digital@kiosko.test", demo.Password)
	old := sessionCookie(t, b, m)
	b.signIn("premium@kiosko.test", demo.Password)
	if now := sessionCookie(t, b, m); now == old {
		t.Fatal("the session cookie did not change")
	}
	if code := apiCall(t, m, "GET", "/api/v1/devices", old, "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("the first session still works after the second sign-in: %d", code)
	}
}

func sessionCookie(t *testing.T, b *browser, m *Main) string {
	t.Helper()
	for _, c := range b.c.Jar.Cookies(mustURL(t, m.URL())) {
		if c.Name == "kiosko_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// Names lose control and bidirectional-override characters.
func TestNamesLoseControlAndBidiCharacters(t *testing.T) {
	m := startMain(t)
	_, s := apiSignIn(t, m, "", map[string]string{"email": "digital@kiosko.test", "password": demo.Password, "device_name": "Mi\u202e txt.exe\u2066 móvil\x1b[31m\u200f"})
	var devs []struct {
		Name    string `json:"name"`
		Current bool   `json:"current"`
	}
	apiCall(t, m, "GET", "/api/v1/devices", s.Token, "", nil, &devs)
	for _, d := range devs {
		if d.Current {
			if d.Name != "Mi txt.exe móvil[31m" {
				t.Fatalf("device name = %q", d.Name)
			}
			return
		}
	}
	t.Fatalf("no current device in %+v", devs)
}

// Guessable passwords are refused: one character repeated, and those an
// estimator built on lists of leaked passwords finds at once.
func TestGuessablePasswordsAreRefused(t *testing.T) {
	m := startMain(t)
	_, s := apiSignIn(t, m, "", map[string]string{"email": "digital@kiosko.test", "password": demo.Password})
	for _, pw := range []string{"            ", "zzzzzzzzzzzzzzzz", "iloveyou2026", "dragon123456", "digitaldigital1", strings.Repeat("tinta-7Kq", 15)[:129]} {
		var e struct {
			Error struct{ Code, Message string }
		}
		if code := apiCall(t, m, "POST", "/api/v1/account/password", s.Token, "", map[string]string{"current_password": demo.Password, "new_password": pw}, &e); code != http.StatusBadRequest {
			t.Errorf("%q: %d %+v", pw, code, e)
		}
	}
	if code := apiCall(t, m, "POST", "/api/v1/account/password", s.Token, "", map[string]string{"current_password": demo.Password, "new_password": "tinta en la rotativa de madrugada, " + strings.Repeat("papel ", 15)}, nil); code != http.StatusNoContent {
		t.Fatalf("a good passphrase: %d", code)
	}
}

// HSTS goes with an https public URL, and only then.
func TestHSTSWithAnHTTPSPublicURL(t *testing.T) {
	for url, want := range map[string]bool{"https://news.example.com": true, "http://news.example.com": false} {
		m := startMain(t, "--public-url", url)
		res, err := http.Get(m.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security") != ""; got != want {
			t.Errorf("%s: HSTS %v, want %v", url, got, want)
		}
	}
}

// Without SMTP, emails are .eml files and their links never reach the log.
func TestMailWithoutSMTPIsFilesAndLinksStayOutOfTheLog(t *testing.T) {
	var log syncBuffer
	m := startLogged(t, &log, nil)
	if !strings.Contains(log.String(), filepath.Join(m.Config.Data, "mail")) {
		t.Fatalf("the start-up line does not say where mail goes:\n%s", log.String())
	}
	b := newBrowser(t, m)
	if code, _, _ := b.post("/password/forgot", url.Values{"email": {"digital@kiosko.test"}}); code != http.StatusOK {
		t.Fatalf("forgot: %d", code)
	}
	files := waitMail(t, m, 1)
	eml := readMail(t, files[0])
	if !strings.Contains(string(eml), "/password/reset?token=") {
		t.Fatalf("no reset link in the email:\n%s", eml)
	}
	if strings.Contains(log.String(), "token=") {
		t.Fatalf("a token link reached the log:\n%s", log.String())
	}
}

// A Stripe webhook dated beyond the tolerance in the future is refused.
func TestFutureDatedStripeWebhookIsRefused(t *testing.T) {
	const secret = "whsec_kiosko_future"
	m := startMain(t, "--stripe-key", "sk_test_kiosko", "--stripe-webhook-secret", secret, "--stripe-api-url", "http://127.0.0.1:1")
	sub := stripemock.Subscription{ID: "sub_future", Customer: "cus_f", Status: "active", AccountID: 1, Plan: "digital", Seats: 1, Quantity: 1, UnitAmount: 999, Currency: "eur", PeriodEnd: time.Now().Add(30 * 24 * time.Hour)}
	obj, _ := json.Marshal(sub.Object())
	payload, _ := json.Marshal(map[string]any{"id": "evt_future", "object": "event", "type": "customer.subscription.created", "created": time.Now().Unix(),
		"api_version": stripe.APIVersion, "livemode": false, "data": map[string]json.RawMessage{"object": obj}})
	send := func(at time.Time) int {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
		req, _ := http.NewRequest("POST", m.URL()+"/billing/webhook", bytes.NewReader(payload))
		req.Header.Set("Stripe-Signature", signed.Header)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := send(time.Now().Add(24 * time.Hour)); code != http.StatusBadRequest {
		t.Fatalf("a webhook dated tomorrow: %d, want 400", code)
	}
	if _, _, err := m.Store.FindSeatForAccount(context.Background(), 1, time.Now()); err == nil {
		t.Fatal("the future-dated webhook granted a seat")
	}
}

// The sign-up form cannot be used to test many addresses: after ten
// "already has an account" answers in an hour, a client's sign-ups are
// refused.
func TestSignUpCannotTestManyAddresses(t *testing.T) {
	m := startMain(t, "--trusted-proxies", "127.0.0.1/32")
	b := newBrowser(t, m)
	signUp := func(ip, email string) int {
		req, _ := http.NewRequest("POST", m.URL()+"/signup", strings.NewReader(url.Values{"email": {email}, "password": {"una frase bastante larga"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		code, _, _ := b.do(req)
		return code
	}
	taken := []string{"free@kiosko.test", "digital@kiosko.test", "premium@kiosko.test"}
	for i := 0; i < 10; i++ {
		if code := signUp("203.0.113.50", taken[i%len(taken)]); code != http.StatusUnprocessableEntity {
			t.Fatalf("taken address %d: %d", i, code)
		}
	}
	if code := signUp("203.0.113.50", "free@kiosko.test"); code != http.StatusTooManyRequests {
		t.Fatalf("the 11th test of an address: %d, want 429", code)
	}
	if code := signUp("203.0.113.51", "nueva@example.com"); code != http.StatusSeeOther {
		t.Fatalf("another client's sign-up: %d", code)
	}
}

// Readers signed in before device tokens existed stay signed in (nothing
// in the database changed) and get their device token on their next page,
// which then keeps them out of reach of someone guessing their password.
func TestReadersSignedInBeforeDeviceTokensGetOne(t *testing.T) {
	m := startMain(t, "--trusted-proxies", "127.0.0.1/32")
	b := newBrowser(t, m)
	b.signIn("digital@kiosko.test", demo.Password)
	u := mustURL(t, m.URL())
	// As a browser of the older version: a session, no device token.
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "kiosko_device_token", Value: "", MaxAge: -1}})
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "kiosko_device_token" {
			t.Fatal("the device token is still there")
		}
	}
	if code, body := b.get("/account"); code != http.StatusOK || !strings.Contains(body, "digital@kiosko.test") {
		t.Fatalf("the signed-in reader was signed out: %d", code)
	}
	var token string
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "kiosko_device_token" {
			token = c.Value
		}
	}
	if token == "" {
		t.Fatal("no device token after the next page")
	}
	for i := 0; i < 100; i++ {
		apiSignIn(t, m, fmt.Sprintf("198.51.100.%d", i), map[string]string{"email": "digital@kiosko.test", "password": fmt.Sprintf("wrong %d", i)})
	}
	if code, _ := apiSignIn(t, m, "198.51.100.200", map[string]string{"email": "digital@kiosko.test", "password": demo.Password}); code != http.StatusTooManyRequests {
		t.Fatalf("the account is not being slowed: %d", code)
	}
	req, _ := http.NewRequest("POST", m.URL()+"/signin", strings.NewReader(url.Values{"email": {"digital@kiosko.test"}, "password": {demo.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "198.51.100.201")
	if code, body, _ := b.do(req); code != http.StatusSeeOther {
		t.Fatalf("the owner's browser was locked out: %d %.300s", code, body)
	}
}

package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/demo"
)

// sseEvent is one Server-Sent Event as a browser's EventSource sees it;
// comments come through as events named ":".
type sseEvent struct {
	name, data string
}

// stream is an open GET /api/v1/reading/events, read the way EventSource
// reads it: lines, "event:" and "data:" fields, a blank line ends an event.
type stream struct {
	res    *http.Response
	events chan sseEvent // closed when the stream ends
	cancel context.CancelFunc
}

// openStream opens the event stream with the token as a Bearer (bearer) or
// as the browser's session cookie.
func (e *env) openStream(t *testing.T, token string, bearer bool) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := call{method: "GET", path: "/api/v1/reading/events", header: map[string]string{"Accept": "text/event-stream"}}
	if bearer {
		c.token = token
	} else {
		c.cookie = token
	}
	req, err := e.request(c)
	if err != nil {
		t.Fatal(err)
	}
	// Use a client without a timeout: the stream lasts.
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("event stream: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("Content-Type %q", ct)
	}
	s := &stream{res: res, events: make(chan sseEvent, 64), cancel: cancel}
	go s.read()
	t.Cleanup(func() {
		cancel()
		res.Body.Close()
	})
	return s
}

func (s *stream) read() {
	sc := bufio.NewScanner(s.res.Body)
	var ev sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" || len(data) > 0 {
				ev.data = strings.Join(data, "\n")
				if ev.name == "" {
					ev.name = "message"
				}
				s.events <- ev
			}
			ev, data = sseEvent{}, nil
		case strings.HasPrefix(line, ":"):
			s.events <- sseEvent{name: ":", data: strings.TrimSpace(line[1:])}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				ev.name = value
			case "data":
				data = append(data, value)
			case "retry":
				s.events <- sseEvent{name: "retry", data: value}
			}
		}
	}
	close(s.events)
}

// next returns the next event other than comments and retry hints, or
// fails after timeout.
func (s *stream) next(t *testing.T, timeout time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended before the event")
			}
			if ev.name == ":" || ev.name == "retry" {
				continue
			}
			return ev
		case <-deadline:
			t.Fatalf("no event within %v", timeout)
		}
	}
}

// first returns the first thing the stream says, which must come at once.
func (s *stream) first(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("the stream ended at once")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("the stream said nothing at once")
	}
	return sseEvent{}
}

// ended fails unless the server ends the stream within timeout.
func (s *stream) ended(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if ev.name != ":" {
				t.Fatalf("unexpected event %q %s while waiting for the end", ev.name, ev.data)
			}
		case <-deadline:
			t.Fatalf("the stream did not end within %v", timeout)
		}
	}
}

// quiet fails if the stream says anything but comments, or ends, within d.
func (s *stream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.name != ":" && ev.name != "retry" {
				t.Fatalf("unexpected event %q %s", ev.name, ev.data)
			}
		case <-deadline:
			return
		}
	}
}

func TestEventsDisplaced(t *testing.T) {
	t.Parallel()
	for _, bearer := range []bool{true, false} {
		name := "cookie"
		if bearer {
			name = "bearer"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			phone := e.signIn(t, "digital@kiosko.test", "Ana's phone")
			laptop := e.signIn(t, "digital@kiosko.test", "Work laptop")
			e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, http.StatusOK)

			s := e.openStream(t, phone.token, bearer)
			if ev := s.first(t); ev.name != ":" {
				t.Fatalf("first thing said is %q, want a comment", ev.name)
			}
			// The laptop's own stream must not hear about the phone.
			other := e.openStream(t, laptop.token, true)
			other.first(t)

			e.expect(t, call{method: "POST", path: "/api/v1/reading/takeover", token: laptop.token, body: claim(subscriberArticle)}, http.StatusOK)
			start := time.Now()
			ev := s.next(t, time.Second)
			if ev.name != "displaced" {
				t.Fatalf("event %q, want displaced", ev.name)
			}
			t.Logf("displaced told in %v", time.Since(start))
			var body struct {
				OtherDevice struct {
					Name     string `json:"name"`
					LastSeen string `json:"last_seen"`
				} `json:"other_device"`
			}
			if err := json.Unmarshal([]byte(ev.data), &body); err != nil {
				t.Fatalf("data %q: %v", ev.data, err)
			}
			if body.OtherDevice.Name != "Work laptop" {
				t.Errorf("other device %q", body.OtherDevice.Name)
			}
			if _, err := time.Parse(time.RFC3339, body.OtherDevice.LastSeen); err != nil {
				t.Errorf("last_seen %q: %v", body.OtherDevice.LastSeen, err)
			}
			other.quiet(t, 100*time.Millisecond) // the device that took over is not told
		})
	}
}

func TestEventsRetryHint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	s := e.openStream(t, phone.token, true)
	for range 2 {
		if ev := s.first(t); ev.name == "retry" {
			return
		}
	}
	t.Fatal("no retry hint at the start of the stream")
}

func TestEventsSignedOutByPasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	laptop := e.signIn(t, "digital@kiosko.test", "laptop")
	phoneStream := e.openStream(t, phone.token, false)
	laptopStream := e.openStream(t, laptop.token, true)
	phoneStream.first(t)
	laptopStream.first(t)

	e.expect(t, call{method: "POST", path: "/api/v1/account/password", token: laptop.token,
		body: map[string]string{"current_password": demo.Password, "new_password": "correct horse battery staple"}}, http.StatusNoContent)
	if ev := phoneStream.next(t, time.Second); ev.name != "signed_out" {
		t.Fatalf("event %q, want signed_out", ev.name)
	}
	phoneStream.ended(t, time.Second)

	// The device that changed the password stays signed in and untold.
	laptopStream.quiet(t, 100*time.Millisecond)
}

func TestEventsSignedOutByDeviceRemoval(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	laptop := e.signIn(t, "digital@kiosko.test", "laptop")
	s := e.openStream(t, phone.token, true)
	s.first(t)
	e.expect(t, call{method: "DELETE", path: "/api/v1/devices/" + phone.id, token: laptop.token,
		body: map[string]string{"current_password": demo.Password}}, http.StatusNoContent)
	if ev := s.next(t, time.Second); ev.name != "signed_out" {
		t.Fatalf("event %q, want signed_out", ev.name)
	}
	s.ended(t, time.Second)
}

// TestEventsOtherSessionOfDevice: a device signed in twice (two apps, or a
// token and a cookie) keeps the stream of the session that did not end.
func TestEventsOtherSessionOfDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	r := e.expect(t, call{method: "POST", path: "/api/v1/sessions", body: map[string]string{"email": "digital@kiosko.test", "password": demo.Password, "device_id": phone.id}}, http.StatusCreated)
	second := r.json(t)["token"].(string)
	first, err := e.deps.Store.FindSessionByTokenHash(ctx, kiosko.HashToken(phone.token))
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.deps.Store.FindSessionByTokenHash(ctx, kiosko.HashToken(second))
	if err != nil {
		t.Fatal(err)
	}
	s := e.openStream(t, phone.token, true)
	s.first(t)
	publish := func(session int64) {
		n := kiosko.Notice{Kind: kiosko.NoticeSignedOut, AccountID: first.AccountID, Device: phone.id, Session: session, Reason: "remote"}
		if err := e.deps.Hub.Publish(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	publish(other.ID)
	s.quiet(t, 100*time.Millisecond)
	publish(first.ID)
	if ev := s.next(t, time.Second); ev.name != "signed_out" {
		t.Fatalf("event %q, want signed_out", ev.name)
	}
	s.ended(t, time.Second)
}

func TestEventsSharingWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	laptop := e.signIn(t, "digital@kiosko.test", "laptop")
	tablet := e.signIn(t, "digital@kiosko.test", "tablet") // signed in, not reading
	s := e.openStream(t, tablet.token, true)
	s.first(t)
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, http.StatusOK)
	for _, d := range []device{laptop, phone, laptop, phone} { // each taken back within seconds
		e.clock.Add(time.Second)
		e.expect(t, call{method: "POST", path: "/api/v1/reading/takeover", token: d.token, body: claim(subscriberArticle)}, http.StatusOK)
	}
	if ev := s.next(t, time.Second); ev.name != "sharing_warning" {
		t.Fatalf("event %q, want sharing_warning", ev.name)
	}
}

func TestEventsKeepAliveAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.h.keepAlive = 20 * time.Millisecond
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	s := e.openStream(t, phone.token, true)
	comments := 0
	deadline := time.After(2 * time.Second)
	for comments < 3 {
		select {
		case ev := <-s.events:
			if ev.name == ":" {
				comments++
			}
		case <-deadline:
			t.Fatalf("%d comments in 2s", comments)
		}
	}
	// Shutting the server down ends open streams.
	e.h.Close()
	s.ended(t, time.Second)
}

func TestEventsClientLeaves(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	s := e.openStream(t, phone.token, true)
	s.first(t)
	s.cancel()
	// The handler lets go of its subscription once the client is gone.
	deadline := time.Now().Add(2 * time.Second)
	for e.hubSubscribers() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream's subscription outlived its client")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) hubSubscribers() int {
	h, ok := e.deps.Hub.(interface{ Subscribers() int })
	if !ok {
		return 0
	}
	return h.Subscribers()
}

package api

import (
	"testing"
	"time"
)

// Over HTTP/1.1 the stream is taken over from net/http (a light stream),
// and a client that leaves gives its slot under the stream cap back, so a
// page that reconnects again and again is never refused.
func TestEventsLightStreamGivesItsSlotBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "phone")
	for round := 0; round < 3; round++ {
		var open []*stream
		for i := 0; i < MaxStreamsPerSession; i++ {
			s := e.openStream(t, phone.token, true)
			s.first(t)
			open = append(open, s)
		}
		if n := len(e.h.light.snapshot()); n != MaxStreamsPerSession {
			t.Fatalf("round %d: %d light streams, want %d", round, n, MaxStreamsPerSession)
		}
		for _, s := range open {
			s.cancel()
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(e.h.light.snapshot()) > 0 || e.hubSubscribers() > 0 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: streams outlived their clients", round)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

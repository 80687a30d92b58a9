package api

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// step is one call of a reading scenario and what must come back.
type step struct {
	who    string // device name: "phone", "laptop", "free"
	method string
	path   string
	body   any
	status int
	want   map[string]any // fields of the answer that must match
	// wait moves the clock before the call.
	wait time.Duration
}

func claim(article string) map[string]any { return map[string]any{"article": article} }

func TestReadingScenarios(t *testing.T) {
	t.Parallel()
	const (
		claimPath     = "/api/v1/reading/claim"
		heartbeatPath = "/api/v1/reading/heartbeat"
		takeoverPath  = "/api/v1/reading/takeover"
		presencePath  = "/api/v1/reading/presence"
	)
	present := map[string]any{"present": true}
	nobody := map[string]any{"present": false}
	reading := map[string]any{"status": "reading", "heartbeat_every": 30.0, "lease_ttl": 90.0, "presence_window": 15.0, "sharing_warning": false}
	conflictFrom := func(name string) map[string]any {
		return map[string]any{"status": "conflict", "other_device.name": name}
	}
	displacedBy := func(name string) map[string]any {
		return map[string]any{"status": "displaced", "other_device.name": name}
	}
	paywall := map[string]any{"status": "paywall"}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"one device reads", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200, want: reading},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{"active": true}, status: 200, want: reading},
			{who: "phone", method: "POST", path: heartbeatPath, body: "", status: 200, want: reading},
			{who: "phone", method: "POST", path: claimPath, body: claim(otherSubscriber), status: 200, want: reading},
		}},
		{"a second device meets a conflict", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: claimPath, body: claim(otherSubscriber), status: 409, want: conflictFrom("phone")},
			{who: "laptop", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 409, want: displacedBy("phone")},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, want: reading},
		}},
		{"free articles need no lease", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: claimPath, body: claim(freeArticle), status: 200, want: map[string]any{"status": "reading"}},
			{who: "free", method: "POST", path: claimPath, body: claim(freeArticle), status: 200, want: map[string]any{"status": "reading"}},
		}},
		{"a lapsed lease is free for another device", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 409, wait: 89 * time.Second},
			{who: "laptop", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200, want: reading, wait: 2 * time.Second},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 409, want: displacedBy("laptop")},
		}},
		{"a lapsed lease nobody took is renewed by a heartbeat", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, want: reading, wait: 5 * time.Minute},
			{who: "laptop", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 409},
		}},
		{"continue reading here", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 409},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200,
				want: map[string]any{"status": "reading", "contested": true, "sharing_warning": false}},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 409, want: displacedBy("laptop")},
			{who: "laptop", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, want: reading},
			// The phone takes it back the same way.
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}},
			{who: "laptop", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 409, want: displacedBy("phone")},
		}},
		{"taking over an untouched tab is not contested", []step{
			{who: "phone", method: "POST", path: claimPath, body: map[string]any{"article": subscriberArticle, "active": false}, status: 200},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": false}},
		}},
		{"taking over a lease seen long ago is not contested", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": false}, wait: 75 * time.Second},
		}},
		{"taking over a free seat is not contested", []step{
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"status": "reading", "contested": false}},
		}},
		{"two devices fighting over the seat set the sharing warning", []step{
			// Each takeover taken back within seconds makes the one before count.
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": false}, wait: time.Second},
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": false}, wait: time.Second},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": false}, wait: time.Second},
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": true}, wait: time.Second},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, want: map[string]any{"status": "reading", "sharing_warning": true}},
		}},
		{"a person at each displaced device sets the sharing warning", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}, wait: 10 * time.Second},
			{who: "phone", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": true}, wait: 4 * time.Second},
			{who: "phone", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": false}},
			{who: "laptop", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, wait: time.Hour},
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": false}, wait: 10 * time.Second},
			{who: "laptop", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": true}, wait: 5 * time.Second},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, wait: time.Hour},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"sharing_warning": false}, wait: 10 * time.Second},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 409, want: displacedBy("laptop"), wait: 2 * time.Second},
			{who: "phone", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": true}, wait: 2 * time.Second},
			{who: "laptop", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 200, want: map[string]any{"status": "reading", "sharing_warning": true}},
		}},
		{"one person moving between devices is not warned", []step{
			{who: "phone", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 200},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}, wait: 10 * time.Second},
			{who: "phone", method: "POST", path: presencePath, body: nobody, status: 200, want: map[string]any{"counted": false}, wait: 15 * time.Second},
			// Back on the phone 40 s later, and again and again.
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}, wait: 25 * time.Second},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}, wait: 40 * time.Second},
			{who: "phone", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true}, wait: 40 * time.Second},
			{who: "laptop", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 200, want: map[string]any{"contested": true, "sharing_warning": false}, wait: 40 * time.Second},
			// A report long after the displacement does not count.
			{who: "phone", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": false}, wait: 20 * time.Second},
		}},
		{"no seat, no subscriber article", []step{
			{who: "free", method: "POST", path: claimPath, body: claim(subscriberArticle), status: 402, want: paywall},
			{who: "free", method: "POST", path: heartbeatPath, body: map[string]any{}, status: 402, want: paywall},
			{who: "free", method: "POST", path: takeoverPath, body: claim(subscriberArticle), status: 402, want: paywall},
			{who: "free", method: "POST", path: presencePath, body: present, status: 200, want: map[string]any{"counted": false}},
		}},
		{"bad requests", []step{
			{who: "phone", method: "POST", path: claimPath, body: map[string]any{}, status: 400, want: map[string]any{"error.code": kiosko.EINVALID}},
			{who: "phone", method: "POST", path: claimPath, body: "", status: 400, want: map[string]any{"error.code": kiosko.EINVALID}},
			{who: "phone", method: "POST", path: claimPath, body: claim("no-such-article"), status: 404, want: map[string]any{"error.code": kiosko.ENOTFOUND}},
			{who: "phone", method: "POST", path: claimPath, body: map[string]any{"article": 7}, status: 400},
			{who: "phone", method: "POST", path: claimPath, body: map[string]any{"article": subscriberArticle, "active": "yes"}, status: 400},
			{who: "phone", method: "POST", path: claimPath, body: `{"article":`, status: 400},
			{who: "phone", method: "POST", path: heartbeatPath, body: map[string]any{"active": 1}, status: 400},
			{who: "phone", method: "POST", path: heartbeatPath, body: `"active"`, status: 400},
			{who: "phone", method: "POST", path: takeoverPath, body: map[string]any{}, status: 400},
			{who: "phone", method: "POST", path: takeoverPath, body: claim("no-such-article"), status: 404},
			{who: "phone", method: "POST", path: takeoverPath, body: map[string]any{"article": []string{subscriberArticle}}, status: 400},
			{who: "phone", method: "POST", path: presencePath, body: map[string]any{}, status: 400, want: map[string]any{"error.code": kiosko.EINVALID}},
			{who: "phone", method: "POST", path: presencePath, body: "", status: 400},
			{who: "phone", method: "POST", path: presencePath, body: map[string]any{"present": "yes"}, status: 400},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			devices := map[string]device{
				"phone":  e.signIn(t, "digital@kiosko.test", "phone"),
				"laptop": e.signIn(t, "digital@kiosko.test", "laptop"),
				"free":   e.signIn(t, "free@kiosko.test", "free"),
			}
			for i, s := range tc.steps {
				e.clock.Add(s.wait)
				r := e.do(call{method: s.method, path: s.path, token: devices[s.who].token, body: s.body})
				if r.status != s.status {
					t.Fatalf("step %d: %s %s by %s: status %d, want %d: %s", i, s.method, s.path, s.who, r.status, s.status, r.body)
				}
				if len(s.want) == 0 {
					continue
				}
				got := flatten("", r.json(t))
				for k, v := range s.want {
					if got[k] != v {
						t.Errorf("step %d: %s is %v (%T), want %v: %s", i, k, got[k], got[k], v, r.body)
					}
				}
			}
		})
	}
}

// flatten turns {"a":{"b":1}} into {"a.b":1}.
func flatten(prefix string, m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			for k2, v2 := range flatten(prefix+k+".", sub) {
				out[k2] = v2
			}
			continue
		}
		out[prefix+k] = v
	}
	return out
}

func TestConflictNamesTheOtherDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	phone := e.signIn(t, "digital@kiosko.test", "Ana's phone")
	laptop := e.signIn(t, "digital@kiosko.test", "Work laptop")
	e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: phone.token, body: claim(subscriberArticle)}, http.StatusOK)
	claimedAt := e.clock.Now()
	e.clock.Add(10 * time.Second)
	r := e.expect(t, call{method: "POST", path: "/api/v1/reading/claim", token: laptop.token, body: claim(subscriberArticle)}, http.StatusConflict)
	got := flatten("", r.json(t))
	if got["other_device.name"] != "Ana's phone" {
		t.Errorf("other device %v", got["other_device.name"])
	}
	seen, err := time.Parse(time.RFC3339, got["other_device.last_seen"].(string))
	if err != nil || !seen.Equal(claimedAt) {
		t.Errorf("last_seen %v (%v), want %v", got["other_device.last_seen"], err, claimedAt)
	}
}

// TestConcurrentClaims races 20 devices of one seat over HTTP: exactly one
// reads, every other one meets the conflict.
func TestConcurrentClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 20
	devices := make([]device, n)
	for i := range devices {
		devices[i] = e.signIn(t, "digital@kiosko.test", "device")
	}
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Go(func() {
			<-start
			statuses[i] = e.do(call{method: "POST", path: "/api/v1/reading/claim", token: d.token, body: claim(subscriberArticle)}).status
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("statuses %v, want one 200 and %d 409", count, n-1)
	}
}

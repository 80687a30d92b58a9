package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// Sessions and seats stay cached for long on each node (cache.go), yet a
// session ended on one node, or a plan revoked from the command line, stops
// heartbeats on the other node within 1 s: the change goes out over Redis.
func TestChangesReachEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	redisURL := requireRedis(t)
	dbURL := pgtest.URL(t)
	prefix := fmt.Sprintf("kiosko-test-changes-%d:", time.Now().UnixNano())
	env := []string{"KIOSKO_DATABASE_URL=" + dbURL, "KIOSKO_REDIS_URL=" + redisURL, "KIOSKO_REDIS_PREFIX=" + prefix,
		"KIOSKO_SECRET=" + strings.Repeat("s", 40)}
	n1 := startNode(t, env)
	n2 := startNode(t, env, "--seed-demo=false")
	const pw = "una contraseña muy larga"
	for _, email := range []string{"by-hand@example.com", "out@example.com", "revoked@example.com"} {
		if out, err := kioskoCLIEnv(t, env, pw+"\n", "account", "create", "--email", email, "--plan", "digital"); err != nil {
			t.Fatalf("account create: %v\n%s", err, out)
		}
	}
	article := subscriberArticle(t, n1.url)

	// reading claims on node 2 and heartbeats there a few times, so node 2
	// has the session and the seat in memory.
	reading := func(email string) string {
		t.Helper()
		token := signInAPI(t, n1.url, email, pw, "")
		if code, out := call(t, "POST", n2.url+"/api/v1/reading/claim", token, map[string]any{"article": article}); code != 200 {
			t.Fatalf("claim: %d %v", code, out)
		}
		for i := 0; i < 3; i++ {
			if code, out := call(t, "POST", n2.url+"/api/v1/reading/heartbeat", token, map[string]any{"active": true}); code != 200 {
				t.Fatalf("heartbeat: %d %v", code, out)
			}
		}
		return token
	}
	// stops asserts that node 2 answers the heartbeat with want within 1 s
	// of the change.
	stops := func(token string, want int, changed time.Time) {
		t.Helper()
		for {
			code, out := call(t, "POST", n2.url+"/api/v1/reading/heartbeat", token, map[string]any{"active": true})
			if code == want {
				t.Logf("node 2 answered %d after %v", code, time.Since(changed))
				return
			}
			if code != 200 {
				t.Fatalf("heartbeat: %d %v, want 200 then %d", code, out, want)
			}
			if time.Since(changed) > time.Second {
				t.Fatalf("node 2 still answers 200 more than 1 s after the change, want %d", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("node 2 keeps the session in memory longer than the old 1 s TTL", func(t *testing.T) {
		// A session deleted by hand in SQL, which publishes nothing: node 2
		// goes on answering from memory, so what the subtests below show
		// is the change feed at work, not a short TTL.
		token := reading("by-hand@example.com")
		conn, err := pgxpool.New(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		hash := sha256.Sum256([]byte(token))
		if _, err := conn.Exec(context.Background(), `DELETE FROM sessions WHERE token_hash = $1`, hash[:]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		if code, out := call(t, "POST", n2.url+"/api/v1/reading/heartbeat", token, map[string]any{"active": true}); code != 200 {
			t.Fatalf("heartbeat 1.5 s after the row went: %d %v; want 200 from memory", code, out)
		}
		if code, _ := call(t, "POST", n1.url+"/api/v1/reading/heartbeat", token, map[string]any{"active": true}); code != 401 {
			t.Fatalf("node 1 never saw the session, yet answers %d", code)
		}
	})
	t.Run("signed out on node 1", func(t *testing.T) {
		token := reading("out@example.com")
		if code, out := call(t, "DELETE", n1.url+"/api/v1/sessions/current", token, nil); code != 204 {
			t.Fatalf("sign out: %d %v", code, out)
		}
		stops(token, 401, time.Now())
	})
	t.Run("plan revoked from the command line", func(t *testing.T) {
		token := reading("revoked@example.com")
		if out, err := kioskoCLIEnv(t, env, "", "account", "revoke", "--email", "revoked@example.com"); err != nil {
			t.Fatalf("revoke: %v\n%s", err, out)
		}
		stops(token, 402, time.Now())
	})
}

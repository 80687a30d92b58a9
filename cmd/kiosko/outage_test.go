package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiosko/kiosko/internal/postgres/pgtest"
)

// privateRedis runs a redis-server of the test's own on port, so the test
// can stop and start it.
func privateRedis(t *testing.T, port string) func() {
	t.Helper()
	requireRedis(t) // the binary comes with the server the machine runs
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	return stop
}

func failOpenCount(t *testing.T, m *Main) string {
	res, err := http.Get(m.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "kiosko_lease_store_fail_open_total ") {
			return strings.TrimPrefix(line, "kiosko_lease_store_fail_open_total ")
		}
	}
	t.Fatal("no fail-open metric")
	return ""
}

// TestRedisOutageFailsOpen stops Redis under a running node: reading goes
// on (fail open, counted), and the rule is back once Redis is, without a
// restart.
func TestRedisOutageFailsOpen(t *testing.T) {
	port := freePort(t)
	stop := privateRedis(t, port)
	m := startMain(t, "--redis-url", "redis://127.0.0.1:"+port+"/0")
	article := subscriberArticle(t, m.URL())
	a := signInAPI(t, m.URL(), "digital@kiosko.test", "kiosko-demo-2026", "device-aaaa-1")
	b := signInAPI(t, m.URL(), "digital@kiosko.test", "kiosko-demo-2026", "device-bbbb-1")
	claim := func(tok string) int {
		code, _ := call(t, "POST", m.URL()+"/api/v1/reading/claim", tok, map[string]any{"article": article})
		return code
	}
	if claim(a) != 200 || claim(b) != 409 {
		t.Fatal("the reading rule does not hold with Redis up")
	}
	stop()
	if got := failOpenCount(t, m); got != "0" {
		t.Fatalf("fail-open counted %s before the outage", got)
	}
	start := time.Now()
	if code := claim(b); code != 200 {
		t.Fatalf("with Redis down, claim answered %d; reading must fail open", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("a claim with Redis down took %v", d)
	}
	if got := failOpenCount(t, m); got == "0" {
		t.Fatal("fail-open not counted in the metrics")
	}
	// Redis comes back on the same address: the rule holds again.
	privateRedis(t, port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if claim(a) == 200 && claim(b) == 409 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reading rule did not come back after Redis did")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// proxy forwards TCP to target until cut, to take a database away from a
// running node.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go func() { io.Copy(up, c); up.Close() }()
		go func() { io.Copy(c, up); c.Close() }()
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestPostgresOutage takes PostgreSQL away from a running node: /readyz
// says so, requests fail cleanly, and the node recovers when it returns.
func TestPostgresOutage(t *testing.T) {
	dbURL := pgtest.URL(t)
	i := strings.Index(dbURL, "@") + 1
	j := i + strings.IndexAny(dbURL[i:], "/")
	p := newProxy(t, dbURL[i:j])
	viaProxy := dbURL[:i] + p.ln.Addr().String() + dbURL[j:]
	// This test is about the production behaviour with the database gone:
	// its connect timeout, not the tests' generous one.
	viaProxy = strings.Replace(viaProxy, "connect_timeout=10", "connect_timeout=2", 1)
	m := startMain(t, "--database-url", viaProxy)
	get := func(path string) (int, string) {
		res, err := http.Get(m.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("readyz with the database up: %d", code)
	}
	p.cut()
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Fatalf("readyz with the database down: %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("healthz should stay up: %d", code)
	}
	code, body := get("/api/v1/articles?edition=es")
	if code < 500 || code == http.StatusInternalServerError && !strings.Contains(body, "error") {
		t.Fatalf("API with the database down: %d %s", code, body)
	}
	if code, _ := get("/es/"); code < 500 {
		t.Fatalf("front page with the database down: %d", code)
	}
	p.restore()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if code, _ := get("/readyz"); code == 200 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _ := get("/api/v1/articles?edition=es"); code != 200 {
		t.Fatalf("the node did not recover when the database came back: %d", code)
	}
}

package newsletter_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
)

// flakySMTP is a tiny SMTP server that refuses each recipient with 451
// the first refusals times, then accepts. Mailpit cannot answer 4xx, which
// is the one thing this stands in for.
type flakySMTP struct {
	addr     string
	refusals int
	mu       sync.Mutex
	tries    map[string]int
	got      map[string]int
}

func startFlakySMTP(t testing.TB, refusals int) *flakySMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &flakySMTP{addr: l.Addr().String(), refusals: refusals, tries: map[string]int{}, got: map[string]int{}}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *flakySMTP) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	w := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	w("220 flaky ESMTP")
	var rcpt string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			w("250-flaky")
			w("250-8BITMIME")
			w("250 ENHANCEDSTATUSCODES")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			w("250 2.1.0 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			addr := strings.ToLower(strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<> \r\n"))
			if i := strings.Index(addr, ">"); i >= 0 {
				addr = addr[:i]
			}
			s.mu.Lock()
			s.tries[addr]++
			refuse := s.tries[addr] <= s.refusals
			s.mu.Unlock()
			if refuse {
				w("451 4.3.0 try again later")
				continue
			}
			rcpt = addr
			w("250 2.1.5 ok")
		case cmd == "DATA":
			w("354 go ahead")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.mu.Lock()
			s.got[rcpt]++
			s.mu.Unlock()
			w("250 2.0.0 queued")
		case cmd == "RSET", cmd == "NOOP":
			w("250 ok")
		case cmd == "QUIT":
			w("221 bye")
			return
		default:
			w("502 5.5.2 unknown command")
		}
	}
}

func (s *flakySMTP) delivered(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[addr]
}

func (s *flakySMTP) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.got {
		out[k] = v
	}
	return out
}

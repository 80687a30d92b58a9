// Package mailpit starts a real Mailpit SMTP server for tests and reads what
// it received through its HTTP API.
//
// The mailpit binary must be installed (go install
// github.com/axllent/mailpit@v1.33.1); a missing binary fails the test rather
// than skipping it, so a green run means mail was really tested. $MAILPIT
// names the binary explicitly.
package mailpit

import (
	"encoding/json"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running Mailpit.
type Server struct {
	SMTPAddr string // host:port for KIOSKO_SMTP_ADDR
	APIURL   string // http://host:port, base of /api/v1
	http     *http.Client
}

// Options tune the server.
type Options struct {
	// AllowedRecipients is a regular expression; RCPT TO any other address is
	// refused with a permanent (5xx) error. Empty allows all.
	AllowedRecipients string
	// Args are extra command-line arguments.
	Args []string
}

// Start runs Mailpit on free local ports until the test ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith runs Mailpit with options until the test ends.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Fatal("mailpit: binary not found; install it: go install github.com/axllent/mailpit@v1.33.1 (or set $MAILPIT)")
	}
	dir := t.TempDir()
	var s *Server
	var lastErr error
	for try := 0; try < 3; try++ { // a free port can be taken between lookup and use
		smtpAddr, apiAddr := freeAddr(t), freeAddr(t)
		args := []string{
			"--smtp", smtpAddr, "--listen", apiAddr,
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit%d.db", try)),
			"--max", "0", "--quiet", "--disable-version-check",
			"--smtp-auth-accept-any", "--smtp-auth-allow-insecure", "--smtp-disable-rdns",
			"--smtp-max-recipients", "1000",
		}
		if o.AllowedRecipients != "" {
			args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
		}
		args = append(args, o.Args...)
		cmd := exec.Command(bin, args...)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("mailpit: start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		s = &Server{SMTPAddr: smtpAddr, APIURL: "http://" + apiAddr, http: &http.Client{Timeout: 10 * time.Second}}
		lastErr = s.waitReady(exited)
		if lastErr == nil {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-exited
		lastErr = fmt.Errorf("%w; output: %s", lastErr, out.String())
	}
	t.Fatalf("mailpit: did not start: %v", lastErr)
	return nil
}

// Binary returns the path of the mailpit binary: $MAILPIT, then $PATH, then
// $GOPATH/bin; "" when none exists.
func Binary() string {
	if p := os.Getenv("MAILPIT"); p != "" {
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gp, "bin", "mailpit")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailpit: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("mailpit exited")
		default:
		}
		if resp, err := s.http.Get(s.APIURL + "/api/v1/info"); err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second); err == nil {
				c.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mailpit not ready after 15s")
}

// Address is a name and address of a message.
type Address struct {
	Name    string
	Address string
}

// Summary is a message as the list shows it.
type Summary struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Snippet   string
	Created   time.Time
}

// Message is one received message in full.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Text      string
	HTML      string
	Date      time.Time
	Headers   map[string][]string // canonical names, e.g. "List-Unsubscribe"
}

// Header returns the first value of a header, "" if absent.
func (m *Message) Header(name string) string {
	for k, v := range m.Headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// Messages returns every received message, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var all []Summary
	for start := 0; ; {
		var page struct {
			Total    int
			Messages []Summary
		}
		s.get(t, "/api/v1/messages?limit=1000&start="+strconv.Itoa(start), &page)
		all = append(all, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return all
		}
	}
}

// Count returns how many messages Mailpit holds.
func (s *Server) Count(t testing.TB) int {
	t.Helper()
	var page struct{ Total int }
	s.get(t, "/api/v1/messages?limit=1", &page)
	return page.Total
}

// To returns the summaries of messages to addr.
func (s *Server) To(t testing.TB, addr string) []Summary {
	t.Helper()
	var out []Summary
	for _, m := range s.Messages(t) {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Message returns one message in full, with its headers.
func (s *Server) Message(t testing.TB, id string) *Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+url.PathEscape(id), &m)
	s.get(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &m.Headers)
	return &m
}

// Patience is how long the Wait helpers poll before failing: generous, so a
// loaded machine (CI runs the suite with -race on two cores) only slows a
// test down, never fails it. A wait ends as soon as its message is there.
const Patience = 30 * time.Second

// WaitForMatch polls until a message to addr for which match is true has
// arrived and returns it in full. Only the specific message counts: an older
// one to the same address, or a count of messages reached by other mail,
// does not end the wait. It fails the test after Patience, naming what did
// arrive, with what describing the message looked for.
func (s *Server) WaitForMatch(t testing.TB, to, what string, match func(*Message) bool) *Message {
	t.Helper()
	deadline := time.Now().Add(Patience)
	seen := map[string]*Message{}
	for {
		for _, sm := range s.To(t, to) {
			if _, ok := seen[sm.ID]; ok {
				continue
			}
			m := s.Message(t, sm.ID)
			seen[sm.ID] = m
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var subjects []string
			for _, m := range seen {
				subjects = append(subjects, strconv.Quote(m.Subject))
			}
			t.Fatalf("mailpit: no %s to %s after %v; %d other message(s) arrived: %s", what, to, Patience, len(seen), strings.Join(subjects, ", "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitFor waits up to Patience until at least n messages to addr have
// arrived and returns them in full, oldest first. It fails the test on
// timeout.
func (s *Server) WaitFor(t testing.TB, to string, n int) []*Message {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for {
		got := s.To(t, to)
		if len(got) >= n {
			out := make([]*Message, len(got))
			for i, sm := range got {
				out[len(got)-1-i] = s.Message(t, sm.ID)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d message(s) to %s, want %d", len(got), to, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// DeleteAll removes every message.
func (s *Server) DeleteAll(t testing.TB) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, s.APIURL+"/api/v1/messages", nil)
	resp, err := s.http.Do(req)
	if err != nil {
		t.Fatalf("mailpit: delete: %v", err)
	}
	resp.Body.Close()
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := s.http.Get(s.APIURL + path)
	if err != nil {
		t.Fatalf("mailpit: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit: GET %s: %s: %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("mailpit: GET %s: %v", path, err)
	}
}

package api

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
)

// An open event stream mostly waits. Served the usual way it keeps a
// net/http connection goroutine (its stack grown by the whole handler
// chain), the connection's 4 KiB read and write buffers, a chunk writer
// and a channel of notices: about 32 KiB each (BENCHMARKS.md). A light
// stream takes the connection over (HTTP/1.1 only) once its headers are
// decided, and keeps just the connection, a goroutine with a small stack
// that notices the client leaving, and its queue. Notices are written by
// a short-lived goroutine when they come; keep-alives by one ticker for
// every stream. HTTP/2, and a hub or a ResponseWriter that cannot do this,
// get the usual stream (events.go).

// funcHub is a hub that calls a function for each notice instead of
// filling a channel (inmem.Hub, redis.Hub).
type funcHub interface {
	SubscribeFunc(accountID int64, device string, fn func(kiosko.Notice)) (cancel func())
}

// lightQueue is how many notices wait for a slow client before new ones
// are dropped; the page learns its state at its next heartbeat anyway.
const lightQueue = 8

// lightStreams are a Handler's light streams.
type lightStreams struct {
	mu      sync.Mutex
	all     map[*lightStream]struct{}
	ticking bool
	servers map[*http.Server]bool // shutdown hooks registered
}

type lightStream struct {
	h       *Handler
	conn    net.Conn
	session int64

	mu      sync.Mutex
	queue   []kiosko.Notice // Kind "" is a keep-alive
	writing bool
	done    bool
	cancel  func() // hub subscription
	release func() // stream cap
}

// serveLight serves the stream as a light one and reports true, or
// reports false (and has written nothing) when it cannot.
func (h *Handler) serveLight(w http.ResponseWriter, r *http.Request, id *kiosko.Identity, release func()) bool {
	hub, ok := h.d.Hub.(funcHub)
	if !ok || r.ProtoMajor != 1 || r.Method != http.MethodGet {
		return false
	}
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv == nil {
		return false
	}
	select {
	case <-h.closed:
		return false
	default:
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	var head strings.Builder
	head.WriteString("HTTP/1.1 200 OK\r\n")
	hd := w.Header().Clone()
	// The body goes out as it is, whatever a middleware meant to do to it.
	hd.Del("Content-Encoding")
	hd.Del("Content-Length")
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	hd.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	hd.Set("Transfer-Encoding", "chunked")
	hd.Set("Connection", "close") // the stream ends the connection
	_ = hd.Write(&head)
	head.WriteString("\r\n")
	_ = brw // its buffers are dropped here: the point of a light stream

	// writing until the head is out: notices published meanwhile wait.
	s := &lightStream{h: h, conn: conn, session: id.Session.ID, release: release, writing: true}
	// Subscribe before the first byte, so a client that saw the stream open
	// cannot miss a notice published right after.
	s.cancel = hub.SubscribeFunc(id.Account.ID, id.Session.DeviceID, s.notice)
	if !h.light.add(s, srv, h) {
		s.close()
		return true
	}
	var first bytes.Buffer
	first.WriteString(head.String())
	writeChunk(&first, []byte(fmt.Sprintf(": kiosko reading events\nretry: %d\n\n", retryAfter.Milliseconds())))
	_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(first.Bytes()); err != nil {
		s.close()
		return true
	}
	go s.watch()
	go s.flush() // whatever came before the head was out, and lets writing go
	return true
}

func writeChunk(b *bytes.Buffer, p []byte) {
	fmt.Fprintf(b, "%x\r\n", len(p))
	b.Write(p)
	b.WriteString("\r\n")
}

// add registers s, starting the keep-alive ticker and the shutdown hook
// when they are not running yet. false when the handler is closing.
func (l *lightStreams) add(s *lightStream, srv *http.Server, h *Handler) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-h.closed:
		return false
	default:
	}
	if l.all == nil {
		l.all, l.servers = map[*lightStream]struct{}{}, map[*http.Server]bool{}
	}
	l.all[s] = struct{}{}
	if !l.servers[srv] {
		// Shutdown does not know hijacked connections: end them when it
		// starts, as the usual streams end with their request's context.
		l.servers[srv] = true
		srv.RegisterOnShutdown(l.closeAll)
	}
	if !l.ticking {
		l.ticking = true
		go l.tick(h)
	}
	return true
}

func (l *lightStreams) remove(s *lightStream) {
	l.mu.Lock()
	delete(l.all, s)
	l.mu.Unlock()
}

func (l *lightStreams) snapshot() []*lightStream {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*lightStream, 0, len(l.all))
	for s := range l.all {
		out = append(out, s)
	}
	return out
}

func (l *lightStreams) closeAll() {
	for _, s := range l.snapshot() {
		s.close()
	}
}

// tick sends every stream a keep-alive each keepAlive, until the handler
// closes.
func (l *lightStreams) tick(h *Handler) {
	t := time.NewTicker(h.keepAlive)
	defer t.Stop()
	for {
		select {
		case <-h.closed:
			l.closeAll()
			return
		case <-t.C:
			for _, s := range l.snapshot() {
				s.enqueue(kiosko.Notice{})
			}
		}
	}
}

// notice is called by the hub; it must not block.
func (s *lightStream) notice(n kiosko.Notice) {
	if n.Kind == kiosko.NoticeSignedOut && n.Session != 0 && n.Session != s.session {
		return // another session of this device ended, not this one
	}
	s.enqueue(n)
}

func (s *lightStream) enqueue(n kiosko.Notice) {
	s.mu.Lock()
	if s.done || len(s.queue) >= lightQueue {
		s.mu.Unlock()
		return
	}
	s.queue = append(s.queue, n)
	start := !s.writing
	s.writing = true
	s.mu.Unlock()
	if start {
		go s.flush()
	}
}

// flush writes what is queued, until the queue is empty.
func (s *lightStream) flush() {
	for {
		s.mu.Lock()
		q := s.queue
		s.queue = nil
		if len(q) == 0 || s.done {
			s.writing = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		var body bytes.Buffer
		end := false
		for _, n := range q {
			if n.Kind == "" {
				body.WriteString(": keep-alive\n\n")
				continue
			}
			if err := writeEvent(&body, n); err != nil {
				continue
			}
			if n.Kind == kiosko.NoticeSignedOut {
				end = true // the stream ends with its session
				break
			}
		}
		var out bytes.Buffer
		if body.Len() > 0 {
			writeChunk(&out, body.Bytes())
		}
		if end {
			out.WriteString("0\r\n\r\n")
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := s.conn.Write(out.Bytes()); err != nil || end {
			s.close()
			return
		}
	}
}

// watch waits for the client to leave (an event stream's client sends
// nothing), then closes the stream.
func (s *lightStream) watch() {
	var b [1]byte
	for {
		if _, err := s.conn.Read(b[:]); err != nil {
			s.close()
			return
		}
	}
}

func (s *lightStream) close() {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	s.done = true
	s.mu.Unlock()
	s.cancel()
	s.release()
	s.h.light.remove(s)
	s.conn.Close()
}

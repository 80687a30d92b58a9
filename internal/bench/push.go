package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Stream is an open GET /api/v1/reading/events of one device: what a page's
// EventSource holds.
type Stream struct {
	conn net.Conn
	// Displaced gets the time each "displaced" event arrived.
	Displaced chan time.Time
}

// OpenStream opens the event stream of the session token on addr (a
// loopback address) and returns once the server has answered, which it
// does only after subscribing the device.
func OpenStream(addr, token string) (*Stream, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	req := fmt.Sprintf("GET /api/v1/reading/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nAuthorization: Bearer %s\r\n\r\n", addr, token)
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 512)
	line, err := br.ReadSlice('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("bench: event stream: %w", err)
	}
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
		c.Close()
		return nil, fmt.Errorf("bench: event stream answered %q", bytes.TrimSpace(line))
	}
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("bench: event stream: %w", err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	_ = c.SetDeadline(time.Time{})
	s := &Stream{conn: c, Displaced: make(chan time.Time, 4)}
	go s.read(br)
	return s, nil
}

// read watches the stream for displaced events. The body is chunked, but
// each event is written and flushed whole, so its lines arrive intact.
func (s *Stream) read(br *bufio.Reader) {
	defer close(s.Displaced)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		} else if err != nil {
			return
		}
		if bytes.HasPrefix(line, []byte("event: displaced")) {
			select {
			case s.Displaced <- time.Now():
			default:
			}
		}
	}
}

// Close ends the stream.
func (s *Stream) Close() error { return s.conn.Close() }

// OpenStreams opens one stream per token, a few at a time.
func OpenStreams(addr string, tokens []string) ([]*Stream, error) {
	streams := make([]*Stream, len(tokens))
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i, t := range tokens {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			streams[i], errs[i] = OpenStream(addr, t)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			CloseStreams(streams)
			return nil, err
		}
	}
	return streams, nil
}

// CloseStreams closes every stream that is open.
func CloseStreams(streams []*Stream) {
	for _, s := range streams {
		if s != nil {
			s.Close()
		}
	}
}

// HoldServer answers every connection with the head of an event stream and
// then holds it without a goroutine: the cost of the client side alone.
type HoldServer struct {
	Addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

// NewHoldServer listens on 127.0.0.1:0.
func NewHoldServer() (*HoldServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &HoldServer{Addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	head := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
	go func() {
		defer close(h.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write(head)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	return h, nil
}

// Close closes the listener and every held connection.
func (h *HoldServer) Close() {
	h.ln.Close()
	<-h.done
	h.mu.Lock()
	for _, c := range h.conns {
		c.Close()
	}
	h.conns = nil
	h.mu.Unlock()
}

// MemUse is the process's memory at one moment, after a collection.
type MemUse struct {
	Go    int64 // heap and stacks in use
	Stack int64 // of which goroutine stacks
	RSS   int64 // resident set size
}

// MeasureMem collects garbage and reads the memory in use.
func MeasureMem() MemUse {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return MemUse{Go: int64(ms.HeapInuse + ms.StackInuse), Stack: int64(ms.StackInuse), RSS: rss()}
}

// Sub is the growth from o to m.
func (m MemUse) Sub(o MemUse) MemUse {
	return MemUse{Go: m.Go - o.Go, Stack: m.Stack - o.Stack, RSS: m.RSS - o.RSS}
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

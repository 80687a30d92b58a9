package api

import (
	"sync"

	"github.com/kiosko/kiosko"
)

// Caps on open event streams, so one token cannot hold thousands of
// connections (OWASP Denial of Service cheat sheet): a page needs one
// stream, a reader a few tabs and devices.
const (
	MaxStreamsPerSession = 8
	MaxStreamsPerAccount = 32
)

// streamCounts counts this node's open event streams. Each node counts its
// own: the caps bound what one node holds, which is what they protect.
type streamCounts struct {
	mu       sync.Mutex
	sessions map[int64]int
	accounts map[int64]int
}

// acquire takes a slot for a stream of the identity, or reports false
// when its session or its account has its cap open already.
func (c *streamCounts) acquire(id *kiosko.Identity) (release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions == nil {
		c.sessions, c.accounts = map[int64]int{}, map[int64]int{}
	}
	s, a := id.Session.ID, id.Account.ID
	if c.sessions[s] >= MaxStreamsPerSession || c.accounts[a] >= MaxStreamsPerAccount {
		return nil, false
	}
	c.sessions[s]++
	c.accounts[a]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.sessions[s]--; c.sessions[s] <= 0 {
				delete(c.sessions, s)
			}
			if c.accounts[a]--; c.accounts[a] <= 0 {
				delete(c.accounts, a)
			}
		})
	}, true
}

func errTooManyStreams() *kiosko.Error {
	return kiosko.Errorf(kiosko.ETOOMANY, "error.too_many_streams", "Too many open event streams for this session or account.")
}

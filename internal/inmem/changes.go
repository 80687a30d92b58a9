package inmem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
)

// ChangeFeed is a kiosko.ChangeFeed for a single node: a change published
// here reaches this process's listeners at once, and a change another
// process on the same data directory (the command line) appends to the
// change file reaches them within one poll. It is always live.
type ChangeFeed struct {
	path string // the change file; "" watches none

	mu        sync.Mutex
	listeners []func(kiosko.Change)
	off       int64 // how far the change file has been read
}

var _ kiosko.ChangeFeed = (*ChangeFeed)(nil)

// NewChangeFeed returns a feed that watches the change file at path (see
// Watch); "" for none. Lines already in the file are not delivered.
func NewChangeFeed(path string) *ChangeFeed {
	f := &ChangeFeed{path: path}
	if path != "" {
		if st, err := os.Stat(path); err == nil {
			f.off = st.Size()
		}
	}
	return f
}

// Listen registers fn for every change from now on.
func (f *ChangeFeed) Listen(fn func(kiosko.Change)) {
	f.mu.Lock()
	f.listeners = append(f.listeners, fn)
	f.mu.Unlock()
}

// PublishChange delivers c to this process's listeners.
func (f *ChangeFeed) PublishChange(_ context.Context, c kiosko.Change) error {
	f.deliver(c)
	return nil
}

// Live is always true: nothing stands between a publisher and this process.
func (f *ChangeFeed) Live() bool { return true }

func (f *ChangeFeed) deliver(cs ...kiosko.Change) {
	f.mu.Lock()
	ls := f.listeners
	f.mu.Unlock()
	for _, c := range cs {
		for _, fn := range ls {
			fn(c)
		}
	}
}

// Watch reads what other processes append to the change file every
// interval until ctx ends.
func (f *ChangeFeed) Watch(ctx context.Context, every time.Duration) {
	if f.path == "" {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.Poll()
		}
	}
}

// Poll reads what was appended to the change file since the last poll and
// delivers it. A file that shrank (replaced, truncated) may have held
// changes never read, so it delivers a change of every account.
func (f *ChangeFeed) Poll() {
	st, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		st, err = nil, nil
	}
	if err != nil {
		return
	}
	size := int64(0)
	if st != nil {
		size = st.Size()
	}
	f.mu.Lock()
	off := f.off
	f.mu.Unlock()
	var out []kiosko.Change
	if size < off {
		out = append(out, kiosko.Change{})
		off = 0
	}
	if size > off {
		file, err := os.Open(f.path)
		if err != nil {
			return
		}
		buf := make([]byte, size-off)
		n, _ := file.ReadAt(buf, off)
		file.Close()
		buf = buf[:n]
		// Only whole lines: a writer may be halfway through one.
		if end := bytes.LastIndexByte(buf, '\n'); end >= 0 {
			for _, line := range bytes.Split(buf[:end], []byte("\n")) {
				// Unreadable: forget everything rather than miss it.
				out = append(out, kiosko.ParseChange(string(line)))
			}
			off += int64(end + 1)
		}
	}
	f.mu.Lock()
	f.off = off
	f.mu.Unlock()
	f.deliver(out...)
}

// ChangeFile is the command line's side of a ChangeFeed: PublishChange
// appends the change to the data directory's change file, which a server
// on the same directory watches.
type ChangeFile struct {
	Path string
}

var _ kiosko.ChangeFeed = ChangeFile{}

// PublishChange appends c as one line. O_APPEND keeps concurrent writers'
// lines whole.
func (f ChangeFile) PublishChange(_ context.Context, c kiosko.Change) error {
	file, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("change file: %w", err)
	}
	_, err = io.WriteString(file, c.String()+"\n")
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("change file: %w", err)
	}
	return nil
}

// Live is false: the command line listens to nothing.
func (ChangeFile) Live() bool { return false }

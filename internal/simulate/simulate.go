package simulate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
)

// DefaultMaxRetakes bounds how often one interval takes the lease back after
// being displaced. Each displacement is answered by at most one retake, and
// after this many the person gives up: two devices that both retake would
// otherwise hand the lease back and forth until their intervals end, which
// no person does (and which would only inflate the contested count).
const DefaultMaxRetakes = 3

// partSize is how many accounts share one queue and lease engine.
const partSize = 128

// Options tune a simulation.
type Options struct {
	Settings kiosko.ReadingSettings
	// MaxRetakes per interval; 0 means DefaultMaxRetakes, negative none.
	MaxRetakes int
	// Workers simulate parts of the accounts in parallel; seats never
	// interact, so the result does not depend on it. 0 means GOMAXPROCS.
	Workers int
}

// AccountResult is what the rule did to one account.
type AccountResult struct {
	Warned    bool      // the seat was put under sharing warning
	WarnedAt  time.Time // when it first was; zero when never
	Contested int       // contested takeovers
	Quiet     int       // takeovers that did not count (holder idle or not seen lately)
	Conflicts int       // claims answered "conflict"

	// Not part of the JSON report.
	FirstStart    time.Time // start of the account's first interval
	LastEnd       time.Time // end of its last
	FirstConflict time.Time // zero when none
}

// Result is the outcome of a simulation.
type Result struct {
	Accounts map[string]*AccountResult
	Events   int64 // claims, heartbeats and takeovers driven through Reading
}

// MarshalJSON writes the report of DESIGN.md: one object keyed by account,
// each with warned, warned_at (RFC 3339 or null), contested, quiet and
// conflicts.
func (r *Result) MarshalJSON() ([]byte, error) {
	type acct struct {
		Warned    bool    `json:"warned"`
		WarnedAt  *string `json:"warned_at"`
		Contested int     `json:"contested"`
		Quiet     int     `json:"quiet"`
		Conflicts int     `json:"conflicts"`
	}
	out := make(map[string]acct, len(r.Accounts))
	for id, a := range r.Accounts {
		j := acct{Warned: a.Warned, Contested: a.Contested, Quiet: a.Quiet, Conflicts: a.Conflicts}
		if a.Warned {
			s := a.WarnedAt.UTC().Format(time.RFC3339Nano)
			j.WarnedAt = &s
		}
		out[id] = j
	}
	return json.Marshal(out) // map keys come out sorted
}

// WriteJSON writes the report, indented, followed by a newline.
func (r *Result) WriteJSON(w io.Writer) error {
	b, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err = out.WriteTo(w)
	return err
}

// Run replays the intervals through kiosko.Reading with the in-memory lease
// engine on a simulated clock. Each account reads one seat of its own;
// there is no store.
//
// Every interval is a page showing a subscriber article: at Start it
// claims; on conflict it takes over (continue) or gives up (leave); while
// it holds the lease it heartbeats every HeartbeatEvery, saying Active,
// until End, when it simply stops (a hidden page sends nothing; its lease
// lapses after the TTL). When a heartbeat answers "displaced" it gives up
// (stop) or takes over again at once (retake), at most MaxRetakes times.
// Events of all devices run in time order from one priority queue; ties
// go to the interval that comes first in the input.
func Run(ctx context.Context, ivs []Interval, opt Options) (*Result, error) {
	s := opt.Settings
	if s.HeartbeatEvery <= 0 {
		return nil, fmt.Errorf("simulate: heartbeat interval must be positive")
	}
	switch {
	case opt.MaxRetakes == 0:
		opt.MaxRetakes = DefaultMaxRetakes
	case opt.MaxRetakes < 0:
		opt.MaxRetakes = 0
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	// Accounts get indexes in order of first appearance; seat ids are
	// index+1.
	index := map[string]int{}
	var names []string
	acctOf := make([]int32, len(ivs))
	for i, iv := range ivs {
		a, ok := index[iv.Account]
		if !ok {
			a = len(names)
			index[iv.Account] = a
			names = append(names, iv.Account)
		}
		acctOf[i] = int32(a)
	}
	results := make([]AccountResult, len(names))

	// Accounts are simulated in parts of partSize consecutive accounts,
	// each with its own Reading, lease engine and clock, and one queue for
	// every device of every account in it. Seats never interact, so this
	// gives the same answer as one queue for everything, and keeps each
	// part's working set in the CPU's cache.
	nparts := (len(names) + partSize - 1) / partSize
	parts := make([][]int32, nparts)
	for i := range ivs {
		p := int(acctOf[i]) / partSize
		parts[p] = append(parts[p], int32(i))
	}
	workers = max(1, min(workers, nparts))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		events int64
		first  error
		todo   = make(chan []int32, nparts)
	)
	for _, p := range parts {
		todo <- p
	}
	close(todo)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int64
			var err error
			for part := range todo {
				if err == nil {
					var k int64
					k, err = newSim(s, opt.MaxRetakes, ivs, acctOf, part, results).run(ctx)
					n += k
				}
			}
			mu.Lock()
			events += n
			if err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	res := &Result{Accounts: make(map[string]*AccountResult, len(names)), Events: events}
	for i, n := range names {
		res.Accounts[n] = &results[i]
	}
	return res, nil
}

// Interval run states.
const (
	waiting uint8 = iota
	holding
	done
)

type page struct {
	iv      int32 // index in ivs
	acct    int32
	state   uint8
	retakes uint8
	next    int64 // unix nanoseconds of the next heartbeat
	start   int64
	end     int64
	reader  kiosko.Reader
}

type sim struct {
	reading    *kiosko.Reading
	ivs        []Interval
	pages      []page // sorted by start, then input order
	heap       []int32
	now        int64
	hb         int64
	maxRetakes uint8
	results    []AccountResult
	seats      map[int64]*kiosko.Seat
}

var article = &kiosko.Article{ID: "simulated", Access: kiosko.AccessSubscriber}

func newSim(s kiosko.ReadingSettings, maxRetakes int, ivs []Interval, acctOf []int32, mine []int32, results []AccountResult) *sim {
	sm := &sim{ivs: ivs, hb: int64(s.HeartbeatEvery), maxRetakes: uint8(min(maxRetakes, 255)), results: results,
		seats: map[int64]*kiosko.Seat{}}
	accounts := map[int32]*kiosko.Account{}
	// Pages in order of start, then input order (a total order, so an
	// unstable sort of small indexes is deterministic and fast).
	mine = slices.Clone(mine)
	slices.SortFunc(mine, func(x, y int32) int {
		if c := ivs[x].Start.Compare(ivs[y].Start); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	sm.pages = make([]page, len(mine))
	for k, i := range mine {
		a := acctOf[i]
		acc := accounts[a]
		if acc == nil {
			acc = &kiosko.Account{ID: int64(a) + 1}
			accounts[a] = acc
			sm.seats[acc.ID] = &kiosko.Seat{ID: acc.ID, AccountID: acc.ID, Position: 1}
		}
		iv := &ivs[i]
		sm.pages[k] = page{iv: i, acct: a, start: iv.Start.UnixNano(), end: iv.End.UnixNano(),
			reader: kiosko.Reader{Account: acc, DeviceID: iv.Device, DeviceName: iv.Device}}
		r := &results[a]
		if r.FirstStart.IsZero() || iv.Start.Before(r.FirstStart) {
			r.FirstStart = iv.Start
		}
		if iv.End.After(r.LastEnd) {
			r.LastEnd = iv.End
		}
	}
	sm.reading = &kiosko.Reading{
		Leases:   inmem.NewLeaseEngine(s),
		Clock:    kiosko.ClockFunc(func() time.Time { return time.Unix(0, sm.now).UTC() }),
		Settings: s,
		Events:   sink{results},
		Log:      slog.New(slog.DiscardHandler),
		SeatOf: func(_ context.Context, accountID int64) (*kiosko.Seat, error) {
			if seat := sm.seats[accountID]; seat != nil {
				return seat, nil
			}
			return nil, &kiosko.Error{Code: kiosko.ENOTFOUND, Message: "no seat"}
		},
	}
	return sm
}

// sink counts the events Reading records, by account (seat id - 1).
type sink struct{ results []AccountResult }

func (k sink) Record(events ...kiosko.LeaseEvent) {
	for _, e := range events {
		r := &k.results[e.SeatID-1]
		switch e.Kind {
		case kiosko.EventConflict:
			r.Conflicts++
			if r.FirstConflict.IsZero() {
				r.FirstConflict = e.At
			}
		case kiosko.EventTakeoverContested:
			r.Contested++
		case kiosko.EventTakeoverQuiet:
			r.Quiet++
		case kiosko.EventWarningSet:
			if !r.Warned {
				r.Warned, r.WarnedAt = true, e.At
			}
		}
	}
}

func (sm *sim) run(ctx context.Context) (int64, error) {
	var n int64
	next := 0 // next page to start
	for {
		var p int32
		switch {
		case next < len(sm.pages) && (len(sm.heap) == 0 || sm.before(int32(next), sm.heap[0])):
			p = int32(next)
			next++
			pg := &sm.pages[p]
			sm.now = pg.start
			if err := sm.claim(ctx, p); err != nil {
				return n, err
			}
		case len(sm.heap) > 0:
			p = sm.pop()
			sm.now = sm.pages[p].next
			if err := sm.heartbeat(ctx, p); err != nil {
				return n, err
			}
		default:
			return n, nil
		}
		n++
		if n&0xffff == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

// before orders a page waiting to start against a page due to heartbeat.
func (sm *sim) before(start, due int32) bool {
	s, d := &sm.pages[start], &sm.pages[due]
	if s.start != d.next {
		return s.start < d.next
	}
	return s.iv < d.iv
}

func (sm *sim) claim(ctx context.Context, p int32) error {
	pg := &sm.pages[p]
	iv := &sm.ivs[pg.iv]
	st, err := sm.reading.Claim(ctx, pg.reader, article, iv.Active)
	if err != nil {
		return err
	}
	switch st.Status {
	case kiosko.ReadingOK:
	case kiosko.ReadingConflict:
		if iv.OnConflict == ConflictLeave {
			pg.state = done
			return nil
		}
		if err := sm.takeover(ctx, pg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("simulate: claim answered %q", st.Status)
	}
	sm.schedule(p)
	return nil
}

func (sm *sim) heartbeat(ctx context.Context, p int32) error {
	pg := &sm.pages[p]
	iv := &sm.ivs[pg.iv]
	st, err := sm.reading.Heartbeat(ctx, pg.reader, iv.Active)
	if err != nil {
		return err
	}
	switch st.Status {
	case kiosko.ReadingOK:
	case kiosko.ReadingDisplaced:
		if iv.OnDisplaced != DisplacedRetake || pg.retakes >= sm.maxRetakes {
			pg.state = done
			return nil
		}
		pg.retakes++
		if err := sm.takeover(ctx, pg); err != nil {
			return err
		}
	default:
		return fmt.Errorf("simulate: heartbeat answered %q", st.Status)
	}
	sm.schedule(p)
	return nil
}

func (sm *sim) takeover(ctx context.Context, pg *page) error {
	st, err := sm.reading.Takeover(ctx, pg.reader, article, sm.ivs[pg.iv].Active)
	if err != nil {
		return err
	}
	if st.Status != kiosko.ReadingOK {
		return fmt.Errorf("simulate: takeover answered %q", st.Status)
	}
	return nil
}

// schedule queues the page's next heartbeat, unless the page closes first.
func (sm *sim) schedule(p int32) {
	pg := &sm.pages[p]
	pg.next = sm.now + sm.hb
	if pg.next >= pg.end {
		pg.state = done
		return
	}
	pg.state = holding
	sm.push(p)
}

// A binary heap of page indexes by (next, input order).

func (sm *sim) less(a, b int32) bool {
	x, y := &sm.pages[a], &sm.pages[b]
	if x.next != y.next {
		return x.next < y.next
	}
	return x.iv < y.iv
}

func (sm *sim) push(p int32) {
	h := append(sm.heap, p)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !sm.less(h[i], h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	sm.heap = h
}

func (sm *sim) pop() int32 {
	h := sm.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && sm.less(h[r], h[l]) {
			m = r
		}
		if !sm.less(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	sm.heap = h
	return top
}

// SortedAccounts returns the account ids of r, sorted.
func (r *Result) SortedAccounts() []string {
	ids := make([]string, 0, len(r.Accounts))
	for id := range r.Accounts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

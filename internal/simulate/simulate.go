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
	// Record, when set, is given every lease event the rule records, with
	// the account it belongs to (the demo stores them as history). The
	// workers call it at once: it must be safe for concurrent use.
	Record func(account string, ev kiosko.LeaseEvent)
}

// AccountResult is what the rule did to one account.
type AccountResult struct {
	Warned    bool      // the seat was put under sharing warning
	WarnedAt  time.Time // when it first was; zero when never
	Contested int       // takeovers that counted towards the warning (a person seen at the displaced device)
	Quiet     int       // takeovers that did not count
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
					k, err = newSim(s, opt.MaxRetakes, ivs, acctOf, part, results, recorder(names, opt.Record)).run(ctx)
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

// How the simulated pages learn and react, on the simulated clock.
const (
	// PushDelay is how long a displaced page takes to learn it was
	// displaced: the event stream tells it within a second.
	PushDelay = time.Second
	// A person at a displaced page reacts (reads the message and touches
	// the page, or presses "continue reading here") between minReaction
	// and maxReaction after the page learns of it; each interval has its
	// own delay, derived from its place in the input.
	minReaction = 2 * time.Second
	maxReaction = 10 * time.Second
)

// reaction is interval iv's reaction delay.
func reaction(iv int32) int64 {
	span := int64((maxReaction-minReaction)/time.Second) + 1
	return int64(minReaction) + (int64(uint32(iv)*2654435761)%span)*int64(time.Second)
}

// Page run states.
const (
	waiting   uint8 = iota
	holding         // reading, heartbeating
	displaced       // told it was displaced; its person (if any) reacts next
	done
)

// What a page's next queued event is.
const (
	evHeartbeat uint8 = iota
	evPush            // the event stream says "displaced"
	evReact           // the person at the displaced page reacts
)

type page struct {
	iv      int32 // index in ivs
	acct    int32
	state   uint8
	ev      uint8
	retakes uint8
	seq     uint32 // bumped whenever the page's next event changes
	next    int64  // unix nanoseconds of the next event
	start   int64
	end     int64
	reader  kiosko.Reader
}

// entry is a queued event; it is stale when its seq is not the page's.
type entry struct {
	at  int64
	p   int32
	seq uint32
}

type devKey struct {
	acct   int32
	device string
}

type sim struct {
	reading    *kiosko.Reading
	ivs        []Interval
	pages      []page // sorted by start, then input order
	heap       []entry
	now        int64
	hb         int64
	maxRetakes uint8
	results    []AccountResult
	seats      map[int64]*kiosko.Seat
	open       map[devKey][]int32 // pages that held the lease, per device
	told       []devKey           // displaced devices the hub was told of
}

var article = &kiosko.Article{ID: "simulated", Access: kiosko.AccessSubscriber}

// recorder passes events to record with their account's name.
func recorder(names []string, record func(string, kiosko.LeaseEvent)) func(kiosko.LeaseEvent) {
	if record == nil {
		return nil
	}
	return func(e kiosko.LeaseEvent) { record(names[e.SeatID-1], e) }
}

func newSim(s kiosko.ReadingSettings, maxRetakes int, ivs []Interval, acctOf []int32, mine []int32, results []AccountResult, record func(kiosko.LeaseEvent)) *sim {
	sm := &sim{ivs: ivs, hb: int64(s.HeartbeatEvery), maxRetakes: uint8(min(maxRetakes, 255)), results: results,
		seats: map[int64]*kiosko.Seat{}, open: map[devKey][]int32{}}
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
		Hub:      simHub{sm},
		Clock:    kiosko.ClockFunc(func() time.Time { return time.Unix(0, sm.now).UTC() }),
		Settings: s,
		Events:   sink{results, record},
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

// simHub is the event stream of the simulated pages: Reading publishes a
// displaced notice when it moves a lease, and the pages of that device
// learn of it PushDelay later.
type simHub struct{ sm *sim }

func (h simHub) Publish(_ context.Context, n kiosko.Notice) error {
	if n.Kind == kiosko.NoticeDisplaced {
		h.sm.told = append(h.sm.told, devKey{int32(n.AccountID - 1), n.Device})
	}
	return nil
}

func (simHub) Subscribe(int64, string) (<-chan kiosko.Notice, func()) { return nil, func() {} }

// sink counts the events Reading records, by account (seat id - 1).
type sink struct {
	results []AccountResult
	record  func(kiosko.LeaseEvent) // may be nil
}

func (k sink) Record(events ...kiosko.LeaseEvent) {
	for _, e := range events {
		if k.record != nil {
			k.record(e)
		}
		r := &k.results[e.SeatID-1]
		switch e.Kind {
		case kiosko.EventConflict:
			r.Conflicts++
			if r.FirstConflict.IsZero() {
				r.FirstConflict = e.At
			}
		case kiosko.EventTakeoverContested, kiosko.EventTakeoverQuiet:
			r.Quiet++ // until it counts
		case kiosko.EventTakeoverCounted:
			r.Contested++
			r.Quiet--
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
		switch {
		case next < len(sm.pages) && (len(sm.heap) == 0 || sm.startsFirst(int32(next), sm.heap[0])):
			p := int32(next)
			next++
			sm.now = sm.pages[p].start
			if err := sm.claim(ctx, p); err != nil {
				return n, err
			}
		case len(sm.heap) > 0:
			e := sm.pop()
			pg := &sm.pages[e.p]
			if e.seq != pg.seq {
				continue // replaced by a later event of the page
			}
			sm.now = e.at
			var err error
			switch pg.ev {
			case evHeartbeat:
				err = sm.heartbeat(ctx, e.p)
			case evPush:
				sm.learnDisplaced(e.p)
				continue
			case evReact:
				err = sm.react(ctx, e.p)
			}
			if err != nil {
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

// startsFirst orders a page waiting to start against a queued event.
func (sm *sim) startsFirst(start int32, e entry) bool {
	s := &sm.pages[start]
	if s.start != e.at {
		return s.start < e.at
	}
	return s.iv < sm.pages[e.p].iv
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
	sm.hold(p)
	return nil
}

func (sm *sim) heartbeat(ctx context.Context, p int32) error {
	pg := &sm.pages[p]
	st, err := sm.reading.Heartbeat(ctx, pg.reader, sm.ivs[pg.iv].Active)
	if err != nil {
		return err
	}
	switch st.Status {
	case kiosko.ReadingOK:
		sm.schedule(p, sm.now+sm.hb, evHeartbeat)
	case kiosko.ReadingDisplaced:
		// Told by the heartbeat before the event stream: the same.
		sm.learnDisplaced(p)
	default:
		return fmt.Errorf("simulate: heartbeat answered %q", st.Status)
	}
	return nil
}

// learnDisplaced is a page shown the interstitial: nobody touches it again
// (stop), or its person reacts a moment later (notice, retake).
func (sm *sim) learnDisplaced(p int32) {
	pg := &sm.pages[p]
	if pg.state != holding {
		return
	}
	pg.seq++ // no more heartbeats
	switch od := sm.ivs[pg.iv].OnDisplaced; {
	case od == DisplacedNotice, od == DisplacedRetake && pg.retakes < sm.maxRetakes:
		pg.state = displaced
		sm.schedule(p, sm.now+reaction(pg.iv), evReact)
	default:
		// A page nobody touches reports nothing (or "nobody", which the
		// rule treats the same): nothing to send.
		pg.state = done
	}
}

// react is the person at a displaced page: they read the message and
// touch the page, whose report says so (notice), or they press "continue
// reading here" (retake). A page closed meanwhile does neither.
func (sm *sim) react(ctx context.Context, p int32) error {
	pg := &sm.pages[p]
	pg.state = done
	if sm.now >= pg.end {
		return nil
	}
	if sm.ivs[pg.iv].OnDisplaced == DisplacedNotice {
		_, err := sm.reading.Report(ctx, pg.reader, true)
		return err
	}
	pg.retakes++
	if err := sm.takeover(ctx, pg); err != nil {
		return err
	}
	sm.hold(p)
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
	// The displaced device's open pages learn of it a moment later.
	for _, k := range sm.told {
		pages := sm.open[k][:0]
		for _, q := range sm.open[k] {
			if sm.pages[q].state != holding {
				continue
			}
			pages = append(pages, q)
			sm.schedule(q, sm.now+int64(PushDelay), evPush)
		}
		if len(pages) == 0 {
			delete(sm.open, k)
		} else {
			sm.open[k] = pages
		}
	}
	sm.told = sm.told[:0]
	return nil
}

// hold is a page granted the lease: it heartbeats from now on.
func (sm *sim) hold(p int32) {
	pg := &sm.pages[p]
	if pg.state != holding {
		k := devKey{pg.acct, pg.reader.DeviceID}
		sm.open[k] = append(sm.open[k], p)
	}
	pg.state = holding
	sm.schedule(p, sm.now+sm.hb, evHeartbeat)
}

// schedule queues the page's next event, replacing any other. A heartbeat
// due when the page has closed is not queued: the page simply stops.
func (sm *sim) schedule(p int32, at int64, ev uint8) {
	pg := &sm.pages[p]
	pg.seq++
	if ev == evHeartbeat && at >= pg.end {
		pg.state = done
		return
	}
	pg.next, pg.ev = at, ev
	sm.push(entry{at: at, p: p, seq: pg.seq})
}

// A binary heap of events by (time, input order).

func (sm *sim) less(x, y entry) bool {
	if x.at != y.at {
		return x.at < y.at
	}
	return sm.pages[x.p].iv < sm.pages[y.p].iv
}

func (sm *sim) push(e entry) {
	h := append(sm.heap, e)
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

func (sm *sim) pop() entry {
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

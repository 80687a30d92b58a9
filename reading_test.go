package kiosko_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/inmem"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

var (
	subscriberArticle = &kiosko.Article{ID: "la-investigacion", Access: kiosko.AccessSubscriber}
	freeArticle       = &kiosko.Article{ID: "el-tiempo", Access: kiosko.AccessFree}
)

// eventLog is an EventSink that keeps what it is told.
type eventLog struct {
	mu     sync.Mutex
	events []kiosko.LeaseEvent
}

func (l *eventLog) Record(events ...kiosko.LeaseEvent) {
	l.mu.Lock()
	l.events = append(l.events, events...)
	l.mu.Unlock()
}

func (l *eventLog) ofKind(kind string) []kiosko.LeaseEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []kiosko.LeaseEvent
	for _, e := range l.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// world is one subscriber (account 1, seat 11) reading on several devices,
// with no database: Reading.SeatOf stands in for the store.
type world struct {
	t       *testing.T
	r       *kiosko.Reading
	now     atomic.Int64 // simulated time, Unix nanoseconds
	hub     *inmem.Hub
	events  *eventLog
	account *kiosko.Account
	seat    *kiosko.Seat
	ctx     context.Context
}

const (
	accountID = 1
	seatID    = 11
)

func newWorld(t *testing.T, s kiosko.ReadingSettings) *world {
	return newWorldWith(t, s, inmem.NewLeaseEngine(s))
}

func newWorldWith(t *testing.T, s kiosko.ReadingSettings, leases kiosko.LeaseEngine) *world {
	t.Helper()
	seat := &kiosko.Seat{ID: seatID, AccountID: accountID, Position: 1}
	w := &world{t: t, hub: inmem.NewHubSize(64), events: &eventLog{},
		account: &kiosko.Account{ID: accountID, Email: "lector@example.com"}, seat: seat, ctx: context.Background()}
	w.now.Store(t0.UnixNano())
	w.r = &kiosko.Reading{
		Leases:   leases,
		Hub:      w.hub,
		Clock:    kiosko.ClockFunc(w.clock),
		Settings: s,
		Events:   w.events,
		Metrics:  &kiosko.ReadingMetrics{},
		Log:      slog.New(slog.DiscardHandler),
		SeatOf: func(_ context.Context, id int64) (*kiosko.Seat, error) {
			if id == accountID {
				return seat, nil
			}
			return nil, kiosko.Errorf(kiosko.ENOTFOUND, "seat.none", "no seat")
		},
	}
	return w
}

func (w *world) clock() time.Time { return time.Unix(0, w.now.Load()).UTC() }

func (w *world) advance(d time.Duration) { w.now.Add(int64(d)) }

func (w *world) reader(device string) kiosko.Reader {
	return kiosko.Reader{Account: w.account, DeviceID: device, DeviceName: deviceName(device)}
}

func deviceName(device string) string { return "Browser on " + device }

func (w *world) claim(device string, active bool) kiosko.ReadingStatus {
	w.t.Helper()
	st, err := w.r.Claim(w.ctx, w.reader(device), subscriberArticle, active)
	if err != nil {
		w.t.Fatalf("Claim by %s: %v", device, err)
	}
	return st
}

func (w *world) heartbeat(device string, active bool) kiosko.ReadingStatus {
	w.t.Helper()
	st, err := w.r.Heartbeat(w.ctx, w.reader(device), active)
	if err != nil {
		w.t.Fatalf("Heartbeat by %s: %v", device, err)
	}
	return st
}

func (w *world) takeover(device string) kiosko.ReadingStatus {
	w.t.Helper()
	st, err := w.r.Takeover(w.ctx, w.reader(device), subscriberArticle, true)
	if err != nil {
		w.t.Fatalf("Takeover by %s: %v", device, err)
	}
	if st.Status != kiosko.ReadingOK {
		w.t.Fatalf("Takeover by %s: status %q, want %q", device, st.Status, kiosko.ReadingOK)
	}
	return st
}

// contested has device take the lease from other while other's reader is
// busy on it, and reports whether the reading rule counted it.
func (w *world) contested(device, other string) kiosko.ReadingStatus {
	w.t.Helper()
	w.heartbeat(other, true)
	w.advance(10 * time.Second)
	return w.takeover(device)
}

// report is device's displaced page telling whether a person is there.
func (w *world) report(device string, present bool) bool {
	w.t.Helper()
	counted, err := w.r.Report(w.ctx, w.reader(device), present)
	if err != nil {
		w.t.Fatalf("Report by %s: %v", device, err)
	}
	return counted
}

func (w *world) subscribe(device string) <-chan kiosko.Notice {
	ch, cancel := w.hub.Subscribe(accountID, device)
	w.t.Cleanup(cancel)
	return ch
}

// notices returns what is waiting on ch; the in-memory hub delivers before
// Publish returns.
func notices(ch <-chan kiosko.Notice) []kiosko.Notice {
	var out []kiosko.Notice
	for {
		select {
		case n := <-ch:
			out = append(out, n)
		default:
			return out
		}
	}
}

func TestReadingFreeArticleNeedsNoLease(t *testing.T) {
	w := newWorld(t, kiosko.DefaultReadingSettings())
	if st := w.claim("phone", true); st.Status != kiosko.ReadingOK {
		t.Fatalf("phone's claim: %q", st.Status)
	}
	st, err := w.r.Claim(w.ctx, w.reader("laptop"), freeArticle, true)
	if err != nil || st.Status != kiosko.ReadingOK {
		t.Fatalf("free article on a second device: %+v, %v", st, err)
	}
	if l, ok := w.r.Holder(w.ctx, accountID); !ok || l.Device != "phone" {
		t.Fatalf("reading a free article moved the lease to %q", l.Device)
	}
	// A reader with no seat at all reads free articles too.
	stranger := kiosko.Reader{Account: &kiosko.Account{ID: 2}, DeviceID: "x"}
	if st, err := w.r.Claim(w.ctx, stranger, freeArticle, true); err != nil || st.Status != kiosko.ReadingOK {
		t.Fatalf("free article without a seat: %+v, %v", st, err)
	}
}

func TestReadingPaywallWithoutSeat(t *testing.T) {
	w := newWorld(t, kiosko.DefaultReadingSettings())
	stranger := kiosko.Reader{Account: &kiosko.Account{ID: 2}, DeviceID: "x"}
	for name, call := range map[string]func() (kiosko.ReadingStatus, error){
		"claim":     func() (kiosko.ReadingStatus, error) { return w.r.Claim(w.ctx, stranger, subscriberArticle, true) },
		"heartbeat": func() (kiosko.ReadingStatus, error) { return w.r.Heartbeat(w.ctx, stranger, true) },
		"takeover":  func() (kiosko.ReadingStatus, error) { return w.r.Takeover(w.ctx, stranger, subscriberArticle, true) },
	} {
		if st, err := call(); err != nil || st.Status != kiosko.ReadingPaywall {
			t.Errorf("%s without a seat: %+v, %v; want paywall", name, st, err)
		}
	}
}

func TestReadingConflict(t *testing.T) {
	w := newWorld(t, kiosko.DefaultReadingSettings())
	if st := w.claim("phone", true); st.Status != kiosko.ReadingOK || st.Seat == nil || st.Seat.ID != seatID {
		t.Fatalf("first claim: %+v", st)
	}
	w.advance(10 * time.Second)
	st := w.claim("laptop", true)
	if st.Status != kiosko.ReadingConflict {
		t.Fatalf("second device's claim: %q, want conflict", st.Status)
	}
	if st.Other == nil || st.Other.Name != deviceName("phone") || !st.Other.LastSeen.Equal(t0) {
		t.Fatalf("conflict names %+v, want the phone last seen at %v", st.Other, t0)
	}
	if got := w.r.Metrics.Conflicts.Load(); got != 1 {
		t.Errorf("Conflicts = %d, want 1", got)
	}
	conflicts := w.events.ofKind(kiosko.EventConflict)
	if len(conflicts) != 1 || conflicts[0].Device != "laptop" || conflicts[0].OtherDevice != "phone" {
		t.Errorf("conflict events %+v", conflicts)
	}
	// The holder opening another article renews its lease: no new claim event.
	if st := w.claim("phone", true); st.Status != kiosko.ReadingOK {
		t.Fatalf("holder's second claim: %q", st.Status)
	}
	if claims := w.events.ofKind(kiosko.EventClaim); len(claims) != 1 {
		t.Errorf("%d claim events, want 1 (renewals are not claims)", len(claims))
	}
	// The phone closes the article: the laptop may read, with no message.
	rd := w.reader("phone")
	w.r.ReleaseDevice(w.ctx, rd.Account.ID, rd.DeviceID)
	if st := w.claim("laptop", true); st.Status != kiosko.ReadingOK {
		t.Fatalf("claim after the holder released: %q", st.Status)
	}
}

func TestReadingLapsedLeaseIsFree(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	w.claim("laptop", true)
	w.advance(s.LeaseTTL) // the laptop was closed
	if st := w.claim("phone", true); st.Status != kiosko.ReadingOK {
		t.Fatalf("claim after the holder's lease lapsed: %q, want reading", st.Status)
	}
	if got := w.events.ofKind(kiosko.EventConflict); len(got) != 0 {
		t.Errorf("conflicts recorded: %+v", got)
	}
}

func TestReadingHeartbeat(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	w.claim("phone", true)
	for i := 0; i < 6; i++ {
		w.advance(s.HeartbeatEvery)
		if st := w.heartbeat("phone", true); st.Status != kiosko.ReadingOK {
			t.Fatalf("heartbeat %d: %q", i, st.Status)
		}
	}
	w.advance(time.Second)
	w.takeover("laptop")
	st := w.heartbeat("phone", true)
	if st.Status != kiosko.ReadingDisplaced || st.Other == nil || st.Other.Name != deviceName("laptop") {
		t.Fatalf("displaced phone's heartbeat: %+v, want displaced by the laptop", st)
	}
	// The laptop is closed; a heartbeat of the phone's page after the lapse
	// renews the lease.
	w.advance(s.LeaseTTL)
	if st := w.heartbeat("phone", true); st.Status != kiosko.ReadingOK {
		t.Fatalf("heartbeat after the other device lapsed: %q", st.Status)
	}
}

func TestReadingTakeoverContestedOrQuiet(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	tests := []struct {
		name      string
		holder    func(w *world) // what the laptop does before the phone takes over
		contested bool
		displaced bool
	}{
		{"holder reading", func(w *world) {
			w.claim("laptop", true)
			w.advance(30 * time.Second)
			w.heartbeat("laptop", true)
			w.advance(20 * time.Second)
		}, true, true},
		{"holder active just inside the windows", func(w *world) {
			w.claim("laptop", true)
			w.advance(s.ContestWindow)
		}, true, true},
		{"tab left open, untouched", func(w *world) {
			w.claim("laptop", true)
			for i := 0; i < 6; i++ { // three minutes of idle heartbeats
				w.advance(s.HeartbeatEvery)
				w.heartbeat("laptop", false)
			}
			w.advance(10 * time.Second)
		}, false, true},
		{"tab never touched", func(w *world) {
			w.claim("laptop", false)
			w.advance(5 * time.Second)
		}, false, true},
		{"holder not seen within the contest window", func(w *world) {
			w.claim("laptop", true)
			w.advance(s.ContestWindow + 10*time.Second) // lease still live
		}, false, true},
		{"holder's lease lapsed", func(w *world) {
			w.claim("laptop", true)
			w.advance(s.LeaseTTL)
		}, false, false},
		{"seat free", func(w *world) {}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, s)
			laptop, phone := w.subscribe("laptop"), w.subscribe("phone")
			tt.holder(w)
			st := w.takeover("phone")
			if st.Contested != tt.contested {
				t.Errorf("Contested = %v, want %v", st.Contested, tt.contested)
			}
			if l, ok := w.r.Holder(w.ctx, accountID); !ok || l.Device != "phone" {
				t.Errorf("after the takeover the lease is with %q", l.Device)
			}
			if got := w.r.Metrics.Contested.Load(); got != map[bool]int64{true: 1}[tt.contested] {
				t.Errorf("Contested metric = %d", got)
			}
			wantKind := map[bool]string{true: kiosko.EventTakeoverContested, false: kiosko.EventTakeoverQuiet}[tt.contested]
			if evs := w.events.ofKind(wantKind); tt.displaced && (len(evs) != 1 || evs[0].Device != "phone" || evs[0].OtherDevice != "laptop") {
				t.Errorf("%s events: %+v", wantKind, evs)
			}
			got := notices(laptop)
			if !tt.displaced {
				if len(got) != 0 {
					t.Errorf("nobody was displaced, yet the laptop was told %+v", got)
				}
				return
			}
			want := kiosko.Notice{Kind: kiosko.NoticeDisplaced, AccountID: accountID, Device: "laptop", Seat: seatID,
				OtherName: deviceName("phone"), OtherLastSeen: w.clock().Format(time.RFC3339)}
			if len(got) != 1 || got[0] != want {
				t.Errorf("laptop was told %+v, want %+v", got, want)
			}
			if got := notices(phone); len(got) != 0 {
				t.Errorf("the device that took over was told %+v", got)
			}
		})
	}
}

func TestReadingSharingWarning(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	laptop, phone := w.subscribe("laptop"), w.subscribe("phone")
	w.claim("laptop", true)
	// Two people fighting over the seat: each takes it back from the other
	// seconds after being displaced. A take-back makes the takeover that
	// displaced that device count, whatever its page reports; the fourth
	// takeover makes the third count.
	steps := []struct{ to, from string }{{"phone", "laptop"}, {"laptop", "phone"}, {"phone", "laptop"}, {"laptop", "phone"}}
	for i, step := range steps {
		st := w.contested(step.to, step.from)
		if !st.Contested {
			t.Fatalf("takeover %d not contested", i+1)
		}
		if last := i == len(steps)-1; st.SharingWarning != last {
			t.Fatalf("after %d takeovers fought back: SharingWarning = %v", i+1, st.SharingWarning)
		}
	}
	warning := kiosko.Notice{Kind: kiosko.NoticeSharingWarning, AccountID: accountID, Seat: seatID}
	for device, ch := range map[string]<-chan kiosko.Notice{"laptop": laptop, "phone": phone} {
		if !slices.Contains(notices(ch), warning) {
			t.Errorf("%s was not told of the sharing warning", device)
		}
	}
	if got := w.r.Metrics.WarningsSet.Load(); got != 1 {
		t.Errorf("WarningsSet = %d, want 1", got)
	}
	if got := w.r.Metrics.Counted.Load(); got != 3 {
		t.Errorf("Counted = %d, want 3", got)
	}
	counted := w.events.ofKind(kiosko.EventTakeoverCounted)
	if len(counted) != 3 || counted[0].Device != "phone" || counted[0].OtherDevice != "laptop" || counted[0].Reason != "took_back" {
		t.Errorf("takeover_counted events: %+v", counted)
	}
	if evs := w.events.ofKind(kiosko.EventWarningSet); len(evs) != 1 || evs[0].SeatID != seatID || !evs[0].At.Equal(w.clock()) {
		t.Errorf("warning_set events: %+v", evs)
	}
	if !w.r.Warned(w.ctx, accountID) {
		t.Error("Warned = false under sharing warning")
	}
	// Every answer carries the warning, conflicts included, on every device.
	if st := w.claim("phone", true); st.Status != kiosko.ReadingConflict || !st.SharingWarning {
		t.Errorf("phone's claim: %+v, want a conflict with the warning", st)
	}
	if st := w.heartbeat("laptop", false); !st.SharingWarning {
		t.Error("laptop's heartbeat does not carry the warning")
	}
	// More sharing does not warn again.
	w.advance(time.Hour)
	w.contested("phone", "laptop")
	if st := w.contested("laptop", "phone"); !st.Contested || !st.SharingWarning {
		t.Errorf("more takeovers: %+v", st)
	}
	if got := w.r.Metrics.WarningsSet.Load(); got != 1 {
		t.Errorf("WarningsSet = %d after more sharing, want still 1", got)
	}
	if got := notices(phone); slices.Contains(got, warning) {
		t.Error("the warning was announced twice")
	}
}

// Two polite people: each takes over when they meet the interstitial, and
// the one displaced reads the message and stops. Only the displaced pages'
// reports tell them from one person moving.
func TestReadingPresenceReports(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	w.claim("laptop", true)
	steps := []struct{ to, from string }{{"phone", "laptop"}, {"laptop", "phone"}, {"phone", "laptop"}}
	for i, step := range steps {
		w.advance(3 * time.Hour)
		if st := w.contested(step.to, step.from); !st.Contested || st.SharingWarning {
			t.Fatalf("takeover %d: %+v, want contested without warning", i+1, st)
		}
		if w.report(step.to, true) {
			t.Fatalf("takeover %d: the device that took over reported and it counted", i+1)
		}
		w.advance(4 * time.Second)
		if !w.report(step.from, true) {
			t.Fatalf("takeover %d: the displaced device's report of a person did not count", i+1)
		}
		if w.report(step.from, true) {
			t.Fatalf("takeover %d: a second report counted again", i+1)
		}
		if warned, last := w.r.Warned(w.ctx, accountID), i == len(steps)-1; warned != last {
			t.Fatalf("after %d reports: warned = %v", i+1, warned)
		}
	}
	if got := w.events.ofKind(kiosko.EventTakeoverCounted); len(got) != 3 || got[2].Reason != "present" || got[2].OtherDevice != "laptop" {
		t.Errorf("takeover_counted events: %+v", got)
	}
}

func TestReadingReportsThatDoNotCount(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	tests := []struct {
		name    string
		setup   func(w *world) // then the laptop reports
		present bool
	}{
		{"nobody there", func(w *world) {
			w.claim("laptop", true)
			w.contested("phone", "laptop")
			w.advance(5 * time.Second)
		}, false},
		{"too late", func(w *world) {
			w.claim("laptop", true)
			w.contested("phone", "laptop")
			w.advance(s.PresenceWindow + time.Second)
		}, true},
		{"displaced while untouched", func(w *world) {
			w.claim("laptop", false)
			w.advance(10 * time.Second)
			w.takeover("phone")
			w.advance(3 * time.Second)
		}, true},
		{"never displaced", func(w *world) {
			w.claim("phone", true)
			w.advance(3 * time.Second)
		}, true},
		{"displaced long ago, lease taken back, no new displacement", func(w *world) {
			w.claim("laptop", true)
			w.contested("phone", "laptop")
			w.advance(time.Hour)
			w.takeover("laptop")
			w.advance(3 * time.Second)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, s)
			tt.setup(w)
			if w.report("laptop", tt.present) {
				t.Error("the report counted")
			}
			if got := w.events.ofKind(kiosko.EventTakeoverCounted); len(got) != 0 {
				t.Errorf("takeover_counted events: %+v", got)
			}
		})
	}
	// A report from a reader with no seat is not an error.
	w := newWorld(t, s)
	stranger := kiosko.Reader{Account: &kiosko.Account{ID: 2}, DeviceID: "x"}
	if counted, err := w.r.Report(w.ctx, stranger, true); counted || err != nil {
		t.Errorf("report without a seat: %v, %v", counted, err)
	}
}

// One person reading on the laptop opens a link on the phone for under a
// minute, goes back to the laptop and presses "continue reading here"
// there, every evening: each takeover is from a device touched seconds
// before, yet nobody touched the device left behind.
func TestReadingPhoneGlanceNeverWarned(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	for day := 0; day < 14; day++ {
		w.advance(24 * time.Hour)
		w.claim("laptop", true)
		for i := 0; i < 3; i++ {
			w.advance(5 * time.Minute) // reading on the laptop
			if st := w.contested("phone", "laptop"); !st.Contested {
				t.Fatalf("day %d: phone's takeover not contested", day)
			}
			w.advance(s.PresenceWindow)
			w.report("laptop", false) // the laptop's page saw nobody
			w.advance(10 * time.Second)
			if st := w.contested("laptop", "phone"); !st.Contested || st.SharingWarning {
				t.Fatalf("day %d: back on the laptop: %+v", day, st)
			}
		}
		// At bedtime the tablet is put down, touched on the way, and the
		// phone takes over: a person at the tablet, every night, but at
		// one device only.
		w.advance(time.Hour)
		w.claim("tablet", true)
		w.advance(2 * time.Minute)
		w.contested("phone", "tablet")
		w.advance(3 * time.Second)
		if !w.report("tablet", true) {
			t.Fatalf("day %d: the tablet's report did not count", day)
		}
	}
	if w.r.Warned(w.ctx, accountID) || w.r.Metrics.WarningsSet.Load() != 0 {
		t.Error("one reader was warned")
	}
}

func TestReadingCountedOutsideTheWindowDoNotWarn(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	w.claim("laptop", true)
	w.contested("phone", "laptop")
	w.contested("laptop", "phone") // counts the first
	w.contested("phone", "laptop") // counts the second
	w.advance(s.SharingWindow)     // a week later
	w.contested("laptop", "phone")
	if st := w.contested("phone", "laptop"); st.SharingWarning { // counts one, the others a week old
		t.Fatalf("one counted takeover, the others a week old: %+v, want no warning", st)
	}
	w.contested("laptop", "phone")
	if st := w.contested("phone", "laptop"); !st.SharingWarning {
		t.Fatal("three counted takeovers within the window did not warn")
	}
}

func TestReadingContestsWithoutAPersonLeftBehindDoNotWarn(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	w.claim("laptop", true)
	// Contested each time, but the device left behind is never touched
	// again soon: one person moving on after a while.
	for i := 0; i < 6; i++ {
		w.advance(10 * time.Minute)
		device, other := []string{"phone", "laptop"}[i%2], []string{"laptop", "phone"}[i%2]
		if st := w.contested(device, other); !st.Contested || st.SharingWarning {
			t.Fatalf("takeover %d: contested=%v warning=%v, want contested, no warning", i+1, st.Contested, st.SharingWarning)
		}
	}
}

func TestReadingOneReaderNeverWarned(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	phone := w.subscribe("phone")
	w.claim("phone", true)
	// Pressing "continue reading here" on the device that holds the lease.
	for i := 0; i < 10; i++ {
		w.advance(5 * time.Second)
		if st := w.takeover("phone"); st.Contested || st.SharingWarning {
			t.Fatalf("own takeover %d: %+v", i, st)
		}
	}
	if got := notices(phone); len(got) != 0 {
		t.Errorf("own takeovers told the phone %+v", got)
	}
	// Moving between an idle tab and the phone, many times a day.
	for i := 0; i < 10; i++ {
		device := []string{"laptop", "phone"}[i%2]
		w.advance(3 * time.Minute)
		w.heartbeat([]string{"phone", "laptop"}[i%2], false) // the other page sits untouched
		if st := w.takeover(device); st.Contested || st.SharingWarning {
			t.Fatalf("takeover %d from an untouched page: %+v", i, st)
		}
	}
	if w.r.Warned(w.ctx, accountID) || w.r.Metrics.WarningsSet.Load() != 0 {
		t.Error("one reader moving between devices was warned")
	}
}

func TestReadingQuietPeriodLiftsTheWarning(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	s.SharingQuiet = 48 * time.Hour
	w := newWorld(t, s)
	w.claim("laptop", true)
	for _, step := range [][2]string{{"phone", "laptop"}, {"laptop", "phone"}, {"phone", "laptop"}, {"laptop", "phone"}} {
		w.contested(step[0], step[1])
	}
	if !w.r.Warned(w.ctx, accountID) {
		t.Fatal("not warned after four takeovers fought back")
	}
	// A contest a day later restarts the quiet period.
	w.advance(24 * time.Hour)
	w.contested("laptop", "phone")
	w.advance(47 * time.Hour)
	if !w.r.Warned(w.ctx, accountID) {
		t.Fatal("warning lifted before a quiet period since the last contest")
	}
	w.advance(time.Hour)
	if w.r.Warned(w.ctx, accountID) {
		t.Fatal("warning still set after the quiet period")
	}
	evs := w.events.ofKind(kiosko.EventWarningCleared)
	if len(evs) != 1 || evs[0].Reason != "quiet" || evs[0].SeatID != seatID {
		t.Errorf("warning_cleared events: %+v", evs)
	}
	// Lifting forgot the old contests: one more does not warn again.
	if st := w.contested("phone", "laptop"); st.SharingWarning {
		t.Error("one contested takeover after the quiet period warned again")
	}
}

func TestReadingClearSeatWarning(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorld(t, s)
	warn := func() {
		t.Helper()
		w.claim("laptop", true)
		for _, step := range [][2]string{{"phone", "laptop"}, {"laptop", "phone"}, {"phone", "laptop"}, {"laptop", "phone"}} {
			w.contested(step[0], step[1])
		}
		if !w.r.Warned(w.ctx, accountID) {
			t.Fatal("not warned after four takeovers fought back")
		}
	}
	warn()
	if err := w.r.ClearSeatWarning(w.ctx, seatID, accountID, "admin"); err != nil {
		t.Fatalf("ClearSeatWarning with no store: %v", err)
	}
	if w.r.Warned(w.ctx, accountID) {
		t.Fatal("still warned after an admin cleared it")
	}
	evs := w.events.ofKind(kiosko.EventWarningCleared)
	if len(evs) != 1 || evs[0].Reason != "admin" || evs[0].AccountID != accountID {
		t.Errorf("warning_cleared events: %+v", evs)
	}
	// The contests before the clear are forgotten.
	w.advance(time.Hour)
	if st := w.contested("laptop", "phone"); st.SharingWarning {
		t.Error("one contested takeover after the clear warned again")
	}
	// Clearing a seat that is not warned records nothing.
	if err := w.r.ClearSeatWarning(w.ctx, seatID, accountID, "admin"); err != nil {
		t.Fatal(err)
	}
	if evs := w.events.ofKind(kiosko.EventWarningCleared); len(evs) != 1 {
		t.Errorf("%d warning_cleared events, want still 1", len(evs))
	}

	w.advance(s.SharingWindow)
	warn()
	if err := w.r.ClearAccountWarnings(w.ctx, accountID, "password"); err != nil {
		t.Fatalf("ClearAccountWarnings with no store: %v", err)
	}
	if w.r.Warned(w.ctx, accountID) {
		t.Fatal("still warned after a password change")
	}
	if err := w.r.ClearAccountWarnings(w.ctx, 2, "password"); err != nil {
		t.Errorf("ClearAccountWarnings of an account without a seat: %v", err)
	}
}

func TestReadingRestoreWithoutStore(t *testing.T) {
	w := newWorld(t, kiosko.DefaultReadingSettings())
	if err := w.r.Restore(w.ctx); err != nil {
		t.Fatalf("Restore with no store: %v", err)
	}
}

// downEngine is a lease store that cannot be reached.
type downEngine struct{}

var errDown = errors.New("lease store unreachable")

func (downEngine) Claim(context.Context, kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return kiosko.LeaseResult{}, errDown
}
func (downEngine) Heartbeat(context.Context, kiosko.LeaseClaim) (kiosko.LeaseResult, error) {
	return kiosko.LeaseResult{}, errDown
}
func (downEngine) Takeover(context.Context, kiosko.LeaseClaim) (kiosko.TakeoverResult, error) {
	return kiosko.TakeoverResult{}, errDown
}
func (downEngine) Release(context.Context, int64, string, time.Time) error { return errDown }
func (downEngine) Holder(context.Context, int64, time.Time) (kiosko.Lease, bool, error) {
	return kiosko.Lease{}, false, errDown
}
func (downEngine) RecordContest(context.Context, int64, kiosko.Contest, time.Time) ([]kiosko.Contest, error) {
	return nil, errDown
}
func (downEngine) MarkContest(context.Context, int64, kiosko.ContestMarking) (kiosko.Contest, bool, []kiosko.Contest, error) {
	return kiosko.Contest{}, false, nil, errDown
}
func (downEngine) Warning(context.Context, int64) (kiosko.WarningState, error) {
	return kiosko.WarningState{}, errDown
}
func (downEngine) SetWarning(context.Context, int64, time.Time) error { return errDown }
func (downEngine) ClearWarning(context.Context, int64) error          { return errDown }

func TestReadingFailsOpen(t *testing.T) {
	w := newWorldWith(t, kiosko.DefaultReadingSettings(), downEngine{})
	if st := w.claim("phone", true); st.Status != kiosko.ReadingOK || !st.FailedOpen {
		t.Errorf("claim with the lease store down: %+v, want reading, failed open", st)
	}
	if st := w.heartbeat("phone", true); st.Status != kiosko.ReadingOK || !st.FailedOpen {
		t.Errorf("heartbeat with the lease store down: %+v, want reading, failed open", st)
	}
	if st := w.takeover("laptop"); !st.FailedOpen {
		t.Errorf("takeover with the lease store down: %+v, want failed open", st)
	}
	if counted, err := w.r.Report(w.ctx, w.reader("phone"), true); counted || err != nil {
		t.Errorf("report with the lease store down: counted %v, err %v; want neither", counted, err)
	}
	if got := w.r.Metrics.FailOpen.Load(); got != 3 {
		t.Errorf("FailOpen = %d, want 3", got)
	}
	if w.r.Warned(w.ctx, accountID) {
		t.Error("warned while the lease store is down")
	}
	if _, ok := w.r.Holder(w.ctx, accountID); ok {
		t.Error("a holder while the lease store is down")
	}
	w.r.ReleaseDevice(w.ctx, accountID, "phone")
	if err := w.r.ClearSeatWarning(w.ctx, seatID, accountID, "admin"); !errors.Is(err, errDown) {
		t.Errorf("ClearSeatWarning with the lease store down: %v, want the store's error", err)
	}
}

// forgetfulEngine loses contested takeovers.
type forgetfulEngine struct{ *inmem.LeaseEngine }

func (forgetfulEngine) RecordContest(context.Context, int64, kiosko.Contest, time.Time) ([]kiosko.Contest, error) {
	return nil, errDown
}

func (forgetfulEngine) MarkContest(context.Context, int64, kiosko.ContestMarking) (kiosko.Contest, bool, []kiosko.Contest, error) {
	return kiosko.Contest{}, false, nil, errDown
}

func TestReadingTakeoverWhenContestsCannotBeRecorded(t *testing.T) {
	s := kiosko.DefaultReadingSettings()
	w := newWorldWith(t, s, forgetfulEngine{inmem.NewLeaseEngine(s)})
	laptop := w.subscribe("laptop")
	w.claim("laptop", true)
	st := w.contested("phone", "laptop")
	if !st.Contested || st.FailedOpen || st.SharingWarning {
		t.Errorf("takeover: %+v, want contested, not warned", st)
	}
	if counted := w.report("laptop", true); counted {
		t.Error("a report counted though the takeover was never recorded")
	}
	if l, ok := w.r.Holder(w.ctx, accountID); !ok || l.Device != "phone" {
		t.Error("the takeover did not move the lease")
	}
	if got := notices(laptop); len(got) != 1 || got[0].Kind != kiosko.NoticeDisplaced {
		t.Errorf("laptop was told %+v, want displaced", got)
	}
}

func TestReadingRacingClaimsOneReader(t *testing.T) {
	w := newWorld(t, kiosko.DefaultReadingSettings())
	for round := 0; round < 100; round++ {
		devices := []string{"phone", "laptop", "tablet", "tv"}
		statuses := make([]string, len(devices))
		var wg sync.WaitGroup
		for i, d := range devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := w.r.Claim(w.ctx, w.reader(d), subscriberArticle, true)
				if err != nil {
					t.Error(err)
				}
				statuses[i] = st.Status
			}()
		}
		wg.Wait()
		if n := len(slices.DeleteFunc(statuses, func(s string) bool { return s != kiosko.ReadingOK })); n != 1 {
			t.Fatalf("round %d: %d devices reading one seat, want 1", round, n)
		}
		w.advance(w.r.Settings.LeaseTTL)
	}
}

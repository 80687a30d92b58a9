package simulate

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Personas the generator knows, each with its variants. Account ids are
// "persona.variant.NNNNN", so a report can group results without a side
// file.
var Personas = map[string][]string{
	"honest": {"commute", "desktop-tab", "two-tabs", "together", "storm", "travel",
		"phone-glance", "bedtime", "side-by-side"},
	"household": {"couple", "family3", "family4"},
	"sharer":    {"friend", "office", "reseller", "fighter", "polite", "rarely-meet", "silent"},
}

// GenConfig says what to generate.
type GenConfig struct {
	Seed  uint64
	Start time.Time // first day, at 00:00 UTC; zero means 2026-03-02
	Days  int
	// Accounts per persona; variants of a persona are dealt in turn.
	Honest, Household, Sharer int
}

// DefaultStart is the first day of generated traces (a Monday).
var DefaultStart = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// Generate returns the intervals of every account, account by account,
// each account's sorted by start (the simulator needs no global order).
// The same config always gives the same traces.
func Generate(c GenConfig) []Interval {
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	var out []Interval
	n := 0
	add := func(persona string, count int) {
		variants := Personas[persona]
		for i := range count {
			v := variants[i%len(variants)]
			g := &gen{
				rng:     rand.New(rand.NewPCG(c.Seed, uint64(n)*0x9E3779B97F4A7C15+1)),
				account: fmt.Sprintf("%s.%s.%05d", persona, v, i),
				start:   c.Start,
				days:    c.Days,
			}
			n++
			switch persona {
			case "honest":
				g.honest(v)
			case "household":
				g.household(v)
			case "sharer":
				g.sharer(v)
			}
			SortIntervals(g.out)
			out = append(out, g.out...)
		}
	}
	add("honest", c.Honest)
	add("household", c.Household)
	add("sharer", c.Sharer)
	return out
}

// OverlapRate returns the collisions a day a generated sharer account was
// made with (its id ends in "~RATE"), or -1.
func OverlapRate(account string) float64 {
	i := strings.LastIndexByte(account, '~')
	if i < 0 {
		return -1
	}
	var r float64
	if _, err := fmt.Sscanf(account[i+1:], "%g", &r); err != nil {
		return -1
	}
	return r
}

// PersonaOf splits a generated account id into persona and variant.
func PersonaOf(account string) (persona, variant string) {
	p := strings.SplitN(account, ".", 3)
	if len(p) < 3 {
		return "other", "other"
	}
	return p[0], p[1]
}

type gen struct {
	rng     *rand.Rand
	account string
	start   time.Time
	days    int
	out     []Interval
}

// Small helpers on the generator's random source. Times are whole seconds.

func (g *gen) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return (lo + time.Duration(g.rng.Int64N(int64(hi-lo)))).Truncate(time.Second)
}

// logUniform favours short durations: as many between 10 s and 1 min as
// between 1 and 6 min.
func (g *gen) logUniform(lo, hi time.Duration) time.Duration {
	x := math.Log(float64(lo)) + g.rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))
	return time.Duration(math.Exp(x)).Truncate(time.Second)
}

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// poisson draws a count with mean m.
func (g *gen) poisson(m float64) int {
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *gen) day(d int) time.Time { return g.start.AddDate(0, 0, d) }

// emit adds an interval; at is local time of day d shifted by the
// account's UTC offset.
func (g *gen) emit(dev string, s, e time.Time, active bool, onConflict, onDisplaced string) {
	s, e = s.Truncate(time.Second), e.Truncate(time.Second)
	if !e.After(s) {
		return
	}
	g.out = append(g.out, Interval{Account: g.account, Device: dev, Start: s.UTC(), End: e.UTC(),
		Active: active, OnConflict: onConflict, OnDisplaced: onDisplaced})
}

// read is one person reading on a device from s for dur, then hiding the
// page (locking the phone, closing the lid, switching tab).
func (g *gen) read(dev string, s time.Time, dur time.Duration) time.Time {
	g.emit(dev, s, s.Add(dur), true, ConflictContinue, DisplacedStop)
	return s.Add(dur)
}

// leaveOpen is a page left visible and untouched from e for idle: the
// page still reports interaction for a minute (its look-back), then not.
// Nobody is there to answer a conflict or to take the lease back.
func (g *gen) leaveOpen(dev string, e time.Time, idle time.Duration) {
	g.emit(dev, e, e.Add(min(time.Minute, idle)), true, ConflictLeave, DisplacedStop)
	if idle > time.Minute {
		g.emit(dev, e.Add(time.Minute), e.Add(idle), false, ConflictLeave, DisplacedStop)
	}
}

// session is one sitting: a few articles read back to back on one device.
func (g *gen) sessionLen() time.Duration { return g.logUniform(2*time.Minute, 35*time.Minute) }

// person is the daily routine of one reader with up to three devices.
type person struct {
	name    string // device prefix
	phone   bool
	laptop  bool
	tablet  bool
	offset  time.Duration // local time = UTC + offset
	morning time.Duration // usual start of the commute, local
}

func (g *gen) newPerson(name string, offset time.Duration) person {
	p := person{name: name, offset: offset, morning: g.uniform(6*time.Hour+30*time.Minute, 8*time.Hour+30*time.Minute)}
	switch g.rng.IntN(4) {
	case 0: // one device
		p.phone = true
	case 1:
		p.phone, p.laptop = true, true
	default:
		p.phone, p.laptop, p.tablet = true, true, true
	}
	return p
}

// at turns local time of day d into an instant.
func (g *gen) at(p person, d int, local time.Duration) time.Time {
	return g.day(d).Add(local - p.offset)
}

// routine is one honest day: phone on the commute, laptop at work, tablet
// at night (weekends: the phone and tablet at random hours). Sittings never
// overlap: one person reads on one device at a time. It returns the
// sittings so variants can decorate them.
type sitting struct {
	dev  string
	s, e time.Time
}

func (g *gen) routine(p person, d int) []sitting {
	var out []sitting
	sit := func(dev string, local time.Duration, dur time.Duration) {
		s := g.at(p, d, local)
		if n := len(out); n > 0 && !s.After(out[n-1].e.Add(2*time.Minute)) {
			s = out[n-1].e.Add(g.uniform(2*time.Minute, 20*time.Minute))
		}
		out = append(out, sitting{dev, s, s.Add(dur)})
	}
	dev := func(kind string) string { return p.name + "-" + kind }
	weekend := g.day(d).Weekday() == time.Saturday || g.day(d).Weekday() == time.Sunday
	if weekend {
		for range 1 + g.rng.IntN(3) {
			k := "phone"
			if p.tablet && g.chance(0.5) {
				k = "tablet"
			}
			sit(dev(k), g.uniform(8*time.Hour, 22*time.Hour), g.sessionLen())
		}
		slices.SortFunc(out, func(a, b sitting) int { return a.s.Compare(b.s) })
		return fixOverlaps(out)
	}
	if g.chance(0.85) {
		sit(dev("phone"), p.morning+g.uniform(0, 20*time.Minute), g.uniform(10*time.Minute, 40*time.Minute))
	}
	if p.laptop {
		for range g.rng.IntN(4) {
			sit(dev("laptop"), g.uniform(9*time.Hour+30*time.Minute, 17*time.Hour), g.sessionLen())
		}
	} else if g.chance(0.5) {
		sit(dev("phone"), g.uniform(12*time.Hour, 14*time.Hour), g.sessionLen())
	}
	if p.tablet && g.chance(0.7) {
		sit(dev("tablet"), g.uniform(21*time.Hour, 23*time.Hour), g.sessionLen())
	} else if g.chance(0.5) {
		sit(dev("phone"), g.uniform(20*time.Hour, 23*time.Hour), g.sessionLen())
	}
	slices.SortFunc(out, func(a, b sitting) int { return a.s.Compare(b.s) })
	return fixOverlaps(out)
}

// fixOverlaps pushes sittings later so one person's never overlap.
func fixOverlaps(s []sitting) []sitting {
	for i := 1; i < len(s); i++ {
		if gap := s[i-1].e.Add(time.Minute); s[i].s.Before(gap) {
			d := s[i].e.Sub(s[i].s)
			s[i].s, s[i].e = gap, gap.Add(d)
		}
	}
	return s
}

// honest is one person, several devices.
func (g *gen) honest(variant string) {
	p := g.newPerson("me", time.Duration(g.rng.IntN(12)-3)*time.Hour)
	tripFrom, tripTo := -1, -1
	if variant == "travel" {
		// One or two trips a month of 2 to 6 days, 5 to 9 hours away.
		tripFrom = g.rng.IntN(10)
	}
	var shift time.Duration
	for d := range g.days {
		q := p
		if variant == "travel" {
			if d == tripFrom {
				tripTo = d + 2 + g.rng.IntN(5)
				shift = time.Duration(5+g.rng.IntN(5)) * time.Hour
				if g.chance(0.5) {
					shift = -shift
				}
			}
			if d >= tripFrom && d < tripTo {
				q.offset += shift
			}
			if d == tripTo {
				tripFrom = d + 7 + g.rng.IntN(14)
			}
		}
		sits := g.routine(q, d)
		for i, s := range sits {
			var next time.Time
			if i+1 < len(sits) {
				next = sits[i+1].s
			}
			g.honestSitting(variant, q, d, s, next, i, tripFrom >= 0 && d >= tripFrom && d < tripTo)
		}
	}
}

func (g *gen) honestSitting(variant string, p person, d int, s sitting, next time.Time, i int, away bool) {
	switch variant {
	case "desktop-tab":
		// The laptop is a desktop at home whose last article stays on
		// screen, untouched, for hours; the phone reads meanwhile.
		if strings.HasSuffix(s.dev, "laptop") || strings.HasSuffix(s.dev, "tablet") {
			g.read("me-desktop", s.s, s.e.Sub(s.s))
			idle := g.uniform(time.Hour, 8*time.Hour)
			if !next.IsZero() && g.chance(0.3) {
				// Sometimes the person is back at the desktop first.
				idle = min(idle, next.Sub(s.e)-time.Minute)
			}
			g.leaveOpen("me-desktop", s.e, idle)
			return
		}
	case "two-tabs":
		if !strings.HasSuffix(s.dev, "phone") {
			// A second tab opened a little later, read a bit, left behind.
			g.read(s.dev, s.s, s.e.Sub(s.s))
			t := s.s.Add(g.uniform(0, s.e.Sub(s.s)))
			t2 := t.Add(g.uniform(time.Minute, 10*time.Minute))
			g.emit(s.dev, t, t2, true, ConflictContinue, DisplacedStop)
			g.emit(s.dev, t2, s.e.Add(g.uniform(0, time.Hour)), false, ConflictLeave, DisplacedStop)
			return
		}
	case "together":
		// Now and then, in the middle of a laptop sitting, a few minutes
		// on the phone (a link from a friend), the laptop's article still
		// on screen, then back to the laptop.
		if strings.HasSuffix(s.dev, "laptop") && g.chance(0.25) && s.e.Sub(s.s) > 4*time.Minute {
			t := s.s.Add(g.uniform(time.Minute, s.e.Sub(s.s)-2*time.Minute))
			delta := g.logUniform(10*time.Second, 3*time.Minute) // laptop untouched until the phone claims
			dur := g.uniform(time.Minute, 6*time.Minute)         // on the phone
			eps := g.logUniform(5*time.Second, 2*time.Minute)    // phone locked to laptop touched
			ps := t.Add(delta)
			back := ps.Add(dur + eps)
			if !next.IsZero() && s.e.Add(dur+2*time.Minute).After(next) {
				// The sitting, made longer by the phone, would run into
				// the next one: one person reads on one device at a time.
				g.read(s.dev, s.s, s.e.Sub(s.s))
				return
			}
			if delta > time.Minute {
				g.read("me-laptop", s.s, t.Add(time.Minute).Sub(s.s))
				g.emit("me-laptop", t.Add(time.Minute), back, false, ConflictLeave, DisplacedStop)
			} else {
				g.read("me-laptop", s.s, back.Sub(s.s))
			}
			g.read("me-phone", ps, dur)
			g.read("me-laptop", back, s.e.Add(dur).Sub(back)+time.Minute)
			return
		}
	case "phone-glance":
		// Reading on the laptop in the evening, a link opened on the
		// phone for 20 to 90 seconds, then straight back to the laptop,
		// "continue reading here" there; one to three times a sitting.
		if strings.HasSuffix(s.dev, "laptop") || strings.HasSuffix(s.dev, "tablet") {
			g.glances(s, next)
			return
		}
	case "bedtime":
		// In bed: the tablet, then the phone before sleeping. The tablet
		// is still on when the phone takes over, and now and then it is
		// touched as it is put away (its page reports a person: the only
		// device this reader is ever "seen" at right after a takeover).
		if strings.HasSuffix(s.dev, "tablet") && (next.IsZero() || next.Sub(s.e) > 30*time.Minute) {
			onDisplaced := DisplacedStop
			if g.chance(0.2) {
				onDisplaced = DisplacedNotice
			}
			last := g.uniform(5*time.Second, 50*time.Second) // tablet last touched, phone claims
			g.emit(s.dev, s.s, s.e.Add(last).Add(2*time.Minute), true, ConflictLeave, onDisplaced)
			g.read("me-phone", s.e.Add(last), g.uniform(3*time.Minute, 20*time.Minute))
			return
		}
	case "side-by-side":
		// At a desk, the laptop and the tablet side by side, both on:
		// reading on one, then the other, back and forth. The screen left
		// is not touched until the person comes back to it, at least 30 s
		// later; the laptop's mouse gets bumped now and then.
		if strings.HasSuffix(s.dev, "laptop") {
			g.sideBySide(s)
			return
		}
	case "storm":
		// A flaky connection: heartbeats are lost for seconds to minutes,
		// then the page reloads and claims again.
		if g.chance(0.5) {
			t := s.s
			for t.Before(s.e) {
				up := g.logUniform(20*time.Second, 8*time.Minute)
				e := t.Add(up)
				if e.After(s.e) {
					e = s.e
				}
				g.read(s.dev, t, e.Sub(t))
				t = e.Add(g.logUniform(5*time.Second, 4*time.Minute))
			}
			return
		}
	case "travel":
		if away && g.chance(0.3) {
			// The hotel's computer or a borrowed tablet: a new device.
			g.read(fmt.Sprintf("me-hotel-%d", d/5), s.s, s.e.Sub(s.s))
			return
		}
	}
	g.read(s.dev, s.s, s.e.Sub(s.s))
}

// glances is one laptop sitting interrupted by quick looks at the phone.
func (g *gen) glances(s sitting, next time.Time) {
	t := s.s
	for range 1 + g.rng.IntN(3) {
		// The laptop is read until the phone claims, touched seconds
		// before: the phone's takeover is contested.
		read := g.uniform(2*time.Minute, 12*time.Minute)
		ps := t.Add(read)
		dur := g.uniform(20*time.Second, 90*time.Second)
		back := ps.Add(dur + g.uniform(2*time.Second, 8*time.Second))
		if !next.IsZero() && back.Add(5*time.Minute).After(next) {
			break
		}
		g.emit("me-laptop", t, ps.Add(2*time.Minute), true, ConflictContinue, DisplacedStop)
		g.read("me-phone", ps, dur)
		t = back
	}
	end := t.Add(g.uniform(2*time.Minute, 15*time.Minute))
	if !next.IsZero() && end.Add(2*time.Minute).After(next) {
		end = next.Add(-2 * time.Minute)
	}
	g.read("me-laptop", t, end.Sub(t))
}

// sideBySide is a sitting on two screens at once.
func (g *gen) sideBySide(s sitting) {
	devs := []string{"me-laptop", "me-tablet"}
	t, i := s.s, 0
	for t.Before(s.e) {
		d := g.logUniform(30*time.Second, 12*time.Minute)
		e := t.Add(d)
		onDisplaced := DisplacedStop
		if i%2 == 0 && g.chance(0.05) {
			onDisplaced = DisplacedNotice // the mouse bumped
		}
		// Both screens stay on: the page keeps its lease until the other
		// takes it, and says active for a minute after the last touch.
		g.emit(devs[i%2], t, e.Add(time.Minute), true, ConflictContinue, onDisplaced)
		t, i = e, i+1
	}
}

// behaviour is how people who share react to the interstitial and to
// being displaced: shares of pages that take the lease back and that
// notice the message (the rest are put away: stop).
type behaviour struct{ leave, retake, notice float64 }

var (
	mixed  = behaviour{leave: 0.15, retake: 0.5, notice: 0.35}
	fights = behaviour{leave: 0.05, retake: 0.9, notice: 0.1}
	polite = behaviour{leave: 0.15, notice: 0.85}
	silent = behaviour{leave: 0.15} // their pages never report: a script that says "nobody"
	family = behaviour{leave: 0.15, retake: 0.4, notice: 0.45}
)

// sharerRead is one page of a person who shares.
func (g *gen) sharerRead(dev string, s time.Time, dur time.Duration, b behaviour) {
	onConflict, onDisplaced := ConflictContinue, DisplacedStop
	if g.chance(b.leave) {
		onConflict = ConflictLeave
	}
	switch x := g.rng.Float64(); {
	case x < b.retake:
		onDisplaced = DisplacedRetake
	case x < b.retake+b.notice:
		onDisplaced = DisplacedNotice
	}
	g.emit(dev, s, s.Add(dur), true, onConflict, onDisplaced)
}

// household is 2 to 4 people on one seat, each with a routine of their
// own, reading at breakfast and in the evening like families do.
func (g *gen) household(variant string) {
	n := map[string]int{"couple": 2, "family3": 3, "family4": 4}[variant]
	offset := time.Duration(g.rng.IntN(12)-3) * time.Hour
	people := make([]person, n)
	for i := range people {
		people[i] = g.newPerson(fmt.Sprintf("p%d", i+1), offset)
	}
	breakfast := g.uniform(6*time.Hour+30*time.Minute, 8*time.Hour+30*time.Minute)
	evening := g.uniform(19*time.Hour, 22*time.Hour)
	for d := range g.days {
		for _, p := range people {
			sits := g.routine(p, d)
			// The household reads together: at breakfast and after
			// dinner, most of them open the paper within minutes of each
			// other.
			for _, t := range []time.Duration{breakfast, evening} {
				if g.chance(0.5) {
					s := g.at(p, d, t+g.uniform(-15*time.Minute, 15*time.Minute))
					k := "phone"
					if p.tablet && g.chance(0.5) {
						k = "tablet"
					}
					sits = append(sits, sitting{p.name + "-" + k, s, s.Add(g.uniform(5*time.Minute, 30*time.Minute))})
				}
			}
			slices.SortFunc(sits, func(a, b sitting) int { return a.s.Compare(b.s) })
			for _, s := range fixOverlaps(sits) {
				g.sharerRead(s.dev, s.s, s.e.Sub(s.s), family)
			}
		}
	}
}

// sharer is an account lent or sold to people who do not live together:
// each reads on their own routine, and on average overlaps times a day one
// of them opens an article while another is reading (0.1 to 3).
func (g *gen) sharer(variant string) {
	overlaps := 0.1 * math.Pow(30, g.rng.Float64()) // 0.1 to 3 a day, log-uniform
	offset := time.Duration(g.rng.IntN(12)-3) * time.Hour
	var people []person
	b := mixed
	switch variant {
	case "fighter", "polite", "silent": // two people who meet once to three times a day
		overlaps = math.Pow(3, g.rng.Float64())
		b = map[string]behaviour{"fighter": fights, "polite": polite, "silent": silent}[variant]
		people = []person{g.newPerson("a", offset), g.newPerson("b", offset+time.Duration(g.rng.IntN(4))*time.Hour)}
	case "rarely-meet": // polite, and they seldom read at the same time
		overlaps = 0.1 * math.Pow(5, g.rng.Float64()) // 0.1 to 0.5 a day
		b = polite
		people = []person{g.newPerson("a", offset), g.newPerson("b", offset+time.Duration(g.rng.IntN(7))*time.Hour)}
	case "friend": // another city, maybe another time zone
		people = []person{g.newPerson("a", offset), g.newPerson("b", offset+time.Duration(g.rng.IntN(7))*time.Hour)}
	case "office": // colleagues, same hours
		people = []person{g.newPerson("a", offset), g.newPerson("b", offset)}
		if g.chance(0.4) {
			people = append(people, g.newPerson("c", offset))
		}
	case "reseller": // sold to strangers all over the world
		overlaps = 1 + 2*g.rng.Float64()
		for i := range 4 + g.rng.IntN(6) {
			people = append(people, g.newPerson(fmt.Sprintf("r%d", i), time.Duration(g.rng.IntN(24))*time.Hour))
		}
	}
	g.account += fmt.Sprintf("~%.2f", overlaps)
	for d := range g.days {
		// Each person's own reading, kept apart from the others' (they
		// read at different hours and rarely collide) ...
		var busy []sitting
		for i, p := range people {
			for _, s := range g.routine(p, d) {
				if i > 0 && overlapsAny(busy, s) {
					continue
				}
				busy = append(busy, s)
			}
		}
		for _, s := range busy {
			g.sharerRead(s.dev, s.s, s.e.Sub(s.s), b)
		}
		// ... and the collisions: someone opens an article while another
		// person is in the middle of one.
		if len(busy) == 0 {
			continue
		}
		for range g.poisson(overlaps) {
			s := busy[g.rng.IntN(len(busy))]
			owner := strings.SplitN(s.dev, "-", 2)[0]
			var other person
			for {
				other = people[g.rng.IntN(len(people))]
				if other.name != owner {
					break
				}
			}
			at := s.s.Add(g.uniform(0, max(time.Second, s.e.Sub(s.s)-30*time.Second)))
			dev := other.name + "-phone"
			if other.laptop && g.chance(0.5) {
				dev = other.name + "-laptop"
			}
			g.sharerRead(dev, at, g.sessionLen(), b)
		}
	}
}

func overlapsAny(busy []sitting, s sitting) bool {
	for _, b := range busy {
		if s.s.Before(b.e.Add(3*time.Minute)) && b.s.Before(s.e.Add(3*time.Minute)) {
			return true
		}
	}
	return false
}

// SortIntervals orders intervals by start, then account, device and end.
func SortIntervals(ivs []Interval) {
	slices.SortFunc(ivs, func(a, b Interval) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.Account, b.Account),
			strings.Compare(a.Device, b.Device), a.End.Compare(b.End))
	})
}

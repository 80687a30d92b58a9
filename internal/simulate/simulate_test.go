package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func run(t *testing.T, traces string, workers int) *Result {
	t.Helper()
	ivs, err := ParseTraces(strings.NewReader(traces), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), ivs, Options{Settings: kiosko.DefaultReadingSettings(), Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Four accounts, on the simulated clock (a displaced page learns of it
// PushDelay later; its person reacts 2 to 10 s after that, by input line:
// line 0: 2 s, 1: 9 s, 2: 3 s):
//   - fight: the phone takes over at 10:05:10; the laptop takes it back at
//     10:05:13 (the phone's takeover counts), the phone at 10:05:23 (the
//     laptop's counts), the laptop at 10:05:26 (the third counts, people
//     seen at both devices: warned); then each retakes until
//     DefaultMaxRetakes, and the last takeover counts for nothing;
//   - polite: the laptop's reader sees the message and touches the page:
//     its report makes the takeover count;
//   - glance: one person, laptop, 40 s on the phone, back to the laptop:
//     both takeovers contested, neither counts;
//   - alone: two tabs of one device never conflict.
const fight = `{"account":"fight","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z","on_displaced":"retake"}
{"account":"fight","device":"phone","start":"2026-03-02T10:05:10Z","end":"2026-03-02T10:20:00Z","on_displaced":"retake"}
{"account":"polite","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z","on_displaced":"notice"}
{"account":"polite","device":"phone","start":"2026-03-02T10:05:10Z","end":"2026-03-02T10:08:00Z"}
{"account":"glance","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:20:00Z"}
{"account":"glance","device":"phone","start":"2026-03-02T10:10:00Z","end":"2026-03-02T10:10:40Z"}
{"account":"glance","device":"laptop","start":"2026-03-02T10:10:45Z","end":"2026-03-02T10:30:00Z"}
{"account":"alone","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z","on_displaced":"retake"}
{"account":"alone","device":"laptop","start":"2026-03-02T10:05:00Z","end":"2026-03-02T10:10:00Z"}
`

func TestRunOnDisplaced(t *testing.T) {
	t.Parallel()
	res := run(t, fight, 1)
	warnedAt := time.Date(2026, 3, 2, 10, 5, 26, 0, time.UTC)
	for acct, want := range map[string]AccountResult{
		"fight":  {Warned: true, WarnedAt: warnedAt, Contested: 2 * DefaultMaxRetakes, Quiet: 1, Conflicts: 1},
		"polite": {Contested: 1, Conflicts: 1},
		"glance": {Quiet: 2, Conflicts: 2},
		"alone":  {},
	} {
		a := res.Accounts[acct]
		if a.Warned != want.Warned || !a.WarnedAt.Equal(want.WarnedAt) || a.Contested != want.Contested || a.Quiet != want.Quiet || a.Conflicts != want.Conflicts {
			t.Errorf("%s: %+v, want %+v", acct, *a, want)
		}
	}

	var out bytes.Buffer
	if err := res.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string]map[string]any{
		"fight": {"warned": true, "warned_at": "2026-03-02T10:05:26Z", "contested": 6.0, "quiet": 1.0, "conflicts": 1.0},
		"alone": {"warned": false, "warned_at": nil, "contested": 0.0, "quiet": 0.0, "conflicts": 0.0},
	}
	for acct, fields := range wantJSON {
		if len(got[acct]) != len(fields) {
			t.Errorf("%s: fields %v, want exactly %v", acct, got[acct], fields)
		}
		for k, v := range fields {
			if got[acct][k] != v {
				t.Errorf("%s.%s = %v, want %v", acct, k, got[acct][k], v)
			}
		}
	}
}

func TestRunActive(t *testing.T) {
	t.Parallel()
	// A desktop tab left open and untouched is taken over quietly; a
	// lease lapsed after the page was hidden is free, with no conflict;
	// a device that leaves on conflict takes nothing.
	res := run(t, `{"account":"a","device":"desktop","start":"2026-03-02T08:00:00Z","end":"2026-03-02T12:00:00Z","active":false}
{"account":"a","device":"phone","start":"2026-03-02T09:00:00Z","end":"2026-03-02T09:20:00Z"}
{"account":"b","device":"laptop","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}
{"account":"b","device":"phone","start":"2026-03-02T08:11:31Z","end":"2026-03-02T08:20:00Z"}
{"account":"c","device":"laptop","start":"2026-03-02T08:00:00Z","end":"2026-03-02T08:10:00Z"}
{"account":"c","device":"phone","start":"2026-03-02T08:05:00Z","end":"2026-03-02T08:20:00Z","on_conflict":"leave"}
`, 2)
	check := func(acct string, contested, quiet, conflicts int) {
		t.Helper()
		a := res.Accounts[acct]
		if a.Warned || a.Contested != contested || a.Quiet != quiet || a.Conflicts != conflicts {
			t.Errorf("%s: %+v, want contested %d quiet %d conflicts %d", acct, *a, contested, quiet, conflicts)
		}
	}
	check("a", 0, 1, 1)
	check("b", 0, 0, 0)
	check("c", 0, 0, 1)
}

func TestRunRetakesAreBounded(t *testing.T) {
	t.Parallel()
	// Two pages that both take the lease back would ping-pong until they
	// close; each gives up after DefaultMaxRetakes.
	res := run(t, `{"account":"a","device":"x","start":"2026-03-02T08:00:00Z","end":"2026-03-02T10:00:00Z","on_displaced":"retake"}
{"account":"a","device":"y","start":"2026-03-02T08:00:10Z","end":"2026-03-02T10:00:00Z","on_displaced":"retake"}
`, 1)
	// Each retake makes the takeover before it count; the last counts
	// for nothing.
	if a := res.Accounts["a"]; a.Contested != 2*DefaultMaxRetakes || a.Quiet != 1 || !a.Warned {
		t.Errorf("a: %+v, want %d takeovers that count, 1 that does not, and a warning", *a, 2*DefaultMaxRetakes)
	}
}

func TestRunDeterministic(t *testing.T) {
	t.Parallel()
	gc := GenConfig{Seed: 7, Days: 10, Honest: 60, Household: 15, Sharer: 15}
	a, b := Generate(gc), Generate(gc)
	var ja, jb bytes.Buffer
	WriteTraces(&ja, a)
	WriteTraces(&jb, b)
	if !bytes.Equal(ja.Bytes(), jb.Bytes()) {
		t.Fatal("the generator gave two different traces for one seed")
	}
	if other := Generate(GenConfig{Seed: 8, Days: 10, Honest: 60, Household: 15, Sharer: 15}); len(other) == len(a) {
		var jo bytes.Buffer
		WriteTraces(&jo, other)
		if bytes.Equal(jo.Bytes(), ja.Bytes()) {
			t.Error("seeds 7 and 8 gave the same traces")
		}
	}
	var outs [][]byte
	for _, workers := range []int{1, 1, 3} {
		res, err := Run(context.Background(), a, Options{Settings: kiosko.DefaultReadingSettings(), Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res.WriteJSON(&out)
		outs = append(outs, out.Bytes())
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[0], outs[2]) {
		t.Error("one trace gave different reports (run twice, or on 1 and 3 workers)")
	}
}

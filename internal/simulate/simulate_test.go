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

// Two people fight over one seat: the laptop reads; the phone takes over;
// the laptop takes it back at its next heartbeat; the phone, opened again
// a few minutes later, takes over a third time: warned then (the laptop
// closes before its next heartbeat).
const fight = `{"account":"shared","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:12:20Z","on_displaced":"retake"}
{"account":"shared","device":"phone","start":"2026-03-02T10:05:10Z","end":"2026-03-02T10:08:00Z"}
{"account":"shared","device":"phone","start":"2026-03-02T10:12:00Z","end":"2026-03-02T10:20:00Z"}
{"account":"alone","device":"laptop","start":"2026-03-02T10:00:00Z","end":"2026-03-02T10:30:00Z","on_displaced":"retake"}
{"account":"alone","device":"laptop","start":"2026-03-02T10:05:00Z","end":"2026-03-02T10:10:00Z"}
`

func TestRunWarnsAtTheThirdContestedTakeover(t *testing.T) {
	t.Parallel()
	res := run(t, fight, 1)
	a := res.Accounts["shared"]
	// 10:05:10 phone takes over (1); 10:05:30 the laptop's heartbeat is
	// answered "displaced" and it takes the lease back (2); the phone
	// stops at its heartbeat at 10:05:40; 10:12:00 the phone again (3).
	want := AccountResult{Warned: true, WarnedAt: time.Date(2026, 3, 2, 10, 12, 0, 0, time.UTC), Contested: 3, Conflicts: 2}
	if a.Warned != want.Warned || !a.WarnedAt.Equal(want.WarnedAt) || a.Contested != want.Contested || a.Quiet != 0 || a.Conflicts != want.Conflicts {
		t.Errorf("shared: %+v, want %+v", *a, want)
	}
	// Two pages of one device (two tabs) never conflict.
	if b := res.Accounts["alone"]; b.Warned || b.Conflicts != 0 || b.Contested != 0 || b.Quiet != 0 {
		t.Errorf("alone: %+v, want nothing", *b)
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
		"shared": {"warned": true, "warned_at": "2026-03-02T10:12:00Z", "contested": 3.0, "quiet": 0.0, "conflicts": 2.0},
		"alone":  {"warned": false, "warned_at": nil, "contested": 0.0, "quiet": 0.0, "conflicts": 0.0},
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
	if a := res.Accounts["a"]; a.Contested != 1+2*DefaultMaxRetakes || !a.Warned {
		t.Errorf("a: %+v, want %d contested takeovers and a warning", *a, 1+2*DefaultMaxRetakes)
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

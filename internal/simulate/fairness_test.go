package simulate

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// The fairness targets (docs/fairness.md, issue 19), on traces of our own
// generator with the default settings. They take tens of CPU-seconds, too
// long under the race detector: CI runs them in a separate non-race step
// (scripts/test.sh: go test -count=1 -run '^TestFairness' ./internal/simulate/).

func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("fairness targets run without -race (scripts/test.sh runs them on their own)")
	}
}

func simulateGenerated(t *testing.T, gc GenConfig) (*Result, *Report) {
	t.Helper()
	res, err := Run(context.Background(), Generate(gc), Options{Settings: kiosko.DefaultReadingSettings()})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(res)
	var sb strings.Builder
	rep.WriteMarkdown(&sb)
	t.Logf("%d calls\n%s", res.Events, sb.String())
	return res, rep
}

// TestFairnessHonestNeverWarned: no honest reader of any persona is ever
// warned, 0 in 10,008 (1,112 of each of the 9 variants), over 21 days.
func TestFairnessHonestNeverWarned(t *testing.T) {
	skipUnderRace(t)
	t.Parallel()
	n := 1112 * len(Personas["honest"])
	res, rep := simulateGenerated(t, GenConfig{Seed: 20260302, Days: 21, Honest: n})
	if h := rep.Groups["honest"]; h == nil || h.Accounts != n || h.Accounts < 10000 {
		t.Fatalf("honest readers simulated: %+v, want %d", h, n)
	}
	for _, v := range Personas["honest"] {
		g := rep.Groups["honest."+v]
		if g == nil || g.Accounts == 0 {
			t.Errorf("no %s readers simulated", v)
			continue
		}
		if g.Warned != 0 {
			t.Errorf("honest.%s: %d of %d warned, want none", v, g.Warned, g.Accounts)
		}
	}
	// The rule saw these readers at all: the takeovers that look like
	// sharing one at a time happened (contested), and were told apart.
	contested := 0
	for id, a := range res.Accounts {
		if p, v := PersonaOf(id); p == "honest" && v == "phone-glance" {
			contested += a.Quiet
		}
	}
	if contested < 1112*10 {
		t.Errorf("phone-glance readers made %d takeovers in 21 days, want many (the traces lost their glances)", contested)
	}
}

// TestFairnessSharersWarned: two people who fight over the seat are warned
// within 3 days of first overlapping (97% or more); polite pairs, who take
// over and, displaced, read the message and stop, within 7 days (90% or
// more).
func TestFairnessSharersWarned(t *testing.T) {
	skipUnderRace(t)
	t.Parallel()
	// Sharer variants are dealt in turn: 7 variants, 1,400 accounts.
	res, _ := simulateGenerated(t, GenConfig{Seed: 20260302, Days: 28, Sharer: 200 * len(Personas["sharer"])})
	within := func(variant string, days int) (warned, n int) {
		for id, a := range res.Accounts {
			if _, v := PersonaOf(id); v != variant || a.FirstConflict.IsZero() {
				continue
			}
			n++
			if a.Warned && a.WarnedAt.Sub(a.FirstConflict) <= time.Duration(days)*24*time.Hour {
				warned++
			}
		}
		return warned, n
	}
	for _, tc := range []struct {
		variant string
		days    int
		min     float64
	}{
		{"fighter", 3, 0.97},
		{"polite", 7, 0.90},
	} {
		warned, n := within(tc.variant, tc.days)
		msg := fmt.Sprintf("%s pairs warned within %d days of first overlapping: %d of %d", tc.variant, tc.days, warned, n)
		t.Log(msg)
		if n < 180 || float64(warned) < tc.min*float64(n) {
			t.Errorf("%s, want %.0f%% or more", msg, 100*tc.min)
		}
	}
}

// TestGeneratedPersonasRun drives every persona through the engine on a
// small sample, under the race detector too: honest readers are not
// warned, fighters are.
func TestGeneratedPersonasRun(t *testing.T) {
	t.Parallel()
	n := len(Personas["honest"])
	_, rep := simulateGenerated(t, GenConfig{Seed: 5, Days: 10, Honest: 10 * n, Household: 9, Sharer: 4 * len(Personas["sharer"])})
	if h := rep.Groups["honest"]; h == nil || h.Accounts != 10*n || h.Warned != 0 {
		t.Errorf("honest: %+v, want %d accounts, none warned", h, 10*n)
	}
	if f := rep.Groups["sharer.fighter"]; f == nil || f.Warned < 3 {
		t.Errorf("fighters: %+v, want most warned", f)
	}
}

package simulate

import (
	"context"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
)

// TestFairnessTargets keeps the targets of docs/fairness.md on a smaller
// sample than the published run: with the default settings no honest
// reader is ever warned, and 95% or more of households and of two-person
// sharers (colliding once a day or more) are warned within 7 days.
func TestFairnessTargets(t *testing.T) {
	t.Parallel()
	gc := GenConfig{Seed: 20260302, Days: 30, Honest: 1000, Household: 200, Sharer: 200}
	if raceEnabled || testing.Short() {
		// The race detector makes the full sample take minutes; a smaller
		// one still drives every persona through the engine.
		gc = GenConfig{Seed: 20260302, Days: 14, Honest: 120, Household: 30, Sharer: 30}
	}
	res, err := Run(context.Background(), Generate(gc), Options{Settings: kiosko.DefaultReadingSettings()})
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(res)
	var sb strings.Builder
	rep.WriteMarkdown(&sb)
	t.Logf("%d calls\n%s", res.Events, sb.String())

	if h := rep.Groups["honest"]; h == nil || h.Accounts != gc.Honest || h.Warned != 0 {
		t.Errorf("honest readers warned: %+v, want none", h)
	}
	if raceEnabled || testing.Short() {
		return
	}
	if h := rep.Groups["household"]; h.Share(h.Warned7) < 0.95 {
		t.Errorf("households warned within 7 days: %.1f%%, want 95%% or more", 100*h.Share(h.Warned7))
	}
	// Two people on one seat who collide once a day or more.
	n, warned := 0, 0
	for id, a := range res.Accounts {
		p, v := PersonaOf(id)
		if p != "sharer" || (v != "friend" && v != "office") || OverlapRate(id) < 1 {
			continue
		}
		n++
		if a.Warned && a.WarnedAt.Sub(rep.Start).Hours() <= 7*24 {
			warned++
		}
	}
	if n < 30 || float64(warned) < 0.95*float64(n) {
		t.Errorf("two-person sharers (1 collision a day or more) warned within 7 days: %d of %d, want 95%% or more", warned, n)
	}
	// Everyone who shares is caught in the end, if they collide at all.
	if s := rep.Groups["sharer"]; s.Share(s.Warned) < 0.9 {
		t.Errorf("sharers warned within %d days: %.1f%%, want 90%% or more", gc.Days, 100*s.Share(s.Warned))
	}
}

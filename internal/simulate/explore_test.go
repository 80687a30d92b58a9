package simulate

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	t0 := time.Now()
	ivs := Generate(GenConfig{Seed: 1, Days: 30, Honest: 1200, Household: 300, Sharer: 600})
	t.Logf("generated %d intervals in %s", len(ivs), time.Since(t0))
	t0 = time.Now()
	res, err := Run(context.Background(), ivs, Options{Settings: kiosko.DefaultReadingSettings()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simulated %d events in %s", res.Events, time.Since(t0))
	NewReport(res).WriteMarkdown(os.Stdout)
}

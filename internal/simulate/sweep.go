package simulate

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
)

// Setting is one point of a settings sweep.
type Setting struct {
	Label    string
	Settings kiosko.ReadingSettings
}

// Point is what the rule did under one setting.
type Point struct {
	Setting
	HonestWarned    float64 // share of honest readers warned at all
	Caught7         float64 // share of households and sharers warned within 7 days
	Caught          float64 // ... warned by the end of the traces
	HonestContested float64 // takeovers that counted, per honest reader per month
}

// DefaultSweep varies one knob of base at a time.
func DefaultSweep(base kiosko.ReadingSettings) []Setting {
	with := func(label string, f func(s *kiosko.ReadingSettings)) Setting {
		s := base
		f(&s)
		return Setting{label, s}
	}
	return []Setting{
		{"defaults", base},
		with("active ignored", func(s *kiosko.ReadingSettings) { s.ActiveWindow = 0 }),
		with("2 takeovers", func(s *kiosko.ReadingSettings) { s.SharingTakeovers = 2 }),
		with("4 takeovers", func(s *kiosko.ReadingSettings) { s.SharingTakeovers = 4 }),
		with("6 takeovers", func(s *kiosko.ReadingSettings) { s.SharingTakeovers = 6 }),
		with("window 3 days", func(s *kiosko.ReadingSettings) { s.SharingWindow = 3 * 24 * time.Hour }),
		with("window 14 days", func(s *kiosko.ReadingSettings) { s.SharingWindow = 14 * 24 * time.Hour }),
		with("contest window 30s", func(s *kiosko.ReadingSettings) { s.ContestWindow = 30 * time.Second }),
		with("presence window 5s", func(s *kiosko.ReadingSettings) { s.PresenceWindow = 5 * time.Second }),
		with("presence window 30s", func(s *kiosko.ReadingSettings) { s.PresenceWindow = 30 * time.Second }),
		with("presence window 60s", func(s *kiosko.ReadingSettings) { s.PresenceWindow = 60 * time.Second }),
		with("presence window 120s", func(s *kiosko.ReadingSettings) { s.PresenceWindow = 120 * time.Second }),
	}
}

// Sweep simulates ivs (generated traces) under each setting.
func Sweep(ctx context.Context, ivs []Interval, base kiosko.ReadingSettings, settings []Setting, workers int) ([]Point, error) {
	var out []Point
	for _, st := range settings {
		res, err := Run(ctx, ivs, Options{Settings: st.Settings, Workers: workers})
		if err != nil {
			return nil, fmt.Errorf("sweep %q: %w", st.Label, err)
		}
		rep := NewReport(res)
		p := Point{Setting: st}
		if h := rep.Groups["honest"]; h != nil {
			p.HonestWarned = h.Share(h.Warned)
			p.HonestContested = h.ContestedPerMonth()
		}
		n := 0
		for _, name := range []string{"household", "sharer"} {
			if g := rep.Groups[name]; g != nil {
				n += g.Accounts
				p.Caught7 += float64(g.Warned7)
				p.Caught += float64(g.Warned)
			}
		}
		if n > 0 {
			p.Caught7 /= float64(n)
			p.Caught /= float64(n)
		}
		out = append(out, p)
	}
	return out, nil
}

// WriteSweep writes the points as a Markdown table, numbered as in the plot.
func WriteSweep(w io.Writer, points []Point) error {
	var b strings.Builder
	b.WriteString("| # | setting | honest readers warned | counted takeovers / honest reader / month | sharing accounts warned within 7 days | warned by the end |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|\n")
	for i, p := range points {
		fmt.Fprintf(&b, "| %d | %s | %s | %.2f | %s | %s |\n", i+1, p.Label, pct(p.HonestWarned), p.HonestContested, pct(p.Caught7), pct(p.Caught))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

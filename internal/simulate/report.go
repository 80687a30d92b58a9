package simulate

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Group is what the rule did to the accounts of one persona or variant.
type Group struct {
	Name     string
	Accounts int
	Warned   int
	// Warned7 counts accounts warned within 7 days of the trace's start;
	// Warned7First within 7 days of their first conflict (the first time
	// two devices met, which is all the rule can see of sharing).
	Warned7, Warned7First int
	Warned3First          int       // within 3 days of the first conflict
	WithConflict          int       // accounts that had at least one conflict
	DaysToWarning         []float64 // for each warned account, days from the start
	Contested             int
	Conflicts             int
	Days                  float64 // length of the trace
}

// Share returns n as a share of the group's accounts.
func (g *Group) Share(n int) float64 {
	if g.Accounts == 0 {
		return 0
	}
	return float64(n) / float64(g.Accounts)
}

// ContestedPerMonth is contested takeovers per account per 30 days.
func (g *Group) ContestedPerMonth() float64 {
	if g.Accounts == 0 || g.Days == 0 {
		return 0
	}
	return float64(g.Contested) / float64(g.Accounts) / (g.Days / 30)
}

// MedianDays is the median of DaysToWarning, or -1 when nobody was warned.
func (g *Group) MedianDays() float64 { return quantile(g.DaysToWarning, 0.5) }

// P95Days is the 95th percentile of DaysToWarning, or -1.
func (g *Group) P95Days() float64 { return quantile(g.DaysToWarning, 0.95) }

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// Report groups results by persona ("honest") and by variant
// ("honest.together"), using the account ids Generate makes.
type Report struct {
	Start  time.Time
	Groups map[string]*Group
}

// NewReport builds the per-persona report of a result.
func NewReport(r *Result) *Report {
	var start, end time.Time
	for _, a := range r.Accounts {
		if start.IsZero() || a.FirstStart.Before(start) {
			start = a.FirstStart
		}
	}
	start = start.Truncate(24 * time.Hour)
	for _, a := range r.Accounts {
		if a.LastEnd.After(end) {
			end = a.LastEnd
		}
	}
	days := math.Ceil(end.Sub(start).Hours() / 24)
	rep := &Report{Start: start, Groups: map[string]*Group{}}
	group := func(name string) *Group {
		g := rep.Groups[name]
		if g == nil {
			g = &Group{Name: name, Days: days}
			rep.Groups[name] = g
		}
		return g
	}
	week := 7 * 24 * time.Hour
	for id, a := range r.Accounts {
		p, v := PersonaOf(id)
		groups := []*Group{group(p), group(p + "." + v)}
		if r := OverlapRate(id); r >= 0 && (v == "friend" || v == "office") {
			groups = append(groups, group(p+"."+rateBand(r)))
		}
		for _, g := range groups {
			g.Accounts++
			g.Contested += a.Contested
			g.Conflicts += a.Conflicts
			if a.Conflicts > 0 {
				g.WithConflict++
			}
			if a.Warned {
				g.Warned++
				g.DaysToWarning = append(g.DaysToWarning, a.WarnedAt.Sub(start).Hours()/24)
				if a.WarnedAt.Sub(start) <= week {
					g.Warned7++
				}
				if !a.FirstConflict.IsZero() && a.WarnedAt.Sub(a.FirstConflict) <= week {
					g.Warned7First++
				}
				if !a.FirstConflict.IsZero() && a.WarnedAt.Sub(a.FirstConflict) <= 3*24*time.Hour {
					g.Warned3First++
				}
			}
		}
	}
	return rep
}

// Names returns group names, personas before their variants.
func (rep *Report) Names() []string {
	var out []string
	for n := range rep.Groups {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, pj := strings.SplitN(out[i], ".", 2)[0], strings.SplitN(out[j], ".", 2)[0]
		if pi != pj {
			return personaRank(pi) < personaRank(pj)
		}
		return out[i] < out[j]
	})
	return out
}

func personaRank(p string) int {
	switch p {
	case "honest":
		return 0
	case "household":
		return 1
	case "sharer":
		return 2
	}
	return 3
}

// WriteMarkdown writes the report as a Markdown table.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| persona | accounts | warned | warned within 7 days | within 3 days of 1st conflict | within 7 days of 1st conflict | median days to warning | counted takeovers / account / month |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, n := range rep.Names() {
		g := rep.Groups[n]
		name := n
		if !strings.Contains(n, ".") {
			name = "**" + n + "**"
		}
		med := "—"
		if m := g.MedianDays(); m >= 0 {
			med = fmt.Sprintf("%.1f", m)
		}
		first3, first7 := "—", "—"
		if g.WithConflict > 0 {
			first3 = pct(float64(g.Warned3First) / float64(g.WithConflict))
			first7 = pct(float64(g.Warned7First) / float64(g.WithConflict))
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s | %.2f |\n", name, g.Accounts, pct(g.Share(g.Warned)), pct(g.Share(g.Warned7)), first3, first7, med, g.ContestedPerMonth())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rateBand names the band of a sharer's collision rate; "~" sorts the
// bands after the variants.
func rateBand(r float64) string {
	switch {
	case r < 0.5:
		return "~0.1–0.5 overlaps/day"
	case r < 1:
		return "~0.5–1 overlaps/day"
	}
	return "~1–3 overlaps/day"
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

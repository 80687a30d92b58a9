package admin

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Chart is one insights chart: a series of values per day, drawn as an
// SVG the server renders (no script), described for screen readers, and
// given as a table and as CSV.
type Chart struct {
	ID      string
	Title   string
	Desc    string
	Days    []time.Time
	Series  []Series
	Stacked bool // bars stacked per day; else lines
}

// Series is one named row of values, one per day.
type Series struct {
	Name   string
	Values []int64
}

const (
	chartW, chartH                     = 720, 220
	padLeft, padRight, padTop, padBott = 48, 12, 12, 28
)

// SVG draws the chart. Every text in it is escaped.
func (c *Chart) SVG() template.HTML {
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t %s-d" class="svg-chart">`, chartW, chartH, c.ID, c.ID)
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, c.ID, esc(c.Title), c.ID, esc(c.Desc))
	n := len(c.Days)
	top := int64(0)
	for i := 0; i < n; i++ {
		var sum int64
		for _, s := range c.Series {
			if c.Stacked {
				sum += s.Values[i]
			} else {
				top = max(top, s.Values[i])
			}
		}
		top = max(top, sum)
	}
	top = niceCeil(top)
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBott)
	y := func(v int64) float64 { return float64(padTop) + plotH - plotH*float64(v)/float64(top) }
	// Axes and the three gridlines.
	for _, v := range []int64{0, top / 2, top} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%d</text>`,
			padLeft, chartW-padRight, y(v), y(v), padLeft-6, y(v)+4, v)
	}
	if n > 0 {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, padLeft, chartH-8, c.Days[0].Format("2006-01-02"))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s</text>`, chartW-padRight, chartH-8, c.Days[n-1].Format("2006-01-02"))
	}
	step := plotW / float64(max(n, 1))
	if c.Stacked {
		for i := 0; i < n; i++ {
			var base int64
			for k, s := range c.Series {
				v := s.Values[i]
				if v == 0 {
					continue
				}
				x := float64(padLeft) + step*float64(i) + step*0.1
				fmt.Fprintf(&b, `<rect class="s%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, k, x, y(base+v), step*0.8, y(base)-y(base+v))
				base += v
			}
		}
	} else {
		for k, s := range c.Series {
			var pts []string
			for i, v := range s.Values {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(padLeft)+step*(float64(i)+0.5), y(v)))
			}
			fmt.Fprintf(&b, `<polyline class="s%d" fill="none" points="%s"/>`, k, strings.Join(pts, " "))
		}
	}
	// The legend, top left.
	for k, s := range c.Series {
		fmt.Fprintf(&b, `<rect class="s%d" x="%d" y="%d" width="10" height="10"/><text class="legend" x="%d" y="%d">%s</text>`, k, padLeft+8+k*150, padTop, padLeft+22+k*150, padTop+9, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten (at least 1).
func niceCeil(v int64) int64 {
	if v <= 1 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
	}
}

// Totals sums each series.
func (c *Chart) Totals() []int64 {
	out := make([]int64, len(c.Series))
	for k, s := range c.Series {
		for _, v := range s.Values {
			out[k] += v
		}
	}
	return out
}

// Rows is the table of the chart: a day and its value in each series.
func (c *Chart) Rows() [][]int64 {
	rows := make([][]int64, len(c.Days))
	for i := range c.Days {
		for _, s := range c.Series {
			rows[i] = append(rows[i], s.Values[i])
		}
	}
	return rows
}

// describe writes the chart's desc: per series, the total and the peak.
func describe(p *Page, c *Chart) string {
	if len(c.Days) == 0 {
		return ""
	}
	var parts []string
	for _, s := range c.Series {
		var total, peak int64
		peakDay := c.Days[0]
		for i, v := range s.Values {
			total += v
			if v > peak {
				peak, peakDay = v, c.Days[i]
			}
		}
		parts = append(parts, p.T("admin.insights.desc_series", s.Name, total, peak, peakDay.Format("2006-01-02")))
	}
	return p.T("admin.insights.desc_range", c.Days[0].Format("2006-01-02"), c.Days[len(c.Days)-1].Format("2006-01-02")) + " " + strings.Join(parts, "; ") + "."
}

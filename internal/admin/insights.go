package admin

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/kiosko/kiosko"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, m *http.ServeMux) {
		m.HandleFunc("GET /admin/insights", h.insights)
	})
}

// followUp is how long after a warning the outcome view looks.
const followUp = 30 * kiosko.Day

type outcomeRow struct {
	Name    string
	Count   int64
	Percent string
}

type insightsData struct {
	From, To string // the range shown, as YYYY-MM-DD (To inclusive)
	Charts   []*Chart
	Outcomes []outcomeRow
	Warnings int64
}

// insightsRange reads ?from and ?to (inclusive), whole UTC days; the last
// 30 days by default, at most 366.
func insightsRange(r *http.Request, now time.Time) (from, to time.Time, ok bool) {
	today := now.UTC().Truncate(kiosko.Day)
	to, from = today.Add(kiosko.Day), today.Add(-29*kiosko.Day)
	ok = true
	if s := r.URL.Query().Get("from"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			ok = false
		} else {
			from = t
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			ok = false
		} else {
			to = t.Add(kiosko.Day)
		}
	}
	if !ok || !from.Before(to) || to.Sub(from) > 366*kiosko.Day {
		return today.Add(-29 * kiosko.Day), today.Add(kiosko.Day), false
	}
	return from, to, true
}

// insights shows the charts of DESIGN.md over a range of days; with
// ?format=csv&chart=ID it answers one chart's data as CSV.
func (h *Handler) insights(w http.ResponseWriter, r *http.Request) {
	p := h.page(r, "insights")
	p.Title = p.T("admin.insights.title")
	from, to, ok := insightsRange(r, h.d.Clock.Now())
	if !ok {
		p.Error = p.T("admin.insights.bad_range")
	}
	ctx := r.Context()
	reading, err := h.d.Store.ReadingByDay(ctx, from, to)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	sharing, err := h.d.Store.SharingByDay(ctx, from, to)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	growth, err := h.d.Store.GrowthByDay(ctx, from, to)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	news, err := h.d.Store.NewsletterByDay(ctx, from, to)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	paywall, err := h.d.Store.PaywallByDay(ctx, from, to)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	outcomes, err := h.d.Store.WarningOutcomes(ctx, from, to, followUp)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	days := make([]time.Time, len(reading))
	for i, d := range reading {
		days[i] = d.Day
	}
	col := func(n int, f func(i int) int64) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	n := len(days)
	charts := []*Chart{
		{ID: "sharing", Title: p.T("admin.insights.sharing"), Days: days, Stacked: true, Series: []Series{
			{p.T("admin.insights.not_shared"), col(n, func(i int) int64 { return sharing[i].NotShared })},
			{p.T("admin.insights.possibly"), col(n, func(i int) int64 { return sharing[i].Possibly })},
			{p.T("admin.insights.warned"), col(n, func(i int) int64 { return sharing[i].Warned })}}},
		{ID: "takeovers", Title: p.T("admin.insights.takeovers"), Days: days, Series: []Series{
			{p.T("admin.insights.contested"), col(n, func(i int) int64 { return reading[i].Contested })},
			{p.T("admin.insights.counted"), col(n, func(i int) int64 { return reading[i].Counted })}}},
		{ID: "warnings", Title: p.T("admin.insights.warnings"), Days: days, Series: []Series{
			{p.T("admin.insights.set"), col(n, func(i int) int64 { return reading[i].WarningsSet })},
			{p.T("admin.insights.cleared"), col(n, func(i int) int64 { return reading[i].WarningsCleared })}}},
		{ID: "reading", Title: p.T("admin.insights.reading"), Days: days, Series: []Series{
			{p.T("admin.insights.readers"), col(n, func(i int) int64 { return reading[i].Readers })},
			{p.T("admin.insights.claims"), col(n, func(i int) int64 { return reading[i].Claims })},
			{p.T("admin.insights.conflicts"), col(n, func(i int) int64 { return reading[i].Conflicts })},
			{p.T("admin.insights.all_takeovers"), col(n, func(i int) int64 { return reading[i].Contested + reading[i].Quiet })}}},
		{ID: "views", Title: p.T("admin.insights.views"), Days: days, Stacked: true, Series: []Series{
			{p.T("admin.insights.views_anonymous"), col(n, func(i int) int64 { return paywall[i].Anonymous })},
			{p.T("admin.insights.views_registered"), col(n, func(i int) int64 { return paywall[i].Registered })},
			{p.T("admin.insights.views_subscriber"), col(n, func(i int) int64 { return paywall[i].Subscriber })}}},
		{ID: "walls", Title: p.T("admin.insights.walls"), Days: days, Series: []Series{
			{p.T("admin.insights.wall_registration"), col(n, func(i int) int64 { return paywall[i].RegistrationWalls })},
			{p.T("admin.insights.wall_subscription"), col(n, func(i int) int64 { return paywall[i].SubscriptionWalls })}}},
		{ID: "growth", Title: p.T("admin.insights.growth"), Days: days, Series: []Series{
			{p.T("admin.insights.signups"), col(n, func(i int) int64 { return growth[i].SignUps })},
			{p.T("admin.insights.subscriptions"), col(n, func(i int) int64 { return growth[i].Subscriptions })}}},
		{ID: "newsletter", Title: p.T("admin.insights.newsletter"), Days: days, Series: []Series{
			{p.T("admin.insights.nl_confirmed"), col(n, func(i int) int64 { return news[i].Confirmed })},
			{p.T("admin.insights.nl_unsubscribed"), col(n, func(i int) int64 { return news[i].Unsubscribed })},
			{p.T("admin.insights.nl_bounced"), col(n, func(i int) int64 { return news[i].Bounced })}}},
	}
	for _, c := range charts {
		c.Desc = describe(p, c)
	}
	data := &insightsData{From: from.Format("2006-01-02"), To: to.Add(-kiosko.Day).Format("2006-01-02"), Charts: charts}
	for _, o := range outcomes {
		data.Warnings += o
	}
	for _, k := range []string{kiosko.OutcomeUpgraded, kiosko.OutcomePassword, kiosko.OutcomeAdmin, kiosko.OutcomeQuiet, kiosko.OutcomeNothing} {
		row := outcomeRow{Name: p.T("admin.insights.outcome_" + k), Count: outcomes[k], Percent: "—"}
		if data.Warnings > 0 {
			row.Percent = strconv.FormatFloat(100*float64(outcomes[k])/float64(data.Warnings), 'f', 0, 64) + " %"
		}
		data.Outcomes = append(data.Outcomes, row)
	}
	if r.URL.Query().Get("format") == "csv" {
		h.insightsCSV(w, r, data)
		return
	}
	p.Data = data
	h.render(w, r, http.StatusOK, "insights", p)
}

// insightsCSV answers one chart (?chart=ID, or "outcomes") as CSV.
func (h *Handler) insightsCSV(w http.ResponseWriter, r *http.Request, data *insightsData) {
	id := r.URL.Query().Get("chart")
	var records [][]string
	if id == "outcomes" {
		records = append(records, []string{"outcome", "warnings"})
		for i, k := range []string{kiosko.OutcomeUpgraded, kiosko.OutcomePassword, kiosko.OutcomeAdmin, kiosko.OutcomeQuiet, kiosko.OutcomeNothing} {
			records = append(records, []string{k, strconv.FormatInt(data.Outcomes[i].Count, 10)})
		}
	}
	for _, c := range data.Charts {
		if c.ID != id {
			continue
		}
		head := []string{"day"}
		for _, s := range c.Series {
			head = append(head, s.Name)
		}
		records = append(records, head)
		for i, row := range c.Rows() {
			rec := []string{c.Days[i].Format("2006-01-02")}
			for _, v := range row {
				rec = append(rec, strconv.FormatInt(v, 10))
			}
			records = append(records, rec)
		}
	}
	if records == nil {
		h.notFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="kiosko-`+id+`-`+data.From+`-`+data.To+`.csv"`)
	w.Header().Set("Cache-Control", "private, no-store")
	cw := csv.NewWriter(w)
	_ = cw.WriteAll(records)
}

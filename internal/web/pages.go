package web

import (
	"net/http"

	"github.com/kiosko/kiosko"
)

func (s *Server) terms(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("web.terms.title")
	s.Render(w, r, http.StatusOK, "terms", p)
}

func (s *Server) business(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("web.business.title")
	p.Data = s.businessView(r) // reader.go: what a company's admin or member sees
	s.Render(w, r, http.StatusOK, "business", p)
}

// PlanRow is one plan on the plans page, with its texts in the page's
// language.
type PlanRow struct {
	Code  string
	Name  string
	Price string // "9,99 €" ; "" for the free account
	Per   string // "al mes"
	Seats string // "2 lectores"
	Meter string // for the free account
	Desc  string // what the plan is for, when the catalog has words for it
	Paid  bool
	// Current: the reader reads with this plan now (their own, or a seat
	// someone else pays for; for the free account: signed in without one).
	Current bool
	Mine    bool // Current, and the reader pays for it
}

func (s *Server) plans(w http.ResponseWriter, r *http.Request) {
	p := s.NewPage(r, "")
	p.Title = p.T("web.plans.title")
	var rows []PlanRow
	current, mine := s.currentPlan(r)
	for _, pl := range plansInOrder(s.d.Plans) {
		row := PlanRow{Code: pl.Code, Name: pl.Name(p.Lang), Paid: pl.Paid(), Current: pl.Code == current}
		row.Mine = row.Current && mine
		if key := "web.plans.desc." + pl.Code; s.d.Catalog.Has(p.Lang, key) {
			row.Desc = p.T(key)
		}
		if pl.Paid() {
			row.Price = formatPrice(p.Lang, pl.PriceCents, pl.Currency)
			row.Per = p.T("web.plans.per." + pl.Period)
			switch {
			case pl.SeatsPerUnit:
				row.Seats = p.T("web.plans.seats_per_unit", pl.Seats)
			case pl.Seats == 1:
				row.Seats = p.T("web.plans.seat_one")
			default:
				row.Seats = p.T("web.plans.seats", pl.Seats)
			}
		} else {
			meter := pl.Meter
			if pl.Code == kiosko.PlanFree {
				meter = s.registeredMeter()
			}
			row.Meter = p.T("web.plans.meter", meter)
		}
		rows = append(rows, row)
	}
	p.Data = rows
	s.Render(w, r, http.StatusOK, "plans", p)
}

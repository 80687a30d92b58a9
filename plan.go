package kiosko

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Plan codes seeded by default.
const (
	PlanFree     = "free"
	PlanDigital  = "digital"
	PlanPremium  = "premium"
	PlanBusiness = "business"
)

// Plan is a product a reader can buy. Plans come from a file the operator
// edits; a subscription copies price and seats when it starts, so editing a
// plan never changes what an existing subscriber pays before renewal.
type Plan struct {
	Code           string            `json:"code"`
	Names          map[string]string `json:"names"` // language -> name
	PriceCents     int64             `json:"price_cents"`
	Currency       string            `json:"currency"`
	Period         string            `json:"period"` // "month" or "year"
	Seats          int               `json:"seats"`  // 0: no seat (free account)
	ReadersPerSeat int               `json:"readers_per_seat"`
	Meter          int               `json:"meter"`          // free articles a month without a seat
	SeatsPerUnit   bool              `json:"seats_per_unit"` // Business: seats bought as a number
}

// Name returns the plan's name in lang, falling back to any name.
func (p *Plan) Name(lang string) string {
	if n, ok := p.Names[lang]; ok {
		return n
	}
	for _, l := range Languages {
		if n, ok := p.Names[l]; ok {
			return n
		}
	}
	return p.Code
}

// Paid reports whether the plan gives seats.
func (p *Plan) Paid() bool { return p.Seats > 0 }

// Plans is the catalogue of plans, by code.
type Plans map[string]*Plan

// Find returns the plan with code, or ENOTFOUND.
func (ps Plans) Find(code string) (*Plan, error) {
	if p, ok := ps[code]; ok {
		return p, nil
	}
	return nil, &Error{Code: ENOTFOUND, Key: "error.plan_unknown", Message: fmt.Sprintf("Unknown plan %q.", code), Field: "plan"}
}

// Sorted returns the plans from the cheapest.
func (ps Plans) Sorted() []*Plan {
	out := make([]*Plan, 0, len(ps))
	for _, p := range ps {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].PriceCents != out[j].PriceCents {
			return out[i].PriceCents < out[j].PriceCents
		}
		return out[i].Code < out[j].Code
	})
	return out
}

// DefaultPlans is the catalogue a new installation starts with.
func DefaultPlans() Plans {
	return Plans{
		PlanFree:     {Code: PlanFree, Names: map[string]string{"es": "Cuenta gratuita", "en": "Free account"}, Currency: "EUR", Period: "month", Meter: 20},
		PlanDigital:  {Code: PlanDigital, Names: map[string]string{"es": "Digital", "en": "Digital"}, PriceCents: 999, Currency: "EUR", Period: "month", Seats: 1, ReadersPerSeat: 1},
		PlanPremium:  {Code: PlanPremium, Names: map[string]string{"es": "Premium", "en": "Premium"}, PriceCents: 1499, Currency: "EUR", Period: "month", Seats: 2, ReadersPerSeat: 1},
		PlanBusiness: {Code: PlanBusiness, Names: map[string]string{"es": "Empresas", "en": "Business"}, PriceCents: 899, Currency: "EUR", Period: "month", Seats: 5, ReadersPerSeat: 1, SeatsPerUnit: true},
	}
}

// ParsePlans reads a plans file (a JSON array of plans) and validates it.
func ParsePlans(data []byte) (Plans, error) {
	var list []*Plan
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("plans file: %w", err)
	}
	ps := Plans{}
	for i, p := range list {
		switch {
		case p.Code == "":
			return nil, fmt.Errorf("plans file: plan %d has no code", i+1)
		case ps[p.Code] != nil:
			return nil, fmt.Errorf("plans file: plan %q appears twice", p.Code)
		case p.Seats < 0 || p.PriceCents < 0 || p.Meter < 0 || p.ReadersPerSeat < 0:
			return nil, fmt.Errorf("plans file: plan %q has a negative number", p.Code)
		case p.Period != "month" && p.Period != "year":
			return nil, fmt.Errorf("plans file: plan %q: period must be month or year", p.Code)
		case len(p.Currency) != 3:
			return nil, fmt.Errorf("plans file: plan %q: currency must be a 3-letter code", p.Code)
		}
		for _, l := range Languages {
			if p.Names[l] == "" {
				return nil, fmt.Errorf("plans file: plan %q has no %s name", p.Code, l)
			}
		}
		if p.Seats > 0 && p.ReadersPerSeat == 0 {
			p.ReadersPerSeat = 1
		}
		ps[p.Code] = p
	}
	if ps[PlanFree] == nil {
		return nil, fmt.Errorf("plans file: the %q plan is required", PlanFree)
	}
	return ps, nil
}

// MarshalPlans writes a plans file.
func MarshalPlans(ps Plans) ([]byte, error) {
	return json.MarshalIndent(ps.Sorted(), "", "  ")
}

package admin

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/kiosko/kiosko"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, m *http.ServeMux) {
		m.HandleFunc("GET /admin/plans", h.plans)
		m.HandleFunc("POST /admin/plans", h.savePlan)
	})
}

type plansData struct {
	Plans []*kiosko.Plan
	Form  *kiosko.Plan // the plan being created or edited again after an error
}

// plans lists the catalogue with a form per plan and one for a new plan.
func (h *Handler) plans(w http.ResponseWriter, r *http.Request) {
	h.showPlans(w, r, http.StatusOK, nil, "")
}

func (h *Handler) showPlans(w http.ResponseWriter, r *http.Request, status int, form *kiosko.Plan, errMsg string) {
	p := h.page(r, "plans")
	p.Title = p.T("admin.plans.title")
	ps, err := h.c.Plans(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p.Data = &plansData{Plans: ps.Sorted(), Form: form}
	p.Error = errMsg
	if r.URL.Query().Get("saved") != "" && errMsg == "" {
		p.Notice = p.T("admin.plans.saved")
	}
	h.render(w, r, status, "plans", p)
}

// planFromForm reads a plan form; numbers that do not parse become -1
// so the validation names the field.
func planFromForm(r *http.Request) *kiosko.Plan {
	num := func(name string) int {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostForm.Get(name)))
		if err != nil {
			return -1
		}
		return n
	}
	p := &kiosko.Plan{
		Code:           strings.TrimSpace(r.PostForm.Get("code")),
		Names:          map[string]string{},
		Currency:       strings.ToUpper(strings.TrimSpace(r.PostForm.Get("currency"))),
		Period:         r.PostForm.Get("period"),
		Seats:          num("seats"),
		ReadersPerSeat: num("readers_per_seat"),
		SeatsPerUnit:   r.PostForm.Get("seats_per_unit") == "on",
		PriceCents:     parseCents(r.PostForm.Get("price")),
	}
	for _, l := range kiosko.Languages {
		p.Names[l] = strings.TrimSpace(r.PostForm.Get("name_" + l))
	}
	return p
}

// parseCents reads "14.99" or "14,99" as 1499; -1 when it is not a price.
func parseCents(s string) int64 {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", ".")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 {
		return -1
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || w > 1_000_000 {
		return -1
	}
	return w*100 + f
}

// savePlan creates or changes a plan after confirmation. Subscriptions
// keep the price and seats they were bought with until renewal.
func (h *Handler) savePlan(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.showPlans(w, r, http.StatusBadRequest, nil, h.d.Catalog.T(h.page(r, "").Lang, "admin.error.internal"))
		return
	}
	plan := planFromForm(r)
	again := func(msg string, status int) { h.showPlans(w, r, status, plan, msg) }
	if err := kiosko.ValidatePlan(plan); err != nil {
		h.fail(w, r, err, again)
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		{
			p := h.page(r, "plans")
			p.Title = p.T("admin.confirm.title")
			var fields []Field
			for _, k := range []string{"code", "name_es", "name_en", "price", "currency", "period", "seats", "readers_per_seat", "seats_per_unit"} {
				if v := r.PostForm.Get(k); v != "" {
					fields = append(fields, Field{k, v})
				}
			}
			p.Data = &confirmData{Action: "/admin/plans", Back: "/admin/plans", Question: p.T("admin.confirm.plan", plan.Code), Fields: fields,
				Summary: []Field{{p.T("admin.plans.name_es"), plan.Names["es"]}, {p.T("admin.plans.name_en"), plan.Names["en"]},
					{p.T("admin.plans.price"), money(plan.PriceCents, plan.Currency) + " / " + p.T("admin.plans.per_"+plan.Period)},
					{p.T("admin.field.seats"), strconv.Itoa(plan.Seats)}}}
			h.render(w, r, http.StatusOK, "confirm", p)
			return
		}
	}
	if err := h.c.SavePlan(r.Context(), h.page(r, "").Admin, plan); err != nil {
		h.fail(w, r, err, again)
		return
	}
	http.Redirect(w, r, "/admin/plans?saved="+plan.Code, http.StatusSeeOther)
}

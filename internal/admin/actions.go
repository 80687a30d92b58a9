package admin

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/console"
)

// action is one thing an admin does to an account.
type action struct {
	confirmKey string // the question on the confirmation page
	run        func(ctx context.Context, c *console.Console, admin *kiosko.Account, id int64, f url.Values) error
}

func formInt(f url.Values, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(f.Get(name)))
	if err != nil {
		return -1
	}
	return n
}

var actions = map[string]action{
	"grant": {"admin.confirm.grant", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		seats := 0
		if s := strings.TrimSpace(f.Get("seats")); s != "" {
			if seats = formInt(f, "seats"); seats < 1 {
				return errSeats
			}
		}
		return c.GrantPlan(ctx, a, id, f.Get("plan"), seats)
	}},
	"revoke": {"admin.confirm.revoke", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.RevokePlan(ctx, a, id)
	}},
	"seats": {"admin.confirm.seats", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.SetSeats(ctx, a, id, formInt(f, "seats"))
	}},
	"free-seat": {"admin.confirm.free_seat", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		seat, err := strconv.ParseInt(f.Get("seat"), 10, 64)
		if err != nil {
			return kiosko.Errorf(kiosko.ENOTFOUND, "admin.error.seat_unknown", "No such seat in this account's subscription.")
		}
		return c.FreeSeat(ctx, a, id, seat)
	}},
	"clear-warning": {"admin.confirm.clear_warning", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.ClearWarning(ctx, a, id)
	}},
	"signout": {"admin.confirm.signout", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.SignOutEverywhere(ctx, a, id)
	}},
	"reset": {"admin.confirm.reset", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.SendReset(ctx, a, id)
	}},
	"delete": {"admin.confirm.delete", func(ctx context.Context, c *console.Console, a *kiosko.Account, id int64, f url.Values) error {
		return c.DeleteAccount(ctx, a, id)
	}},
}

var errSeats = kiosko.Errorf(kiosko.EINVALID, "admin.error.seats_range", "Seats must be between 1 and 10000.")

// doneKeys are the notices shown after each action.
var doneKeys = map[string]string{
	"grant": "admin.done.grant", "revoke": "admin.done.revoke", "seats": "admin.done.seats", "free-seat": "admin.done.free_seat",
	"clear-warning": "admin.done.clear_warning", "signout": "admin.done.signout", "reset": "admin.done.reset",
}

// Field is a form value carried through the confirmation page.
type Field struct{ Name, Value string }

type confirmData struct {
	Action   string // where the confirmed form posts
	Back     string // where "no" leads
	Question string
	Fields   []Field
	Summary  []Field // what the admin chose, to read before confirming
}

// act runs an action. The first POST (without confirm) answers the
// confirmation page; its form posts again with confirm=yes, and only then
// does anything change.
func (h *Handler) act(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	act, known := actions[r.PathValue("action")]
	if !ok || !known {
		h.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, kiosko.Errorf(kiosko.EINVALID, "error.invalid", "The form could not be read."), func(msg string, status int) { h.showAccount(w, r, status, "", msg) })
		return
	}
	a, err := h.d.Store.FindAccountByID(r.Context(), id)
	if err != nil {
		h.fail(w, r, err, nil)
		return
	}
	admin := h.page(r, "").Admin
	if r.PostForm.Get("confirm") != "yes" {
		p := h.page(r, "accounts")
		p.Title = p.T("admin.confirm.title")
		back := "/admin/accounts/" + strconv.FormatInt(a.ID, 10)
		d := &confirmData{Action: back + "/" + r.PathValue("action"), Back: back, Question: p.T(act.confirmKey, a.Email)}
		names := make([]string, 0, len(r.PostForm))
		for k := range r.PostForm {
			if k != "confirm" {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		for _, k := range names {
			d.Fields = append(d.Fields, Field{k, r.PostForm.Get(k)})
			if lbl := summaryKeys[k]; lbl != "" && r.PostForm.Get(k) != "" {
				d.Summary = append(d.Summary, Field{p.T(lbl), r.PostForm.Get(k)})
			}
		}
		p.Data = d
		h.render(w, r, http.StatusOK, "confirm", p)
		return
	}
	if err := act.run(r.Context(), h.c, admin, id, r.PostForm); err != nil {
		h.fail(w, r, err, func(msg string, status int) { h.showAccount(w, r, status, "", msg) })
		return
	}
	if r.PathValue("action") == "delete" {
		http.Redirect(w, r, "/admin/?deleted=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/admin/accounts/"+strconv.FormatInt(id, 10)+"?done="+url.QueryEscape(r.PathValue("action")), http.StatusSeeOther)
}

var summaryKeys = map[string]string{"plan": "admin.field.plan", "seats": "admin.field.seats", "seat": "admin.field.seat"}

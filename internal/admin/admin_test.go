package admin

import (
	"testing"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
)

// TestBuiltKeysInBothCatalogs covers the keys the package builds at run
// time (which the catalog scan cannot see): timeline entries, notices,
// roles and statuses.
func TestBuiltKeysInBothCatalogs(t *testing.T) {
	c := i18n.Default()
	var keys []string
	for _, k := range timelineKeys {
		keys = append(keys, k)
	}
	for _, k := range doneKeys {
		keys = append(keys, k)
	}
	for _, a := range actions {
		keys = append(keys, a.confirmKey)
	}
	for _, k := range summaryKeys {
		keys = append(keys, k)
	}
	for _, r := range []string{kiosko.RoleReader, kiosko.RoleEditor, kiosko.RoleAdmin} {
		keys = append(keys, "admin.role."+r)
	}
	for _, s := range []string{kiosko.StatusActive, kiosko.StatusPastDue, kiosko.StatusCanceled, kiosko.StatusExpired} {
		keys = append(keys, "admin.status."+s)
	}
	for _, o := range []string{kiosko.OutcomeUpgraded, kiosko.OutcomePassword, kiosko.OutcomeAdmin, kiosko.OutcomeQuiet, kiosko.OutcomeNothing} {
		keys = append(keys, "admin.insights.outcome_"+o)
	}
	for _, per := range []string{"month", "year"} {
		keys = append(keys, "admin.plans.per_"+per)
	}
	for _, k := range keys {
		for _, lang := range kiosko.Languages {
			if !c.Has(lang, k) {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}

func TestMoney(t *testing.T) {
	if got := money(1499, "EUR"); got != "14.99 EUR" {
		t.Fatal(got)
	}
	if got := money(5, "USD"); got != "0.05 USD" {
		t.Fatal(got)
	}
}

package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/i18n"
)

// formatDate writes t as "3 de marzo de 2026" / "March 3, 2026": the
// catalog's date.pattern with {day}, {month} and {year} filled in.
func formatDate(c *i18n.Catalog, lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strings.NewReplacer(
		"{day}", strconv.Itoa(t.Day()),
		"{month}", c.T(lang, "web.date.month."+strconv.Itoa(int(t.Month()))),
		"{year}", strconv.Itoa(t.Year()),
	).Replace(c.T(lang, "web.date.pattern"))
}

// formatAgo says how long before now t was, coarsely ("5 minutes ago"),
// which needs no knowledge of the reader's time zone.
func formatAgo(c *i18n.Catalog, lang string, t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return c.T(lang, "web.ago.now")
	case d < 2*time.Minute:
		return c.T(lang, "web.ago.minute")
	case d < time.Hour:
		return c.T(lang, "web.ago.minutes", int(d/time.Minute))
	case d < 2*time.Hour:
		return c.T(lang, "web.ago.hour")
	case d < 24*time.Hour:
		return c.T(lang, "web.ago.hours", int(d/time.Hour))
	case d < 48*time.Hour:
		return c.T(lang, "web.ago.day")
	case d < 30*24*time.Hour:
		return c.T(lang, "web.ago.days", int(d/(24*time.Hour)))
	}
	return formatDate(c, lang, t)
}

// formatPrice writes a price the way readers of lang expect it:
// "9,99 €" in Spanish, "€9.99" in English.
func formatPrice(lang string, cents int64, currency string) string {
	num := fmt.Sprintf("%d.%02d", cents/100, cents%100)
	sym := map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}[strings.ToUpper(currency)]
	if lang == kiosko.LangSpanish {
		num = strings.Replace(num, ".", ",", 1)
		if sym == "" {
			sym = strings.ToUpper(currency)
		}
		return num + "\u00a0" + sym
	}
	if sym == "" {
		return strings.ToUpper(currency) + "\u00a0" + num
	}
	return sym + num
}

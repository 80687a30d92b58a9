// Package geoip tells the country of a client address, from an IP
// database embedded in the binary (github.com/phuslu/iploc, which ships
// IP2Location LITE DB1 data; see docs/accounts.md for the attribution).
// Nothing is looked up over the network, and only the country is kept:
// the address itself is never stored or shown.
package geoip

import (
	"net/netip"
	"strings"

	"github.com/phuslu/iploc"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Country returns the ISO 3166-1 alpha-2 code of the country of ip ("ES"),
// or "" for an address that is private, reserved or unknown.
func Country(ip string) string {
	addr, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	if !addr.IsGlobalUnicast() || addr.IsPrivate() {
		return ""
	}
	c := iploc.IPCountry(addr)
	if len(c) != 2 || c == "ZZ" {
		return ""
	}
	return strings.Clone(c)
}

// Name returns the name of a country code in lang ("España", "Spain"),
// or "" when code is not one.
func Name(code, lang string) string {
	if len(code) != 2 {
		return ""
	}
	region, err := language.ParseRegion(code)
	if err != nil || !region.IsCountry() {
		return ""
	}
	tag, err := language.Parse(lang)
	if err != nil {
		tag = language.Spanish
	}
	return display.Regions(tag).Name(region)
}

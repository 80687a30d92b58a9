package geoip

import "testing"

func TestCountry(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"8.8.8.8", "US"},
		{"::ffff:8.8.8.8", "US"},
		{"2001:4860:4860::8888", "US"},
		{"192.168.1.10", ""},
		{"127.0.0.1", ""},
		{"10.1.2.3", ""},
		{"not an address", ""},
		{"", ""},
	} {
		if got := Country(tc.ip); got != tc.want {
			t.Errorf("Country(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

func TestName(t *testing.T) {
	for _, tc := range []struct{ code, lang, want string }{
		{"ES", "es", "España"},
		{"ES", "en", "Spain"},
		{"DE", "es", "Alemania"},
		{"US", "en", "United States"},
		{"", "es", ""},
		{"XX", "es", ""},
		{"Europe/Madrid", "es", ""},
	} {
		if got := Name(tc.code, tc.lang); got != tc.want {
			t.Errorf("Name(%q, %q) = %q, want %q", tc.code, tc.lang, got, tc.want)
		}
	}
}

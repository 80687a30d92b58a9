package web

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kiosko/kiosko/internal/httpx"
)

// FuzzMeterCookie: no meter cookie, however forged, gives free articles:
// it reads as a list of at most what a signed cookie could hold, or as
// tampered (ok false: the meter counts as used up).
func FuzzMeterCookie(f *testing.F) {
	s := &Server{d: &httpx.Deps{Secret: []byte("a secret of at least thirty-two bytes")}}
	rec := httptest.NewRecorder()
	s.writeMeter(rec, "2026-03", []string{"a", "b"})
	for _, c := range rec.Result().Cookies() {
		f.Add(c.Value)
	}
	f.Add("eyJtIjoiMjAyNi0wMyJ9.bad")
	f.Add("...")
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/es/x", nil)
		r.AddCookie(&http.Cookie{Name: httpx.MeterCookie, Value: value})
		read, ok := s.readMeter(r, "2026-03")
		// The judge is the value the request really carries: net/http
		// drops bytes a cookie may not hold (a quote, a space), so the
		// fuzzer's string and the cookie can differ.
		cs := r.Cookies()
		if len(cs) == 0 || cs[0].Value == "" || !ok {
			return
		}
		if _, signed := s.d.Verify(cs[0].Value); !signed {
			t.Fatalf("an unsigned cookie %q (sent as %q) was believed: %v", value, cs[0].Value, read)
		}
	})
}

package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kiosko/kiosko"
)

// FuzzDecodeJSON: any body decodes or is refused with EINVALID or
// ETOOLARGE; nothing else (no panic, no internal error).
func FuzzDecodeJSON(f *testing.F) {
	f.Add(`{"email":"a@example.com","password":"x","device_id":"d_1234567890","device_token":"dt1.1.2.3.4"}`)
	f.Add(`{"article":1}`)
	f.Add(`null`)
	f.Add(`{"email":"\ud800"}`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, v := range []any{&signInRequest{}, &map[string]any{}} {
			r := httptest.NewRequest("POST", "/api/v1/sessions", strings.NewReader(body))
			err := DecodeJSON(httptest.NewRecorder(), r, v, len(body)%2 == 0)
			if c := kiosko.ErrorCode(err); err != nil && c != kiosko.EINVALID && c != kiosko.ETOOLARGE {
				t.Fatalf("code %s for %q", c, body)
			}
		}
	})
}

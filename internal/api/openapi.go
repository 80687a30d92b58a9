package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"net/http"
	"strings"
)

// openapiJSON is the OpenAPI 3.1 document of every /api/v1 route, written
// by hand and kept true by openapi_test.go: it must load and validate,
// name every route this package registers, and describe the real
// requests and answers of the API's tests.
//
//go:embed openapi.json
var openapiJSON []byte

var openapiETag = func() string {
	sum := sha256.Sum256(openapiJSON)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}()

func init() {
	routeHooks = append(routeHooks, func(h *Handler, mux *http.ServeMux) {
		mux.HandleFunc("GET /api/v1/openapi.json", h.openapi)
	})
}

// OpenAPI returns the API's OpenAPI document.
func OpenAPI() []byte { return openapiJSON }

// openapi is GET /api/v1/openapi.json.
func (h *Handler) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", openapiETag)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if etagMatch(r.Header.Get("If-None-Match"), openapiETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(openapiJSON)
}

// etagMatch reports whether an If-None-Match header names etag, weakly (a
// compressed answer carries W/ before the same tag).
func etagMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// Package embed puts kiosko's paywall, meter and one-device rule on pages
// kiosko does not render (DESIGN.md, "Publisher integration"): the script
// GET /embed.js that a publisher adds to an article page on another
// origin, the access call it starts with, and the CORS rules that let the
// origins in KIOSKO_EMBED_ORIGINS call kiosko with the reader's cookies.
//
// The script is one dependency-free file embedded in the binary. Its texts
// come from the message catalogs (keys integration.embed_*), both
// languages inlined, so one cacheable file serves every page; the page's
// language (data-lang, else <html lang>) picks one.
package embed

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

//go:embed assets/embed.js
var source []byte

// TextPrefix starts the catalog keys the script uses.
const TextPrefix = "integration.embed_"

// Handler serves the script and the embed calls.
type Handler struct {
	d       *httpx.Deps
	script  []byte
	etag    string
	Version string // the script's fingerprint, also in its URL /embed/VERSION.js
}

// New builds the script with the catalogs' texts.
func New(d *httpx.Deps) (*Handler, error) {
	texts := map[string]map[string]string{}
	for _, lang := range kiosko.Languages {
		texts[lang] = map[string]string{}
		for _, k := range d.Catalog.Keys(lang) {
			if strings.HasPrefix(k, TextPrefix) {
				texts[lang][strings.TrimPrefix(k, TextPrefix)] = d.Catalog.T(lang, k)
			}
		}
	}
	tj, err := json.Marshal(texts)
	if err != nil {
		return nil, err
	}
	script := bytes.Replace(source, []byte("/*TEXTS*/{}"), tj, 1)
	sum := sha256.Sum256(script)
	version := base64.RawURLEncoding.EncodeToString(sum[:9])
	script = bytes.Replace(script, []byte("/*VERSION*/\"\""), []byte(`"`+version+`"`), 1)
	return &Handler{d: d, script: script, etag: `"` + version + `"`, Version: version}, nil
}

// Register adds the embed's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /embed.js", h.serveScript(false))
	mux.HandleFunc("GET /embed/{version}", h.serveScript(true))
	mux.HandleFunc("POST /embed/v1/access", h.access)
}

// serveScript serves the script: at /embed.js revalidated every five
// minutes (ETag), at its fingerprinted URL cached for a year.
func (h *Handler) serveScript(fingerprinted bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if fingerprinted && r.PathValue("version") != h.Version+".js" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("ETag", h.etag)
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		if fingerprinted {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=300")
		}
		if ETagMatch(r.Header.Get("If-None-Match"), h.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write(h.script)
	}
}

// ETagMatch reports whether an If-None-Match header names etag, weakly
// (a compressed answer carries W/ before the same tag).
func ETagMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// Script returns the built script (for tests).
func (h *Handler) Script() []byte { return h.script }

// accessRequest is the body of POST /embed/v1/access.
type accessRequest struct {
	Article string `json:"article"`
}

// accessJSON says what the page should do with its body.
type accessJSON struct {
	// Decision: "read" (show the body), "claim" (a subscriber with a
	// seat: claim the lease), "register" or "subscribe" (a wall).
	Decision  string `json:"decision"`
	SignedIn  bool   `json:"signed_in"`
	Metered   bool   `json:"metered"`
	Remaining int    `json:"remaining"`
	Limit     int    `json:"limit"`
	Access    string `json:"access"`
	Base      string `json:"base"` // kiosko's public URL, for links
}

// access is POST /embed/v1/access: the paywall's decision for the caller
// and an article, counting a metered opening as kiosko's own page does.
func (h *Handler) access(w http.ResponseWriter, r *http.Request) {
	var req accessRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.Article == "" {
		h.d.WriteError(w, r, &kiosko.Error{Code: kiosko.EINVALID, Key: "error.article_required", Message: "Say which article.", Field: "article"})
		return
	}
	ctx := r.Context()
	a, err := h.d.Store.FindArticleByID(ctx, req.Article)
	if kiosko.IsNotFound(err) {
		h.d.WriteError(w, r, &kiosko.Error{Code: kiosko.ENOTFOUND, Key: "error.article_unknown", Message: "No such article.", Field: "article"})
		return
	} else if err != nil {
		h.d.WriteError(w, r, err)
		return
	}
	now := h.d.Clock.Now()
	month := kiosko.MeterMonth(now)
	out := accessJSON{Access: a.Access, Base: h.d.PublicURL}
	id, err := h.d.Identify(r)
	if err != nil && kiosko.ErrorCode(err) != kiosko.EUNAUTHORIZED {
		h.d.WriteError(w, r, err)
		return
	}
	var dec kiosko.AccessDecision
	switch {
	case id == nil:
		limit := h.d.Meter.Anonymous
		if limit <= 0 {
			limit = kiosko.DefaultMeterSettings().Anonymous
		}
		read, ok := readMeter(h.d, r, month)
		if !ok {
			read = make([]string, max(limit, 1))
		}
		dec = kiosko.DecideAccess(a, false, false, limit, read)
		if dec.Count {
			writeMeter(h.d, w, month, append(read, a.ID))
		}
	default:
		out.SignedIn = true
		_, _, serr := h.d.Store.FindSeatForAccount(ctx, id.Account.ID, now)
		if serr != nil && !kiosko.IsNotFound(serr) {
			h.d.WriteError(w, r, serr)
			return
		}
		if serr == nil {
			dec = kiosko.DecideAccess(a, true, true, 0, nil)
			if a.Access == kiosko.AccessSubscriber {
				out.Decision = "claim"
			}
			break
		}
		limit := kiosko.RegisteredMeter(h.d.Plans, h.d.Meter)
		read, err := h.d.Store.FindMeteredReads(ctx, id.Account.ID, month)
		if err != nil {
			h.d.WriteError(w, r, err)
			return
		}
		dec = kiosko.DecideAccess(a, false, true, limit, read)
		if dec.Count {
			if err := h.d.Store.AddMeteredRead(ctx, id.Account.ID, month, a.ID); err != nil {
				h.d.WriteError(w, r, err)
				return
			}
		}
	}
	if out.Decision == "" {
		switch {
		case dec.Allowed:
			out.Decision = "read"
		case dec.Wall == kiosko.WallRegister:
			out.Decision = "register"
		default:
			out.Decision = "subscribe"
		}
	}
	out.Metered, out.Remaining, out.Limit = dec.Metered, dec.Remaining, dec.Limit
	h.d.Views.Article(id != nil, dec) // insights: every decision the embed shows counts
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, out)
}

// meterCookie is the anonymous meter of embedded pages, signed like
// kiosko's own: the month and the free articles opened in it.
const meterCookie = "kiosko_embed_meter"

type meter struct {
	Month string   `json:"m"`
	Read  []string `json:"r"`
}

func readMeter(d *httpx.Deps, r *http.Request, month string) ([]string, bool) {
	c, err := r.Cookie(meterCookie)
	if err != nil || c.Value == "" {
		return nil, true
	}
	value, ok := d.Verify(c.Value)
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	var m meter
	if err != nil || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	if m.Month != month {
		return nil, true
	}
	return m.Read, true
}

func writeMeter(d *httpx.Deps, w http.ResponseWriter, month string, read []string) {
	raw, _ := json.Marshal(meter{Month: month, Read: read})
	d.SetCookie(w, meterCookie, d.Sign(base64.RawURLEncoding.EncodeToString(raw)), 40*24*time.Hour)
}

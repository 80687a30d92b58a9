package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

func init() {
	routeHooks = append(routeHooks, func(h *Handler, m *http.ServeMux) {
		m.Handle("PUT /api/v1/newsroom/articles/{id}", h.RequireScope(kiosko.ScopeNewsroom, h.putArticle))
		m.Handle("GET /api/v1/newsroom/articles/{id}", h.RequireScope(kiosko.ScopeNewsroom, h.getNewsroomArticle))
		m.Handle("DELETE /api/v1/newsroom/articles/{id}", h.RequireScope(kiosko.ScopeNewsroom, h.deleteArticle))
		m.HandleFunc("GET /api/v1/articles/{id}", h.getArticle)
	})
}

// MaxArticleBytes bounds a pushed article (the site's 1 MiB cap).
const MaxArticleBytes = httpx.DefaultMaxBody

// articleRequest is the body of PUT /api/v1/newsroom/articles/{id}.
type articleRequest struct {
	ID           *string   `json:"id"`
	Edition      string    `json:"edition"`
	Title        string    `json:"title"`
	Dek          string    `json:"dek"`
	BodyMarkdown *string   `json:"body_markdown"`
	BodyHTML     *string   `json:"body_html"`
	Authors      []string  `json:"authors"`
	Section      string    `json:"section"`
	Access       string    `json:"access"`
	Status       string    `json:"status"`
	PublishedAt  *string   `json:"published_at"`
	Image        *imageRef `json:"image"`
	Revision     int       `json:"revision"`
}

type imageRef struct {
	ID  string `json:"id"`
	Alt string `json:"alt"`
}

// NewsroomArticleJSON is an article as the newsroom API answers it: all
// of it, drafts included.
type NewsroomArticleJSON struct {
	ID           string     `json:"id"`
	Edition      string     `json:"edition"`
	Title        string     `json:"title"`
	Dek          string     `json:"dek"`
	Authors      []string   `json:"authors"`
	Section      string     `json:"section"`
	Access       string     `json:"access"`
	Status       string     `json:"status"`
	PublishedAt  string     `json:"published_at"`
	UpdatedAt    string     `json:"updated_at"`
	BodyMarkdown string     `json:"body_markdown"`
	BodyHTML     string     `json:"body_html"`
	Image        *imageJSON `json:"image,omitempty"`
	Revision     int        `json:"revision"`
	URL          string     `json:"url"`
}

type imageJSON struct {
	ID     string `json:"id"`
	Alt    string `json:"alt"`
	URL    string `json:"url"`
	Srcset string `json:"srcset"`
}

func (h *Handler) articleURL(a *kiosko.Article) string {
	return strings.TrimRight(h.d.PublicURL, "/") + "/" + a.Edition + "/" + a.ID
}

// ImageURL is where width w of an image is served.
func ImageURL(id string, w int) string { return fmt.Sprintf("/images/%s/%d", id, w) }

func (h *Handler) newsroomJSON(r *http.Request, a *kiosko.Article) NewsroomArticleJSON {
	out := NewsroomArticleJSON{ID: a.ID, Edition: a.Edition, Title: a.Title, Dek: a.Standfirst, Authors: a.Authors, Section: a.Section,
		Access: a.Access, Status: a.Status, PublishedAt: timestamp(a.PublishedAt), UpdatedAt: timestamp(a.UpdatedAt),
		BodyMarkdown: a.BodyMarkdown, BodyHTML: a.BodyHTML, Revision: a.Revision, URL: h.articleURL(a)}
	if out.Authors == nil {
		out.Authors = []string{}
	}
	if a.Image != "" {
		img := &imageJSON{ID: a.Image, Alt: a.ImageAlt}
		if im, err := h.d.Store.FindArticleImage(r.Context(), a.Image); err == nil && len(im.Widths) > 0 {
			var set []string
			for _, w := range im.Widths {
				set = append(set, fmt.Sprintf("%s %dw", ImageURL(im.ID, w), w))
			}
			img.URL, img.Srcset = ImageURL(im.ID, im.Widths[len(im.Widths)-1]), strings.Join(set, ", ")
		}
		out.Image = img
	}
	return out
}

var errArticleNotFound = kiosko.Errorf(kiosko.ENOTFOUND, "error.article_unknown", "No such article.")

// putArticle creates or replaces an article: 201 created, 200 updated,
// the article as stored either way.
func (h *Handler) putArticle(w http.ResponseWriter, r *http.Request, c *Caller) {
	if h.d.Newsroom == nil {
		h.Error(w, r, errArticleNotFound)
		return
	}
	var req articleRequest
	if err := decodeStrict(w, r, &req, MaxArticleBytes); err != nil {
		h.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	if req.ID != nil && *req.ID != id {
		h.Error(w, r, kiosko.FieldError("id", "error.article_id_mismatch", "The id in the body differs from the one in the path."))
		return
	}
	in := kiosko.ArticleInput{ID: id, Edition: req.Edition, Title: req.Title, Standfirst: req.Dek, BodyMarkdown: req.BodyMarkdown,
		BodyHTML: req.BodyHTML, Authors: req.Authors, Section: req.Section, Access: req.Access, Status: req.Status, Revision: req.Revision}
	if req.PublishedAt != nil && *req.PublishedAt != "" {
		t, err := time.Parse(time.RFC3339, *req.PublishedAt)
		if err != nil {
			h.Error(w, r, kiosko.FieldError("published_at", "error.article_published_at", "published_at must be a date and time like 2026-12-01T09:30:00Z (RFC 3339)."))
			return
		}
		in.PublishedAt = &t
	}
	if req.Image != nil {
		in.Image, in.ImageAlt = req.Image.ID, req.Image.Alt
	}
	a, created, err := h.d.Newsroom.Save(r.Context(), in, c.Name())
	if err != nil {
		h.Error(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/newsroom/articles/"+a.ID)
	}
	httpx.WriteJSON(w, status, h.newsroomJSON(r, a))
}

func (h *Handler) getNewsroomArticle(w http.ResponseWriter, r *http.Request, c *Caller) {
	a, err := h.d.Store.FindArticleByID(r.Context(), r.PathValue("id"))
	if kiosko.IsNotFound(err) {
		err = errArticleNotFound
	}
	if err != nil {
		h.Error(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, h.newsroomJSON(r, a))
}

// deleteArticle unpublishes: readers get 410 from then on; the article
// and its revisions stay, so an editor may publish it again.
func (h *Handler) deleteArticle(w http.ResponseWriter, r *http.Request, c *Caller) {
	if h.d.Newsroom == nil {
		h.Error(w, r, errArticleNotFound)
		return
	}
	_, err := h.d.Newsroom.Unpublish(r.Context(), r.PathValue("id"), c.Name())
	if kiosko.IsNotFound(err) {
		err = errArticleNotFound
	}
	if err != nil {
		h.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// decodeStrict reads one JSON object of at most max bytes into v; unknown
// fields are refused, naming the field, so that a CMS sending "body"
// instead of "body_markdown" hears of it instead of publishing nothing.
func decodeStrict(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return errBodyTooLarge
		}
		return errBadJSON
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errBadJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			field = strings.Trim(field, `"`)
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.unknown_field", Message: fmt.Sprintf("Unknown field %q.", field), Field: field}
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return &kiosko.Error{Code: kiosko.EINVALID, Key: "error.bad_json", Message: "The request body is not valid JSON of the expected shape.", Field: typeErr.Field}
		}
		return errBadJSON
	}
	return nil
}

// ReaderArticleJSON is GET /api/v1/articles/{id}: body_html only when the
// caller may read the article now.
type ReaderArticleJSON struct {
	ID          string   `json:"id"`
	Edition     string   `json:"edition"`
	Title       string   `json:"title"`
	Dek         string   `json:"dek"`
	Authors     []string `json:"authors"`
	PublishedAt string   `json:"published_at"`
	Access      string   `json:"access"`
	BodyHTML    *string  `json:"body_html,omitempty"`
}

// getArticle is one article for a reader: 404 before its time or for a
// draft, 410 once unpublished. The body comes with it when the article is
// open, when the meter lets this reader open it (and then it counts, as a
// page would), or when this device holds the seat's live lease (claim it
// first with POST /api/v1/reading/claim).
func (h *Handler) getArticle(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	a, err := h.d.Store.FindArticleByID(ctx, r.PathValue("id"))
	now := h.d.Clock.Now()
	switch {
	case kiosko.IsNotFound(err) || err == nil && !a.Gone() && !a.VisibleAt(now):
		h.Error(w, r, errArticleNotFound)
		return
	case err != nil:
		h.Error(w, r, err)
		return
	case a.Gone():
		h.Error(w, r, kiosko.Errorf(kiosko.EGONE, "error.article_gone", "This article was withdrawn."))
		return
	}
	out := ReaderArticleJSON{ID: a.ID, Edition: a.Edition, Title: a.Title, Dek: a.Standfirst, Authors: a.Authors,
		PublishedAt: timestamp(a.PublishedAt), Access: a.Access}
	if out.Authors == nil {
		out.Authors = []string{}
	}
	readable, err := h.mayRead(w, r, a, now)
	if err != nil {
		h.Error(w, r, err)
		return
	}
	if readable {
		out.BodyHTML = &a.BodyHTML
	}
	w.Header().Set("Vary", "Cookie, Authorization")
	httpx.WriteJSON(w, http.StatusOK, out)
}

// mayRead applies the paywall to a reader's request for a's body.
func (h *Handler) mayRead(w http.ResponseWriter, r *http.Request, a *kiosko.Article, now time.Time) (bool, error) {
	if a.Access == kiosko.AccessOpen {
		return true, nil
	}
	ctx := r.Context()
	month := kiosko.MeterMonth(now)
	id, err := h.d.Identify(r)
	if err != nil {
		if !a.Metered() {
			return false, nil
		}
		read, ok := h.readMeter(r, month)
		if !ok {
			return false, nil
		}
		d := kiosko.DecideAccess(a, false, false, h.anonymousMeter(), read)
		if d.Count {
			h.writeMeter(w, month, append(read, a.ID))
		}
		return d.Allowed, nil
	}
	seat, _, err := h.d.Store.FindSeatForAccount(ctx, id.Account.ID, now)
	if kiosko.IsNotFound(err) {
		if !a.Metered() {
			return false, nil
		}
		read, err := h.d.Store.FindMeteredReads(ctx, id.Account.ID, month)
		if err != nil {
			return false, err
		}
		d := kiosko.DecideAccess(a, false, true, kiosko.RegisteredMeter(h.d.Plans, h.d.Meter), read)
		if d.Count {
			if err := h.d.Store.AddMeteredRead(ctx, id.Account.ID, month, a.ID); err != nil {
				return false, err
			}
		}
		return d.Allowed, nil
	} else if err != nil {
		return false, err
	}
	if !a.NeedsSeat() || h.d.Reading == nil {
		return true, nil
	}
	lease, held, err := h.d.Reading.Leases.Holder(ctx, seat.ID, now)
	if err != nil {
		h.log().Warn("article body: lease store unreachable, reading fails open", "err", err)
		return true, nil
	}
	return held && lease.Device == id.Session.DeviceID, nil
}

func (h *Handler) anonymousMeter() int {
	if n := h.d.Meter.Anonymous; n > 0 {
		return n
	}
	return kiosko.DefaultMeterSettings().Anonymous
}

// meterCookie is the site's signed anonymous meter (internal/web): the
// API counts in the same cookie, so a page and a script share one meter.
type meterCookie struct {
	Month string   `json:"m"`
	Read  []string `json:"a"`
}

// readMeter is the articles this browser opened this month; ok is false
// for a tampered cookie (the meter then counts as used up).
func (h *Handler) readMeter(r *http.Request, month string) (read []string, ok bool) {
	c, err := r.Cookie(httpx.MeterCookie)
	if err != nil || c.Value == "" {
		return nil, true
	}
	value, ok := h.d.Verify(c.Value)
	if !ok {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	var m meterCookie
	if err != nil || json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	if m.Month != month {
		return nil, true
	}
	return slices.Clone(m.Read), true
}

func (h *Handler) writeMeter(w http.ResponseWriter, month string, read []string) {
	raw, _ := json.Marshal(meterCookie{Month: month, Read: read})
	h.d.SetCookie(w, httpx.MeterCookie, h.d.Sign(base64.RawURLEncoding.EncodeToString(raw)), 40*24*time.Hour)
}

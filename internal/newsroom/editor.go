package newsroom

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
	"github.com/kiosko/kiosko/internal/markup"
)

// dateLayout is how an <input type="datetime-local"> sends a time.
const dateLayout = "2006-01-02T15:04"

// form is the editor's form, as strings.
type form struct {
	ID, Edition, Title, Dek, Authors, Section, Access string
	Format, Body, PublishedAt, Image, ImageAlt        string
	Revision                                          int
}

// editView is the data of the editor page.
type editView struct {
	New     bool
	F       form
	Errs    map[string]string // field -> message, shown next to the field
	Error   string            // a message for the whole form
	Preview template.HTML
	Article *kiosko.Article // as stored; nil for a new one
	Image   *imageView
	TZ      string // the edition's time zone, for the date field
}

// imageView is a lead image as the editor sees it.
type imageView struct {
	ID, Src, Srcset string
}

func (s *Server) imageView(r *http.Request, id string) *imageView {
	if id == "" {
		return nil
	}
	img, err := s.d.Store.FindArticleImage(r.Context(), id)
	if err != nil || len(img.Widths) == 0 {
		return nil
	}
	return &imageView{ID: img.ID, Src: ImageURL(img.ID, img.Widths[0]), Srcset: Srcset(img)}
}

// ImageURL is where width w of an image is served.
func ImageURL(id string, w int) string { return fmt.Sprintf("/images/%s/%d", id, w) }

// Srcset lists every stored width of img for an <img srcset>.
func Srcset(img *kiosko.ArticleImage) string {
	parts := make([]string, len(img.Widths))
	for i, w := range img.Widths {
		parts[i] = fmt.Sprintf("%s %dw", ImageURL(img.ID, w), w)
	}
	return strings.Join(parts, ", ")
}

// location is an edition's time zone; UTC when it has none or it is unknown.
func (s *Server) location(r *http.Request, edition string) *time.Location {
	if ed, err := s.d.Store.FindEdition(r.Context(), edition); err == nil && ed.Timezone != "" {
		if loc, err := time.LoadLocation(ed.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
}

func (s *Server) newForm(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, "newsroom.new.title")
	f := form{Access: kiosko.AccessFree, Format: "markdown", Edition: r.URL.Query().Get("edition"), Authors: p.Editor.Name}
	if f.Edition == "" && len(p.Editions) > 0 {
		f.Edition = p.Editions[0].Code
	}
	p.Data = &editView{New: true, F: f, TZ: s.location(r, f.Edition).String()}
	s.render(w, http.StatusOK, "edit", p)
}

func (s *Server) editForm(w http.ResponseWriter, r *http.Request) {
	a, err := s.d.Store.FindArticleByID(r.Context(), r.PathValue("id"))
	if kiosko.IsNotFound(err) {
		s.notFound(w, r)
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	p := s.newPage(r, "newsroom.edit.title")
	loc := s.location(r, a.Edition)
	f := form{ID: a.ID, Edition: a.Edition, Title: a.Title, Dek: a.Standfirst, Authors: strings.Join(a.Authors, "\n"), Section: a.Section,
		Access: a.Access, Format: "markdown", Body: a.BodyMarkdown, Image: a.Image, ImageAlt: a.ImageAlt, Revision: a.Revision}
	if a.BodyMarkdown == "" && a.BodyHTML != "" {
		f.Format, f.Body = "html", a.BodyHTML // pushed as HTML by a CMS
	}
	if !a.PublishedAt.IsZero() {
		f.PublishedAt = a.PublishedAt.In(loc).Format(dateLayout)
	}
	p.Data = &editView{F: f, Article: a, Preview: template.HTML(a.BodyHTML), Image: s.imageView(r, a.Image), TZ: loc.String()}
	s.render(w, http.StatusOK, "edit", p)
}

// readForm reads the editor's form (multipart when it carries an image).
func readForm(r *http.Request) (form, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(MaxImageBytes); err != nil {
			return form{}, err
		}
	} else if err := r.ParseForm(); err != nil {
		return form{}, err
	}
	v := r.PostForm
	rev, _ := strconv.Atoi(v.Get("revision"))
	return form{ID: strings.TrimSpace(v.Get("id")), Edition: v.Get("edition"), Title: v.Get("title"), Dek: v.Get("dek"),
		Authors: v.Get("authors"), Section: v.Get("section"), Access: v.Get("access"), Format: v.Get("format"), Body: v.Get("body"),
		PublishedAt: strings.TrimSpace(v.Get("published_at")), Image: v.Get("image"), ImageAlt: v.Get("image_alt"), Revision: rev}, nil
}

// splitAuthors reads one author a line, or several separated by commas.
func splitAuthors(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' || r == '\r' })
}

// save stores the form: "draft" keeps it from readers, "publish" shows it
// now (or at its date, when that is ahead), "schedule" needs a date ahead,
// "preview" only renders. A form with any error is shown again with each
// message next to its field and nothing stored, so nothing half-saved is
// ever published.
func (s *Server) save(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	editor := httpx.IdentityFrom(ctx).Account
	f, err := readForm(r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			http.Error(w, s.d.Catalog.T(s.d.Lang(r, ""), "error.body_too_large"), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, s.d.Catalog.T(s.d.Lang(r, ""), "error.invalid"), http.StatusBadRequest)
		return
	}
	action := r.PostFormValue("action")
	isNew := r.PostFormValue("new") == "1"
	var stored *kiosko.Article
	if !isNew {
		if stored, err = s.d.Store.FindArticleByID(ctx, f.ID); kiosko.IsNotFound(err) {
			s.notFound(w, r)
			return
		} else if err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	loc := s.location(r, f.Edition)
	v := &editView{New: isNew, F: f, Errs: map[string]string{}, Article: stored, TZ: loc.String()}
	p := s.newPage(r, "newsroom.edit.title")
	p.Data = v
	lang := p.Lang
	fail := func(field, key string) { v.Errs[field] = s.d.Catalog.T(lang, key) }

	in := kiosko.ArticleInput{ID: f.ID, Edition: f.Edition, Title: f.Title, Standfirst: f.Dek, Authors: splitAuthors(f.Authors),
		Section: f.Section, Access: f.Access, Image: f.Image, ImageAlt: f.ImageAlt, Revision: f.Revision, Create: isNew}
	body := f.Body
	switch f.Format {
	case "html":
		in.BodyHTML = &body
		v.Preview = template.HTML(markup.HTML(body))
	default:
		v.F.Format = "markdown"
		in.BodyMarkdown = &body
		html, err := markup.Markdown(body)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		v.Preview = template.HTML(html)
	}
	if f.PublishedAt != "" {
		t, err := time.ParseInLocation(dateLayout, f.PublishedAt, loc)
		if err != nil {
			fail("published_at", "newsroom.error.date")
		} else {
			in.PublishedAt = &t
		}
	}
	switch action {
	case "draft":
		in.Status = kiosko.StatusDraft
	case "publish":
		in.Status = kiosko.StatusPublished
	case "schedule":
		in.Status = kiosko.StatusPublished
		if in.PublishedAt == nil || !in.PublishedAt.After(s.d.Clock.Now()) {
			fail("published_at", "newsroom.error.schedule_date")
		}
	case "preview":
	default:
		http.Error(w, s.d.Catalog.T(lang, "error.invalid"), http.StatusBadRequest)
		return
	}
	if file, hdr, err := r.FormFile("image_file"); err == nil && hdr.Size > 0 {
		defer file.Close()
		data, err := io.ReadAll(io.LimitReader(file, MaxImageBytes+1))
		if err != nil || len(data) > MaxImageBytes {
			fail("image_file", "newsroom.error.image_size")
		} else if img, files, err := ProcessImage(data, editor.Email, s.d.Clock.Now()); err != nil {
			if fe := (*kiosko.Error)(nil); errors.As(err, &fe) {
				v.Errs["image_file"] = s.d.Catalog.Error(lang, err)
			} else {
				s.serverError(w, r, err)
				return
			}
		} else if err := s.d.Store.CreateArticleImage(ctx, img, files); err != nil {
			s.serverError(w, r, err)
			return
		} else {
			in.Image, v.F.Image = img.ID, img.ID
		}
	}
	v.Image = s.imageView(r, v.F.Image)
	if action == "preview" || len(v.Errs) > 0 {
		status := http.StatusOK
		if len(v.Errs) > 0 {
			status = http.StatusBadRequest
		}
		s.render(w, status, "edit", p)
		return
	}
	a, _, err := s.d.Newsroom.Save(ctx, in, editor.Email)
	if err != nil {
		var errs kiosko.ArticleErrors
		var ke *kiosko.Error
		switch {
		case errors.As(err, &errs):
			for _, fe := range errs {
				v.Errs[fe.Field] = s.d.Catalog.Error(lang, fe)
			}
		case errors.As(err, &ke) && ke.Code != kiosko.EINTERNAL:
			v.Error = s.d.Catalog.Error(lang, err)
		default:
			s.serverError(w, r, err)
			return
		}
		status := http.StatusBadRequest
		if kiosko.ErrorCode(err) == kiosko.ECONFLICT {
			status = http.StatusConflict
		}
		s.render(w, status, "edit", p)
		return
	}
	http.Redirect(w, r, "/newsroom/articles/"+a.ID+"?done=saved", http.StatusSeeOther)
}

// preview renders a body as readers would get it, for the editor's live
// preview: the same sanitizer as a save.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "", http.StatusBadRequest)
		return
	}
	body := r.PostForm.Get("body")
	var html string
	if r.PostForm.Get("format") == "html" {
		html = markup.HTML(body)
	} else {
		var err error
		if html, err = markup.Markdown(body); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, html)
}

// uploadImage takes one image (field "file") and answers its id and URLs
// as JSON, for the editor's script; the form also takes an image itself.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request) {
	file, _, err := r.FormFile("file")
	if err != nil {
		s.d.WriteError(w, r, kiosko.FieldError("file", "newsroom.error.image_format", "Choose a JPEG, PNG or WebP image."))
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxImageBytes+1))
	if err != nil || len(data) > MaxImageBytes {
		s.d.WriteError(w, r, httpx.ErrTooLarge())
		return
	}
	img, files, err := ProcessImage(data, httpx.IdentityFrom(r.Context()).Account.Email, s.d.Clock.Now())
	if err == nil {
		err = s.d.Store.CreateArticleImage(r.Context(), img, files)
	}
	if err != nil {
		s.d.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"id": img.ID, "url": ImageURL(img.ID, img.Widths[len(img.Widths)-1]),
		"srcset": Srcset(img), "width": img.Width, "height": img.Height})
}

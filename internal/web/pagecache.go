package web

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/kiosko/kiosko"
	"github.com/kiosko/kiosko/internal/httpx"
)

// publicPage is the Cache-Control of a page every reader without a session
// sees alike (an open article, a front page): a CDN may keep it for a
// minute, a browser asks again each time. docs/deploy.md says why the
// meter and the reading rule stay exact behind one.
const publicPage = "public, max-age=0, s-maxage=60"

// Rendered pages shared by many readers are kept, so the template runs
// once per page and version rather than once per view. A page's key holds
// everything the template reads that may differ between two views: the
// path with its query, the language, today's date, which read of the
// editions and of the edition's newest articles it shows (serials of the
// content cache, new after every change), the article's id, revision and
// update time, and the paywall's decision for this view. The decision is
// still made for every request (the meter cookie is read and written each
// time); only its rendering is shared. A changed page therefore gets a new
// key at once, and the old one leaves the cache as it is least used.
//
// Pages of signed-in readers are kept too, except the interstitial of a
// conflict (it names the other device): they differ from one reader to
// the next only by the sharing banner (in the key) and the reader's
// address in the newsletter box. That address is rendered as emailSlot,
// and each view writes its own in its place, escaped by the same template
// escaper in the same context (emailAttr), so the page is byte for byte
// what rendering it afresh gives.
const pageCacheBytes = 32 << 20

// emailSlot stands for the reader's address in a kept page; the escaper
// leaves it as it is.
const emailSlot = "kioskoreaderemailslot0x5b1d"

// emailAttr escapes an address as the newsletter box's value attribute does.
var emailAttr = template.Must(template.New("email").Parse(`<input value="{{.}}">`))

// keptPage is a rendered page; slot is where the reader's address goes
// (-1: nowhere, the page is the same for every reader of its key).
type keptPage struct {
	b    []byte
	slot int
	own  bool   // this reader's own page: never kept
	gz   []byte // b gzipped, for a page the same for every reader (slot -1) and long enough to compress
	// For a page with a slot: the gzip header and the deflated part
	// before the slot (ending on a sync flush, byte-aligned), the
	// deflated part after it (the final blocks), and the CRC-32 of the
	// part before. A view writes its address between them as a stored
	// block, so it is compressed once per page, not once per view.
	gzBefore, gzAfter []byte
	crcBefore         uint32
}

type pageCache struct {
	once  sync.Once
	pages *kiosko.SizedCache[string, keptPage]
}

func (c *pageCache) cache() *kiosko.SizedCache[string, keptPage] {
	c.once.Do(func() { c.pages = kiosko.NewSizedCache[string, keptPage](pageCacheBytes) })
	return c.pages
}

func (c *pageCache) get(key string) (keptPage, bool) {
	if key == "" {
		return keptPage{}, false
	}
	return c.cache().Get(key, kiosko.DefaultCacheMaxAge)
}

func (c *pageCache) put(key string, page keptPage) {
	if key != "" && !page.own {
		c.cache().Put(key, page, int64(len(page.b)+len(page.gz)+len(page.gzBefore)+len(page.gzAfter)+len(key)+64))
	}
}

// renderKept renders the named page for p, to be kept under key: for a
// signed-in reader with the address slot in place of the reader's own.
func (s *Server) renderKept(name string, p *Page, key string) (keptPage, error) {
	id := p.Identity
	if key == "" || id == nil {
		b, err := s.render(name, p)
		k := keptPage{b: b, slot: -1}
		if err == nil && key != "" && len(b) >= httpx.CompressMinSize {
			k.gz = httpx.Gzip(b) // once per kept page, not once per view
		}
		return k, err
	}
	acct := *id.Account
	acct.Email = emailSlot
	p.Identity = &kiosko.Identity{Session: id.Session, Account: &acct}
	b, err := s.render(name, p)
	p.Identity = id
	if err != nil {
		return keptPage{}, err
	}
	at := bytes.Index(b, []byte(emailSlot))
	if at < 0 {
		// The address is nowhere on the page: what was rendered is this
		// reader's page as it is (every other field is theirs), not kept.
		return keptPage{b: b, slot: -1, own: true}, nil
	}
	if bytes.Count(b, []byte(emailSlot)) != 1 {
		// Not where it was expected: render this reader's page as it is.
		b, err := s.render(name, p)
		return keptPage{b: b, slot: -1, own: true}, err
	}
	k := keptPage{b: b, slot: at}
	if len(b) >= httpx.CompressMinSize {
		k.gzBefore, k.gzAfter = gzipAround(b[:at], b[at+len(emailSlot):])
		k.crcBefore = crc32.ChecksumIEEE(b[:at])
	}
	return k, nil
}

// gzipAround deflates before and after as two runs of one gzip stream,
// with room between them for a stored block: before ends on a sync flush
// (which leaves the stream byte-aligned, its blocks not final), after is
// deflated afresh (it refers to nothing before it) and ends the stream.
func gzipAround(before, after []byte) (head, tail []byte) {
	var h bytes.Buffer
	h.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}) // gzip, deflate, no name or time, OS unknown
	fw, _ := flate.NewWriter(&h, 5)
	_, _ = fw.Write(before)
	_ = fw.Flush()
	var t bytes.Buffer
	fw.Reset(&t)
	_, _ = fw.Write(after)
	_ = fw.Close()
	return h.Bytes(), t.Bytes()
}

// gzipWith is the kept page's gzip stream with email in its slot: a
// stored deflate block between the two kept runs, and the trailer.
func (k keptPage) gzipWith(email []byte) []byte {
	after := k.b[k.slot+len(emailSlot):]
	out := make([]byte, 0, len(k.gzBefore)+5+len(email)+len(k.gzAfter)+8)
	out = append(out, k.gzBefore...)
	n := len(email)
	out = append(out, 0, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8)) // not final, stored; LEN, NLEN
	out = append(out, email...)
	out = append(out, k.gzAfter...)
	crc := crc32.Update(k.crcBefore, crc32.IEEETable, email)
	crc = crc32.Update(crc, crc32.IEEETable, after)
	size := uint32(k.slot + n + len(after))
	return binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(out, crc), size)
}

// write answers the kept page for the reader of p: its gzipped bytes as
// they were kept when the client takes gzip and the page is the same for
// everyone, else bytesFor, which the Compress middleware may compress.
func (k keptPage) write(w http.ResponseWriter, r *http.Request, p *Page, public bool) {
	var gz []byte
	switch {
	case !httpx.AcceptsGzip(r):
	case k.slot < 0 || p.Identity == nil:
		gz = k.gz
	case k.gzBefore != nil:
		if email, ok := emailFor(p); ok && len(email) <= 0xffff {
			gz = k.gzipWith(email)
		}
	}
	if gz == nil {
		writePage(w, http.StatusOK, p.Lang, k.bytesFor(p), public)
		return
	}
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(gz)))
	writePage(w, http.StatusOK, p.Lang, gz, public)
}

// emailFor is the reader's address escaped as the newsletter box's value.
func emailFor(p *Page) ([]byte, bool) {
	var attr bytes.Buffer
	if err := emailAttr.Execute(&attr, p.Identity.Account.Email); err != nil {
		return nil, false
	}
	const open, end = `<input value="`, `">`
	return attr.Bytes()[len(open) : attr.Len()-len(end)], true
}

// bytesFor is the kept page for the reader of p.
func (k keptPage) bytesFor(p *Page) []byte {
	if k.slot < 0 || p.Identity == nil {
		return k.b
	}
	email, ok := emailFor(p)
	if !ok {
		return nil
	}
	out := make([]byte, 0, len(k.b)+len(email))
	out = append(out, k.b[:k.slot]...)
	out = append(out, email...)
	return append(out, k.b[k.slot+len(emailSlot):]...)
}

// pageKey starts the key of a page for p, or returns false when the page
// may not be kept: content read past the cache.
func pageKey(kind string, p *Page, listSerial uint64) (*strings.Builder, bool) {
	if p.editionsSerial == 0 || listSerial == 0 {
		return nil, false
	}
	var b strings.Builder
	b.Grow(160)
	b.WriteString(kind)
	for _, part := range []string{p.Lang, p.Path, p.Date(p.Now)} {
		b.WriteByte(0)
		b.WriteString(part)
	}
	for _, n := range []uint64{p.editionsSerial, listSerial} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatUint(n, 10))
	}
	b.WriteByte(0)
	switch {
	case p.Identity == nil:
		b.WriteByte('a')
	case p.Warned:
		b.WriteString("sw")
	default:
		b.WriteByte('s')
	}
	return &b, true
}

// articleKey is the key of an article page, "" when it may not be kept.
func articleKey(p *Page, v *ArticleView, listSerial uint64) string {
	b, ok := pageKey("article", p, listSerial)
	if !ok || v.Conflict || v.Other != nil {
		return ""
	}
	a, d := v.Article, v.Decision
	b.WriteByte(0)
	b.WriteString(a.ID)
	for _, n := range []int64{int64(a.Revision), a.UpdatedAt.UnixNano(), int64(v.RegisteredMeter), int64(d.Remaining), int64(d.Limit)} {
		b.WriteByte(0)
		b.WriteString(strconv.FormatInt(n, 10))
	}
	b.WriteByte(0)
	for _, f := range []bool{v.ShowBody, d.Allowed, d.Count, d.Metered, v.HasSeat, v.Reading} {
		if f {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	b.WriteString(d.Wall)
	return b.String()
}

// frontKey is the key of a front page, "" when it may not be kept.
func frontKey(p *Page, listSerial uint64) string {
	b, ok := pageKey("front", p, listSerial)
	if !ok {
		return ""
	}
	return b.String()
}

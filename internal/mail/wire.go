package mail

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kiosko/kiosko"
)

// encoder writes bulk messages in their wire form, ready for DATA:
// headers, a multipart/alternative body whose parts are quoted-printable,
// with CRLF line ends and no line that starts with "." (so no dot
// stuffing is needed). A newsletter's copies share most of their bytes;
// the encoding of each shared piece is kept and reused, so a copy costs
// the encoding of the few bytes that are the recipient's own.
type encoder struct {
	from     string // the From header's value
	envelope string // the address for MAIL FROM
	boundary string // QP output never holds "=_", so one boundary serves every message

	mu      sync.Mutex
	pieces  map[string][]byte // shared piece -> its QP encoding
	subject [2]string         // last subject and its header form
}

// maxCachedPieces bounds the cache of encoded pieces: an issue has a dozen.
const maxCachedPieces = 256

func newEncoder(from string) (*encoder, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: from %q: %w", from, err)
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return &encoder{from: a.String(), envelope: a.Address, boundary: "=_kiosko_" + hex.EncodeToString(b), pieces: map[string][]byte{}}, nil
}

// encode appends m's wire form to dst. The recipient must be one address;
// anything else is a permanent failure.
func (e *encoder) encode(dst []byte, m *kiosko.BulkMessage, now time.Time) ([]byte, string, error) {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return dst, "", &kiosko.DeliveryError{Permanent: true, Err: fmt.Errorf("recipient %q: %w", m.To, err)}
	}
	hdr := func(k, v string) {
		dst = append(dst, k...)
		dst = append(dst, ": "...)
		dst = append(dst, v...)
		dst = append(dst, "\r\n"...)
	}
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("From", e.from)
	hdr("To", to.String())
	hdr("Subject", e.subjectHeader(m.Subject))
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m.Headers[k]
		if strings.ContainsAny(k+v, "\r\n") || k == "" || strings.ContainsAny(k, ": ") {
			return dst, "", fmt.Errorf("mail: header %q is not well formed", k)
		}
		if isASCII(v) {
			hdr(k, v)
		} else {
			hdr(k, mime.QEncoding.Encode("utf-8", v))
		}
	}
	if _, ok := m.Headers["Message-ID"]; !ok {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		hdr("Message-ID", "<"+hex.EncodeToString(b)+"@"+domainOf(e.envelope)+">")
	}
	hdr("MIME-Version", "1.0")
	part := func(kind string, ps []kiosko.Piece) {
		hdr("Content-Type", kind+"; charset=UTF-8")
		hdr("Content-Transfer-Encoding", "quoted-printable")
		dst = append(dst, "\r\n"...)
		for _, p := range ps {
			if p.Shared {
				dst = append(dst, e.shared(p.Text)...)
			} else {
				dst = appendQP(dst, p.Text)
			}
		}
		if n := len(dst); n < 2 || dst[n-2] != '\r' || dst[n-1] != '\n' {
			dst = append(dst, "\r\n"...)
		}
		if len(m.HTML) > 0 {
			// The line end before a boundary belongs to the boundary
			// (RFC 2046 5.1.1): without this one the body's last line
			// break would be lost.
			dst = append(dst, "\r\n"...)
		}
	}
	if len(m.HTML) == 0 {
		part("text/plain", m.Text)
		return dst, to.Address, nil
	}
	hdr("Content-Type", `multipart/alternative; boundary="`+e.boundary+`"`)
	dst = append(dst, "\r\n--"...)
	dst = append(dst, e.boundary...)
	dst = append(dst, "\r\n"...)
	part("text/plain", m.Text)
	dst = append(dst, "--"...)
	dst = append(dst, e.boundary...)
	dst = append(dst, "\r\n"...)
	part("text/html", m.HTML)
	dst = append(dst, "--"...)
	dst = append(dst, e.boundary...)
	dst = append(dst, "--\r\n"...)
	return dst, to.Address, nil
}

func (e *encoder) subjectHeader(s string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subject[0] != s || e.subject[1] == "" {
		v := s
		if !isASCII(s) {
			v = mime.QEncoding.Encode("utf-8", s)
		}
		e.subject = [2]string{s, strings.NewReplacer("\r", "", "\n", "").Replace(v)}
	}
	return e.subject[1]
}

// shared returns the encoding of a piece many messages share.
func (e *encoder) shared(s string) []byte {
	e.mu.Lock()
	b, ok := e.pieces[s]
	e.mu.Unlock()
	if ok {
		return b
	}
	b = appendQP(nil, s)
	e.mu.Lock()
	if len(e.pieces) >= maxCachedPieces {
		clear(e.pieces)
	}
	e.pieces[s] = b
	e.mu.Unlock()
	return b
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i+1 < len(addr) {
		return addr[i+1:]
	}
	return "localhost"
}

// qpLine is the longest encoded line, soft break included (RFC 2045).
const qpLine = 76

const hexUpper = "0123456789ABCDEF"

// appendQP appends s in quoted-printable (RFC 2045 6.7) with CRLF line
// ends. Each piece starts a line of its own and ends with a line end, a
// soft one ("=" CRLF) when s does not end with a newline, so pieces
// encoded apart concatenate into one valid body. A "." at the start of a
// line is encoded, so the result never needs SMTP dot stuffing.
func appendQP(dst []byte, s string) []byte {
	col := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || (c == '\r' && i+1 < len(s) && s[i+1] == '\n') {
			if c == '\r' {
				i++
			}
			dst = append(dst, '\r', '\n')
			col = 0
			continue
		}
		// Whitespace before a line end (or the piece's end, where a soft
		// break follows) must be encoded.
		atEnd := i+1 == len(s) || s[i+1] == '\n' || (s[i+1] == '\r' && i+2 < len(s) && s[i+2] == '\n')
		literal := (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !atEnd)
		if c == '.' && col == 0 {
			literal = false
		}
		w := 1
		if !literal {
			w = 3
		}
		// Keep room for the soft break's "=" unless this is the line's
		// last character.
		limit := qpLine - 1
		if atEnd && (i+1 < len(s)) {
			limit = qpLine
		}
		if col+w > limit {
			dst = append(dst, '=', '\r', '\n')
			col = 0
			if c == '.' {
				literal, w = false, 3
			}
		}
		if literal {
			dst = append(dst, c)
		} else {
			dst = append(dst, '=', hexUpper[c>>4], hexUpper[c&15])
		}
		col += w
	}
	if n := len(dst); len(s) > 0 && (n < 2 || dst[n-2] != '\r' || dst[n-1] != '\n') {
		dst = append(dst, '=', '\r', '\n')
	}
	return dst
}

// Wire returns m as a Bulk with sender from writes it: the content of
// DATA without the final ".", and the recipient's address. kiosko bench
// uses it to push the very bytes kiosko sends without kiosko.
func Wire(from string, m *kiosko.BulkMessage) ([]byte, string, error) {
	e, err := newEncoder(from)
	if err != nil {
		return nil, "", err
	}
	return e.encode(nil, m, time.Now())
}

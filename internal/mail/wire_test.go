package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// TestQuotedPrintablePieces checks that pieces encoded apart join into a
// body any decoder reads back as the text, with short lines, no line
// that SMTP would need to dot-stuff, and no bare whitespace at a line end.
func TestQuotedPrintablePieces(t *testing.T) {
	long := strings.Repeat("Una línea larga con acentos, ñ y signos = que no cabe en setenta y seis. ", 4)
	cases := [][]string{
		{"hola"},
		{"Hola, ", "Ana", ":\n\n", long, "\n"},
		{".empieza con punto\n.otra\n", ".", "x"},
		{"espacio al final \n", "tab\t", "\t\n", " "},
		{"crlf\r\nya\r\n", "\r", "suelto"},
		{strings.Repeat("=", 100), strings.Repeat("é", 40)},
		{strings.Repeat("a", 75) + "\n" + strings.Repeat("b", 76) + "\n" + strings.Repeat("c", 77)},
		{"", "vacío antes", ""},
	}
	for _, pieces := range cases {
		var enc []byte
		for _, p := range pieces {
			enc = appendQP(enc, p)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(enc), "\r\n"), "\r\n") {
			if len(line) > qpLine {
				t.Errorf("line of %d: %q", len(line), line)
			}
			if strings.HasPrefix(line, ".") {
				t.Errorf("line starts with a dot: %q", line)
			}
			if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
				t.Errorf("bare whitespace at the end of %q", line)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("bare CR or LF in %q", line)
			}
		}
		got, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Fatalf("%q: %v", enc, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(strings.Join(pieces, ""), "\r\n", "\n"), "\n", "\r\n")
		if string(got) != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
	}
}

// TestWireMessageParses checks a bulk message's wire form with the
// standard library's mail and MIME readers.
func TestWireMessageParses(t *testing.T) {
	e, err := newEncoder("El Kiosko <boletin@news.example.com>")
	if err != nil {
		t.Fatal(err)
	}
	shared := strings.Repeat("<p>Artículo compartido = mismo texto para todos.</p>\n", 30)
	m := &kiosko.BulkMessage{To: "ana@example.com", Subject: "Boletín de El Kiosko: 13 de febrero",
		Headers: map[string]string{"List-Unsubscribe": "<https://news.example.com/u?token=abc>", "List-Id": "<es.newsletter.news.example.com>", "X-Nombre": "Año"},
		Text:    []kiosko.Piece{{Text: "Hola, "}, {Text: "Ana"}, {Text: ":\n\nTexto compartido\n", Shared: true}},
		HTML:    []kiosko.Piece{{Text: "<p>Hola, Ana &amp; Bo:</p>\n"}, {Text: shared, Shared: true}}}
	for range 2 { // the second time the shared pieces come from the cache
		wire, rcpt, err := e.encode(nil, m, time.Date(2026, 2, 13, 8, 0, 0, 0, time.UTC))
		if err != nil || rcpt != "ana@example.com" {
			t.Fatalf("encode: %q, %v", rcpt, err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(wire))
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		if s, _ := dec.DecodeHeader(msg.Header.Get("Subject")); s != m.Subject {
			t.Errorf("Subject %q", s)
		}
		if s, _ := dec.DecodeHeader(msg.Header.Get("X-Nombre")); s != "Año" {
			t.Errorf("X-Nombre %q", s)
		}
		if msg.Header.Get("List-Unsubscribe") != m.Headers["List-Unsubscribe"] || msg.Header.Get("Message-ID") == "" || msg.Header.Get("To") != "<ana@example.com>" {
			t.Errorf("headers %v", msg.Header)
		}
		mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/alternative" {
			t.Fatalf("Content-Type %q, %v", mt, err)
		}
		r := multipart.NewReader(msg.Body, params["boundary"])
		for _, want := range []struct{ kind, body string }{
			{"text/plain", "Hola, Ana:\r\n\r\nTexto compartido\r\n"},
			{"text/html", strings.ReplaceAll("<p>Hola, Ana &amp; Bo:</p>\n"+shared, "\n", "\r\n")},
		} {
			p, err := r.NextPart() // decodes quoted-printable
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(p)
			if !strings.HasPrefix(p.Header.Get("Content-Type"), want.kind) || string(body) != want.body {
				t.Errorf("%s part %q, want %q", p.Header.Get("Content-Type"), body, want.body)
			}
		}
		if _, err := r.NextPart(); err != io.EOF {
			t.Errorf("after the parts: %v", err)
		}
	}
	if _, _, err := e.encode(nil, &kiosko.BulkMessage{To: "not an address"}, time.Now()); !kiosko.IsPermanentDelivery(err) {
		t.Errorf("bad recipient: %v, want a permanent failure", err)
	}
}

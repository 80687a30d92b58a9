package newsroom

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"slices"
	"testing"
	"time"

	"github.com/kiosko/kiosko"
)

// bitWriter writes bits least significant first, as VP8L reads them.
type bitWriter struct {
	buf  []byte
	acc  uint64
	bits uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.bits
	w.bits += n
	for w.bits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.bits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.bits > 0 {
		w.buf = append(w.buf, byte(w.acc))
	}
	return w.buf
}

// solidWebP is a lossless WebP of one colour: each of the five prefix
// codes is a "simple" code of one symbol, so the pixels take no bits.
// (Go has no WebP encoder; this is enough to test decoding an upload.)
func solidWebP(w, h int, c color.NRGBA) []byte {
	var b bitWriter
	b.write(0x2f, 8)
	b.write(uint64(w-1), 14)
	b.write(uint64(h-1), 14)
	b.write(0, 1) // no alpha used
	b.write(0, 3) // version 0
	b.write(0, 1) // no transform
	b.write(0, 1) // no colour cache
	b.write(0, 1) // no meta prefix codes
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} {
		b.write(1, 1) // simple code
		b.write(0, 1) // one symbol
		b.write(1, 1) // of 8 bits
		b.write(uint64(sym), 8)
	}
	data := b.bytes()
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+8+len(data)))
	out.WriteString("WEBPVP8L")
	binary.Write(&out, binary.LittleEndian, uint32(len(data)))
	out.Write(data)
	return out.Bytes()
}

func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	return img
}

func TestProcessImage(t *testing.T) {
	var jpg, pngData bytes.Buffer
	if err := jpeg.Encode(&jpg, gradient(2000, 1000), nil); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngData, gradient(500, 250)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		data   []byte
		widths []int
		ct     string
	}{
		{"large JPEG", jpg.Bytes(), []int{320, 640, 960, 1600}, "image/jpeg"},
		{"small PNG", pngData.Bytes(), []int{320, 500}, "image/png"},
		{"WebP", solidWebP(700, 350, color.NRGBA{200, 30, 60, 255}), []int{320, 640, 700}, "image/jpeg"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, files, err := ProcessImage(c.data, "ed@example.com", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var widths []int
			for _, f := range files {
				widths = append(widths, f.Width)
				if f.ContentType != c.ct {
					t.Errorf("width %d stored as %s, want %s", f.Width, f.ContentType, c.ct)
				}
				cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data))
				if err != nil || cfg.Width != f.Width || cfg.Height != max(1, img.Height*f.Width/img.Width) {
					t.Errorf("width %d decodes as %dx%d (%v)", f.Width, cfg.Width, cfg.Height, err)
				}
			}
			if !slices.Equal(widths, c.widths) || len(img.ID) != 24 {
				t.Errorf("widths %v, want %v; id %q", widths, c.widths, img.ID)
			}
		})
	}
	if c := solidWebP(700, 350, color.NRGBA{200, 30, 60, 255}); true {
		_, files, _ := ProcessImage(c, "", time.Now())
		px, _, err := image.Decode(bytes.NewReader(files[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		if r, g, b, _ := px.At(10, 10).RGBA(); r>>8 < 180 || g>>8 > 60 || b>>8 < 40 || b>>8 > 90 {
			t.Errorf("the WebP's colour came out as %d,%d,%d", r>>8, g>>8, b>>8)
		}
	}
	for _, bad := range [][]byte{[]byte("GIF89a......"), []byte("not an image"), {}, jpg.Bytes()[:200]} {
		if _, _, err := ProcessImage(bad, "", time.Now()); kiosko.ErrorCode(err) != kiosko.EINVALID {
			t.Errorf("a bad upload (%d bytes): %v, want EINVALID", len(bad), err)
		}
	}
	// A small file declaring a huge canvas is refused before decoding.
	huge := solidWebP(16000, 16000, color.NRGBA{1, 2, 3, 255})
	if _, _, err := ProcessImage(huge, "", time.Now()); kiosko.ErrorKey(err) != "newsroom.error.image_size" {
		t.Errorf("a 256-megapixel WebP: %v", err)
	}
}

func TestParseMarkdownFile(t *testing.T) {
	in, err := ParseMarkdownFile("dir/la-nota.md", []byte("\xef\xbb\xbf---\r\nedition: es\r\ntitle: \"La nota: sí\"\r\ndek: Breve.\r\nauthors: Ana\r\naccess: subscriber\r\npublished_at: 2026-12-01\r\nstatus: draft\r\n---\r\n\r\nCuerpo *uno*.\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "la-nota" || in.Title != "La nota: sí" || in.Standfirst != "Breve." || !slices.Equal(in.Authors, []string{"Ana"}) ||
		in.Access != "subscriber" || in.Status != "draft" || *in.BodyMarkdown != "Cuerpo *uno*.\n" || !in.PublishedAt.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parsed %+v", in)
	}
	for name, text := range map[string]string{
		"no front matter": "Hola",
		"unclosed":        "---\ntitle: x\n",
		"unknown key":     "---\ntitel: x\naccess: free\n---\n",
		"bad authors":     "---\nauthors: {a: b}\naccess: free\n---\n",
		"no access":       "---\ntitle: x\n---\n",
		"bad date":        "---\naccess: free\npublished_at: ayer\n---\n",
		"bad yaml":        "---\ntitle: [x\naccess: free\n---\n",
	} {
		if _, err := ParseMarkdownFile("x.md", []byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

package newsroom

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"image"
	"image/jpeg"
	"image/png"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decode WebP uploads

	"github.com/kiosko/kiosko"
)

// ImageWidths are the widths an upload is stored in (those narrower than
// the original), served with srcset so a phone loads the small one.
var ImageWidths = []int{320, 640, 960, 1600}

// maxPixels refuses images that would take too much memory to decode
// (a small file can declare a huge canvas).
const maxPixels = 50_000_000

// MaxImageBytes bounds one upload.
const MaxImageBytes = 15 << 20

func errImage() *kiosko.Error {
	return kiosko.FieldError("image_file", "newsroom.error.image_format", "The image must be a JPEG, PNG or WebP file.")
}

// ProcessImage decodes a JPEG, PNG or WebP upload and makes its stored
// widths: JPEG for photographs, PNG for PNG sources (they may be
// transparent). WebP is decoded only: Go has no WebP encoder, and JPEG
// serves every browser.
func ProcessImage(data []byte, by string, now time.Time) (*kiosko.ArticleImage, []kiosko.ImageFile, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png" && format != "webp") {
		return nil, nil, errImage()
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, nil, kiosko.FieldError("image_file", "newsroom.error.image_size", "The image is too large (50 megapixels at most).")
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, nil, errImage()
	}
	b := src.Bounds()
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	img := &kiosko.ArticleImage{ID: hex.EncodeToString(id), Width: b.Dx(), Height: b.Dy(), CreatedAt: now.UTC(), CreatedBy: by}
	var widths []int
	for _, w := range ImageWidths {
		if w < b.Dx() {
			widths = append(widths, w)
		}
	}
	if len(widths) == 0 || b.Dx() <= ImageWidths[len(ImageWidths)-1] {
		widths = append(widths, b.Dx()) // the original width too, when it is not huge
	}
	var files []kiosko.ImageFile
	for _, w := range widths {
		h := max(1, b.Dy()*w/b.Dx())
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Over, nil)
		var buf bytes.Buffer
		ct := "image/jpeg"
		if format == "png" {
			ct = "image/png"
			err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, dst)
		} else {
			err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82})
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, kiosko.ImageFile{ImageID: img.ID, Width: w, ContentType: ct, Data: buf.Bytes()})
	}
	return img, files, nil
}

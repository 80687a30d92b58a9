package simulate

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
)

// PlotTradeoff draws the sweep: honest readers warned (x) against sharing
// accounts caught within 7 days (filled dot) and by the end (ring), one
// numbered point per setting (the numbers of WriteSweep). Standard library
// only, with a tiny built-in digit font.
func PlotTradeoff(w io.Writer, points []Point) error {
	const (
		W, H                  = 900, 560
		left, right, top, bot = 70, 30, 30, 60
	)
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), color.RGBA{255, 255, 255, 255})
	xmax := 0.05
	for _, p := range points {
		xmax = math.Max(xmax, p.HonestWarned*1.1)
	}
	xmax = math.Ceil(xmax*20) / 20 // a multiple of 5%
	px := func(x float64) int { return left + int(x/xmax*float64(W-left-right)) }
	py := func(y float64) int { return H - bot - int(y*float64(H-top-bot)) }
	grid := color.RGBA{225, 225, 225, 255}
	ink := color.RGBA{40, 40, 40, 255}
	// Grid and ticks every 10% up, every 1% (or 5%) across.
	for i := 0; i <= 10; i++ {
		y := py(float64(i) / 10)
		hline(img, left, W-right, y, grid)
		text(img, left-8-textWidth(fmt.Sprint(i*10)+"%", 2), y-5, fmt.Sprint(i*10)+"%", 2, ink)
	}
	step := 0.01
	if xmax > 0.2 {
		step = 0.05
	}
	for x := 0.0; x <= xmax+1e-9; x += step {
		X := px(x)
		vline(img, X, top, H-bot, grid)
		s := fmt.Sprintf("%.0f%%", 100*x)
		text(img, X-textWidth(s, 2)/2, H-bot+8, s, 2, ink)
	}
	hline(img, left, W-right, H-bot, ink)
	vline(img, left, top, H-bot, ink)
	// Target zone: no honest reader warned, 95% caught.
	fill(img, image.Rect(left+1, top, left+4, py(0.95)+1), color.RGBA{60, 170, 90, 255})
	blue := color.RGBA{30, 90, 200, 255}
	red := color.RGBA{210, 60, 40, 255}
	for i, p := range points {
		x := px(p.HonestWarned)
		ring(img, x, py(p.Caught), 6, red)
		disc(img, x, py(p.Caught7), 6, blue)
		text(img, x+10, py(p.Caught7)-5, fmt.Sprint(i+1), 2, ink)
	}
	return png.Encode(w, img)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	fill(img, image.Rect(x0, y, x1+1, y+1), c)
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	fill(img, image.Rect(x, y0, x+1, y1+1), c)
}

func disc(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := -r; y <= r; y++ {
		for x := -r; x <= r; x++ {
			if x*x+y*y <= r*r {
				img.SetRGBA(cx+x, cy+y, c)
			}
		}
	}
}

func ring(img *image.RGBA, cx, cy, r int, c color.RGBA) {
	for y := -r - 1; y <= r+1; y++ {
		for x := -r - 1; x <= r+1; x++ {
			d := x*x + y*y
			if d <= (r+1)*(r+1) && d >= (r-1)*(r-1) {
				img.SetRGBA(cx+x, cy+y, c)
			}
		}
	}
}

// glyphs is a 3×5 font for digits, the percent sign and the point.
var glyphs = map[rune][5]string{
	'0': {"###", "#.#", "#.#", "#.#", "###"},
	'1': {".#.", "##.", ".#.", ".#.", "###"},
	'2': {"###", "..#", "###", "#..", "###"},
	'3': {"###", "..#", "###", "..#", "###"},
	'4': {"#.#", "#.#", "###", "..#", "..#"},
	'5': {"###", "#..", "###", "..#", "###"},
	'6': {"###", "#..", "###", "#.#", "###"},
	'7': {"###", "..#", "..#", "..#", "..#"},
	'8': {"###", "#.#", "###", "#.#", "###"},
	'9': {"###", "#.#", "###", "..#", "###"},
	'%': {"#.#", "..#", ".#.", "#..", "#.#"},
	'.': {"...", "...", "...", "...", ".#."},
}

func textWidth(s string, scale int) int { return len([]rune(s)) * 4 * scale }

func text(img *image.RGBA, x, y int, s string, scale int, c color.RGBA) {
	for _, r := range s {
		g, ok := glyphs[r]
		if ok {
			for row, line := range g {
				for col, ch := range line {
					if ch == '#' {
						fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
					}
				}
			}
		}
		x += 4 * scale
	}
}

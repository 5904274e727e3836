package figure

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// SVG draws f as an inline SVG picture for an HTML page: a strip of dots with the
// median for samples, a line for a series, bars with min–max whiskers for
// bars. Every text in it is escaped.
func SVG(f Figure) template.HTML {
	var b strings.Builder
	switch f.Kind {
	case Series:
		drawSeries(&b, f)
	case Bars:
		drawBars(&b, f)
	default:
		drawSamples(&b, f)
	}
	return template.HTML(b.String()) //nolint:gosec // built from escaped text only
}

const (
	svgWidth  = 640
	svgLeft   = 56
	svgRight  = 16
	plotWidth = svgWidth - svgLeft - svgRight
)

func esc(s string) string { return html.EscapeString(s) }

// Num prints a figure value compactly, as the pictures label it.
func Num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func open(b *strings.Builder, f Figure, height int) {
	fmt.Fprintf(b, `<svg class="fig" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s">`,
		svgWidth, height, esc(f.Name))
	fmt.Fprintf(b, `<title>%s (%s)</title>`, esc(f.Name), esc(f.Unit))
}

// axis draws a horizontal value axis at y from 0 to hi with a few ticks.
func axis(b *strings.Builder, y int, hi float64, unit string) {
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/>`, svgLeft, y, svgLeft+plotWidth, y)
	for i := 0; i <= 4; i++ {
		v := hi * float64(i) / 4
		x := svgLeft + plotWidth*i/4
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/><text x="%d" y="%d" class="tick" text-anchor="middle">%s</text>`,
			x, y, x, y+4, x, y+16, Num(v))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, svgLeft+plotWidth, y+30, esc(unit))
}

func scale(v, hi float64) float64 {
	if hi <= 0 {
		return svgLeft
	}
	return svgLeft + float64(plotWidth)*v/hi
}

func maxOf(v []float64) float64 {
	hi := 0.0
	for _, x := range v {
		hi = math.Max(hi, x)
	}
	return hi
}

func drawSamples(b *strings.Builder, f Figure) {
	open(b, f, 90)
	hi := maxOf(f.Values) * 1.1
	for _, v := range f.Values {
		fmt.Fprintf(b, `<circle cx="%.1f" cy="30" r="5" class="dot"><title>%s %s</title></circle>`, scale(v, hi), Num(v), esc(f.Unit))
	}
	if len(f.Values) > 0 {
		m := f.Median()
		fmt.Fprintf(b, `<line x1="%.1f" y1="14" x2="%.1f" y2="46" class="med"/><text x="%.1f" y="11" class="tick" text-anchor="middle">median %s</text>`,
			scale(m, hi), scale(m, hi), scale(m, hi), Num(m))
	}
	fmt.Fprintf(b, `<text x="4" y="34" class="tick">n=%d</text>`, len(f.Values))
	axis(b, 54, hi, f.Unit)
	b.WriteString(`</svg>`)
}

func drawSeries(b *strings.Builder, f Figure) {
	const top, h = 12, 120
	open(b, f, top+h+40)
	n := min(len(f.X), len(f.Values))
	xhi := 0.0
	if n > 0 {
		xhi = f.X[n-1]
	}
	yhi := maxOf(f.Values) * 1.1
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" class="ax"/>`, svgLeft, top, svgLeft, top+h)
	for i := 0; i <= 2; i++ {
		v := yhi * float64(i) / 2
		y := top + h - h*i/2
		fmt.Fprintf(b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, svgLeft-4, y+4, Num(v))
	}
	var pts []string
	for i := 0; i < n; i++ {
		y := float64(top+h) - float64(h)*f.Values[i]/math.Max(yhi, 1e-9)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", scale(f.X[i], xhi), y))
	}
	fmt.Fprintf(b, `<polyline points="%s" class="line"/>`, strings.Join(pts, " "))
	axis(b, top+h, xhi, "s")
	fmt.Fprintf(b, `<text x="%d" y="%d" class="tick">%s</text>`, svgLeft, top+h+30, esc(f.Unit))
	b.WriteString(`</svg>`)
}

func drawBars(b *strings.Builder, f Figure) {
	const row = 22
	labelW := 0
	for _, bar := range f.Bars {
		labelW = max(labelW, len(bar.Label))
	}
	left := min(svgLeft+labelW*6, svgWidth/2)
	width := svgWidth - left - svgRight - 60
	hi := 0.0
	for _, bar := range f.Bars {
		hi = math.Max(hi, math.Max(bar.Max, bar.Median))
	}
	hi *= 1.05
	x := func(v float64) float64 {
		if hi <= 0 {
			return float64(left)
		}
		return float64(left) + float64(width)*v/hi
	}
	height := len(f.Bars)*row + 30
	open(b, f, height)
	group := ""
	for i, bar := range f.Bars {
		y := 8 + i*row
		if bar.Group != group && i > 0 {
			fmt.Fprintf(b, `<line x1="4" y1="%d" x2="%d" y2="%d" class="sep"/>`, y-3, svgWidth-4, y-3)
		}
		group = bar.Group
		cls := "bar"
		if bar.Baseline {
			cls = "bar floor"
		}
		fmt.Fprintf(b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, left-6, y+12, esc(bar.Label))
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.1f" height="14" class="%s"><title>%s: %s %s (min %s, max %s)</title></rect>`,
			left, y+2, x(bar.Median)-float64(left), cls, esc(bar.Label), Num(bar.Median), esc(f.Unit), Num(bar.Min), Num(bar.Max))
		if bar.Max > bar.Min {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="wh"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="wh"/><line x1="%.1f" y1="%d" x2="%.1f" y2="%d" class="wh"/>`,
				x(bar.Min), y+9, x(bar.Max), y+9, x(bar.Min), y+5, x(bar.Min), y+13, x(bar.Max), y+5, x(bar.Max), y+13)
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%d" class="tick">%s</text>`, x(math.Max(bar.Max, bar.Median))+4, y+12, Num(bar.Median))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" class="tick" text-anchor="end">%s</text>`, svgWidth-svgRight, height-6, esc(f.Unit))
	b.WriteString(`</svg>`)
}

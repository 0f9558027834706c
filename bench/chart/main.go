// Command chart draws the grouped bar chart of bench/run.sh as plain SVG: one
// group per scenario, one bar per implementation (median), a whisker from min
// to max, and a logarithmic jobs/s axis. It has no dependencies.
//
//	chart -title T -subtitle S -o out.svg < rows.tsv
//
// Each input line is: label<TAB>impl<TAB>median<TAB>min<TAB>max. A label may
// hold "|" to break it into lines. Groups and implementations keep the order
// in which they first appear; a missing or non-positive median leaves its
// slot empty (a group measured for one implementation only shows one bar). Lines starting with # are ignored.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

type bar struct{ median, lo, hi float64 }

type chart struct {
	title, subtitle string
	groups          []string
	impls           []string
	bars            map[[2]string]bar
}

func main() {
	title := flag.String("title", "jobs/s", "chart title")
	subtitle := flag.String("subtitle", "", "line under the title")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()

	c, err := read(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	c.title, c.subtitle = *title, *subtitle
	svg := c.svg()
	if *out == "" {
		fmt.Print(svg)
		return
	}
	if err := os.WriteFile(*out, []byte(svg), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func read(r io.Reader) (*chart, error) {
	c := &chart{bars: make(map[[2]string]bar)}
	seenGroup, seenImpl := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) != 5 {
			return nil, fmt.Errorf("line %d: want 5 tab-separated fields, got %d", line, len(f))
		}
		var v [3]float64
		for i := range v {
			x, err := strconv.ParseFloat(f[2+i], 64)
			if err != nil {
				x = math.NaN()
			}
			v[i] = x
		}
		if !seenGroup[f[0]] {
			seenGroup[f[0]] = true
			c.groups = append(c.groups, f[0])
		}
		if !seenImpl[f[1]] {
			seenImpl[f[1]] = true
			c.impls = append(c.impls, f[1])
		}
		c.bars[[2]string{f[0], f[1]}] = bar{v[0], v[1], v[2]}
	}
	return c, sc.Err()
}

var palette = map[string]string{"C": "#7f7f7f", "Go": "#00add8", "PHP": "#777bb4"}
var fallback = []string{"#e15759", "#59a14f", "#edc948", "#b07aa1"}

func (c *chart) color(i int, impl string) string {
	if col, ok := palette[impl]; ok {
		return col
	}
	return fallback[i%len(fallback)]
}

// human writes a rate the way the table does, shortened: 1.6, 640, 5.7k, 148k.
func human(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 1, 64) + "M"
	case v >= 1e5:
		return strconv.FormatFloat(v/1e3, 'f', 0, 64) + "k"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + "k"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 2, 64) + "k"
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// decade labels an axis line: 1, 10, 100, 1k, 10k, 100k, 1M.
func decade(d float64) string {
	switch {
	case d >= 6:
		return strconv.FormatFloat(math.Pow(10, d-6), 'f', -1, 64) + "M"
	case d >= 3:
		return strconv.FormatFloat(math.Pow(10, d-3), 'f', -1, 64) + "k"
	default:
		return strconv.FormatFloat(math.Pow(10, d), 'f', -1, 64)
	}
}

func valid(v float64) bool { return v > 0 && !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c *chart) svg() string {
	// The axis spans whole decades around every value drawn.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range c.bars {
		for _, v := range []float64{b.median, b.lo, b.hi} {
			if valid(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}

	const (
		barW, barGap, groupGap = 30.0, 4.0, 44.0
		left, right, top       = 78.0, 24.0, 92.0
		plotH, labelH          = 380.0, 64.0
	)
	nImpl := float64(max(len(c.impls), 1))
	groupW := nImpl*barW + (nImpl-1)*barGap
	plotW := float64(len(c.groups))*(groupW+groupGap) + groupGap
	width := left + plotW + right
	height := top + plotH + labelH
	y := func(v float64) float64 {
		return top + plotH - (math.Log10(v)-dlo)/(dhi-dlo)*plotH
	}

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif">`+"\n",
		width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%.0f" y="26" font-size="17" font-weight="bold">%s</text>`+"\n", left, esc(c.title))
	if c.subtitle != "" {
		p(`<text x="%.0f" y="46" font-size="12" fill="#444">%s</text>`+"\n", left, esc(c.subtitle))
	}

	// Legend.
	lx := left
	for i, impl := range c.impls {
		p(`<rect x="%.1f" y="58" width="14" height="14" fill="%s"/>`+"\n", lx, c.color(i, impl))
		p(`<text x="%.1f" y="70" font-size="13">%s</text>`+"\n", lx+19, esc(impl))
		lx += 30 + 8*float64(len(impl)) + 20
	}
	p(`<text x="%.1f" y="70" font-size="12" fill="#444">bar = median, whisker = min–max</text>`+"\n", lx+10)

	// Axis, decade grid lines and minor ticks.
	p(`<text transform="translate(18 %.1f) rotate(-90)" font-size="13" text-anchor="middle">jobs/s (log scale)</text>`+"\n", top+plotH/2)
	for d := dlo; d <= dhi; d++ {
		yy := y(math.Pow(10, d))
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#bbb" stroke-width="1"/>`+"\n", left, yy, left+plotW, yy)
		p(`<text x="%.1f" y="%.1f" font-size="12" text-anchor="end">%s</text>`+"\n", left-6, yy+4, decade(d))
		if d < dhi {
			for m := 2.0; m <= 9; m++ {
				ym := y(m * math.Pow(10, d))
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee" stroke-width="1"/>`+"\n", left, ym, left+plotW, ym)
			}
		}
	}
	p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="1"/>`+"\n", left, top, left, top+plotH)
	p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333" stroke-width="1"/>`+"\n", left, top+plotH, left+plotW, top+plotH)

	// Bars.
	base := top + plotH
	for gi, g := range c.groups {
		gx := left + groupGap + float64(gi)*(groupW+groupGap)
		for ii, impl := range c.impls {
			bx := gx + float64(ii)*(barW+barGap)
			v, ok := c.bars[[2]string{g, impl}]
			if !ok || !valid(v.median) {
				continue // not measured: the slot stays empty
			}
			by := y(v.median)
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s jobs/s (median)</title></rect>`+"\n",
				bx, by, barW, math.Max(base-by, 0.5), c.color(ii, impl), esc(strings.ReplaceAll(g, "|", " ")), esc(impl), human(v.median))
			top := by
			if valid(v.lo) && valid(v.hi) && v.hi > v.lo {
				ylo, yhi := y(v.lo), y(v.hi)
				cx := bx + barW/2
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1.2"/>`+"\n", cx, ylo, cx, yhi)
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1.2"/>`+"\n", cx-5, ylo, cx+5, ylo)
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222" stroke-width="1.2"/>`+"\n", cx-5, yhi, cx+5, yhi)
				top = math.Min(top, yhi)
			}
			p(`<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`+"\n", bx+barW/2, top-4, human(v.median))
		}
		// Group label, one line per "|" part.
		for li, part := range strings.Split(g, "|") {
			weight := ""
			if li == 0 {
				weight = ` font-weight="bold"`
			}
			p(`<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle"%s>%s</text>`+"\n",
				gx+groupW/2, base+18+float64(li)*15, weight, esc(strings.TrimSpace(part)))
		}
	}
	p("</svg>\n")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

package bench

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// style is a variant's colour and marker, the same on every chart.
type style struct {
	color color.Color
	glyph draw.GlyphDrawer
	// radius of the marker; open markers are drawn larger, so that a
	// filled one under them stays visible.
	radius vg.Length
}

// variantStyles use the Okabe–Ito palette, which stays distinct for the
// common kinds of colour blindness; every variant also has its own marker.
var variantStyles = map[string]style{
	"seq":       {color.RGBA{0, 0, 0, 255}, draw.CrossGlyph{}, 4},
	"mutex":     {color.RGBA{230, 159, 0, 255}, draw.BoxGlyph{}, 3.5},
	"rwmutex":   {color.RGBA{0, 114, 178, 255}, draw.TriangleGlyph{}, 4.5},
	"stm":       {color.RGBA{0, 158, 115, 255}, draw.CircleGlyph{}, 3.5},
	"hybrid":    {color.RGBA{213, 94, 0, 255}, draw.RingGlyph{}, 5},
	"anacrolix": {color.RGBA{204, 121, 167, 255}, draw.PyramidGlyph{}, 4},
	"syncmap":   {color.RGBA{86, 180, 233, 255}, draw.SquareGlyph{}, 4},
	"xsync":     {color.RGBA{120, 80, 40, 255}, diamondGlyph{}, 4.5},
	"stm-txds":  {color.RGBA{0, 90, 60, 255}, draw.PlusGlyph{}, 4.5},
	"tasks":     {color.RGBA{240, 228, 66, 255}, downTriangleGlyph{}, 4.5},
}

// diamondGlyph draws a filled diamond (gonum/plot has eight glyphs; the
// variants need nine).
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetColor(sty.Color)
	r := sty.Radius
	p := make(vg.Path, 0, 5)
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.Fill(p)
}

// downTriangleGlyph draws a filled triangle pointing down (the tenth
// marker).
type downTriangleGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (downTriangleGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetColor(sty.Color)
	r := sty.Radius
	p := make(vg.Path, 0, 4)
	p.Move(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r*0.6})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y + r*0.6})
	p.Close()
	c.Fill(p)
}

// variantStyle returns name's style (grey rings for an unknown one).
func variantStyle(name string) style {
	if s, ok := variantStyles[name]; ok {
		return s
	}
	return style{color.RGBA{128, 128, 128, 255}, draw.RingGlyph{}, 4}
}

// Chart size and layout, in points.
const (
	chartW      = 11 * vg.Inch
	chartH      = 4.6 * vg.Inch
	chartDPI    = 96
	titleH      = 26
	legendW     = 118
	captionSize = 9
)

// WriteCharts writes one PNG per workload (and update ratio) into dir and
// returns the file names written, relative to dir. A chart has two panels
// against the goroutine count: throughput (seq as a dashed horizontal
// line, its single-goroutine level) and latency (p99.9 solid, p50 dashed),
// both on log scales fitted to the data, with one legend beside them and a
// caption naming the machine, the HTM mode, the Go version and the date.
func WriteCharts(dir string, rep Report) ([]string, error) {
	var names []string
	for _, k := range groups(rep.Results) {
		name := k.fileName() + ".png"
		if err := writeChart(filepath.Join(dir, name), k, rep); err != nil {
			return names, fmt.Errorf("chart %s: %w", name, err)
		}
		names = append(names, name)
	}
	return names, nil
}

// ChartFile returns the chart file name WriteCharts uses for a workload at
// an update ratio (-1: none).
func ChartFile(workload string, update int) string {
	return groupKey{workload, update}.fileName() + ".png"
}

// Caption returns the line a chart carries about where its data comes from.
func Caption(m Machine) string {
	parts := []string{
		fmt.Sprintf("CPU %s, %d cores (GOMAXPROCS %d), %s/%s", m.CPU, m.Cores, m.GOMAXPROCS, m.OS, m.Arch),
		fmt.Sprintf("HTM mode %s: %s", m.HTMMode, m.HTM),
		m.GoVersion,
	}
	if !m.Date.IsZero() {
		parts = append(parts, m.Date.Format("2006-01-02"))
	}
	return strings.Join(parts, " · ")
}

// series is one variant's data in a group: throughput and latency
// percentiles per goroutine count.
type series struct {
	variant          string
	tput, p50, p999  plotter.XYs
	style            style
	hasTput, hasLate bool
}

func writeChart(path string, k groupKey, rep Report) error {
	var gs []int
	var ss []*series
	for _, v := range chartOrder(rep.Results) {
		s := &series{variant: v, style: variantStyle(v)}
		for _, r := range rep.Results {
			if r.Workload != k.Workload || r.Update != k.Update || r.Variant != v {
				continue
			}
			if !slices.Contains(gs, r.Goroutines) {
				gs = append(gs, r.Goroutines)
			}
			x := float64(r.Goroutines)
			if r.TxPerSec > 0 {
				s.tput = append(s.tput, plotter.XY{X: x, Y: r.TxPerSec})
			}
			if l := r.Latency; l != nil && l.P50 > 0 && l.P999 > 0 {
				s.p50 = append(s.p50, plotter.XY{X: x, Y: l.P50})
				s.p999 = append(s.p999, plotter.XY{X: x, Y: l.P999})
			}
		}
		slices.SortFunc(s.tput, func(a, b plotter.XY) int { return int(a.X - b.X) })
		slices.SortFunc(s.p50, func(a, b plotter.XY) int { return int(a.X - b.X) })
		slices.SortFunc(s.p999, func(a, b plotter.XY) int { return int(a.X - b.X) })
		s.hasTput, s.hasLate = len(s.tput) > 0, len(s.p999) > 0
		if s.hasTput || s.hasLate {
			ss = append(ss, s)
		}
	}
	if len(gs) == 0 {
		return fmt.Errorf("no data")
	}
	slices.Sort(gs)

	tput, err := throughputPlot(gs, ss)
	if err != nil {
		return err
	}
	lat, err := latencyPlot(gs, ss)
	if err != nil {
		return err
	}

	img := vgimg.NewWith(vgimg.UseWH(chartW, chartH), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	titleSty := textStyle(13)
	titleSty.XAlign = draw.XCenter
	dc.FillText(titleSty, vg.Point{X: chartW / 2, Y: chartH - titleH + 8}, k.String())

	capSty := textStyle(captionSize)
	capSty.Color = color.Gray{Y: 70}
	lines := wrapCaption(capSty, Caption(rep.Machine), chartW-20)
	capH := vg.Length(len(lines))*(captionSize+3) + 6
	for i, l := range lines {
		dc.FillText(capSty, vg.Point{X: 10, Y: capH - 6 - vg.Length(i+1)*(captionSize+3) + 3}, l)
	}

	body := draw.Crop(dc, 4, -legendW, capH, -titleH)
	panelW := (body.Max.X - body.Min.X) / 2
	left := draw.Crop(body, 0, -panelW, 0, 0)
	right := draw.Crop(body, panelW+8, 0, 0, 0)
	if tput != nil {
		tput.Draw(left)
	}
	if lat != nil {
		lat.Draw(right)
	}

	leg := legend(ss, lat != nil)
	legCanvas := draw.Crop(dc, chartW-legendW+6, 0, capH, -titleH-10)
	leg.Draw(legCanvas)

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// chartOrder returns the variants of rs in the canonical order, then any
// others in order of appearance.
func chartOrder(rs []*Result) []string {
	var vs []string
	for _, v := range variantOrder {
		if slices.ContainsFunc(rs, func(r *Result) bool { return r.Variant == v }) {
			vs = append(vs, v)
		}
	}
	for _, r := range rs {
		if !slices.Contains(vs, r.Variant) {
			vs = append(vs, r.Variant)
		}
	}
	return vs
}

func textStyle(size vg.Length) text.Style {
	return text.Style{Font: font.From(plot.DefaultFont, size), Handler: plot.DefaultTextHandler, Color: color.Black}
}

// wrapCaption breaks the caption at its " · " separators into lines no
// wider than w.
func wrapCaption(sty text.Style, s string, w vg.Length) []string {
	var lines []string
	cur := ""
	for _, part := range strings.Split(s, " · ") {
		next := part
		if cur != "" {
			next = cur + " · " + part
		}
		if cur != "" && sty.Width(next) > w {
			lines = append(lines, cur)
			next = part
		}
		cur = next
	}
	return append(lines, cur)
}

// newPanel returns a plot with the goroutine counts as x ticks and a log y
// axis fitted to [lo, hi].
func newPanel(gs []int, ylabel string, lo, hi float64, format func(float64) string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text = "goroutines"
	p.Y.Label.Text = ylabel
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{format}
	p.Add(plotter.NewGrid())
	var ticks []plot.Tick
	for _, g := range gs {
		ticks = append(ticks, plot.Tick{Value: float64(g), Label: strconv.Itoa(g)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	xmin, xmax := float64(gs[0]), float64(gs[len(gs)-1])
	if xmin == xmax {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	p.X.Min, p.X.Max = xmin-0.08*(xmax-xmin), xmax+0.08*(xmax-xmin)
	p.Y.Min, p.Y.Max = fitLog(lo, hi)
	return p
}

// fitLog pads [lo, hi] by a tenth of a decade on each side (more for a
// range narrower than a third of a decade, so that it gets labelled
// ticks), and no further: the axis shows the data, not empty decades.
func fitLog(lo, hi float64) (float64, float64) {
	pad := 1.25
	if hi/lo < 2 {
		pad = math.Sqrt(2 / (hi / lo) * 1.25 * 1.25)
	}
	return lo / pad, hi * pad
}

func throughputPlot(gs []int, ss []*series) (*plot.Plot, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for _, xy := range s.tput {
			lo, hi = min(lo, xy.Y), max(hi, xy.Y)
		}
	}
	if math.IsInf(lo, 0) {
		return nil, nil
	}
	p := newPanel(gs, "transactions per second", lo, hi, SI)
	for _, s := range ss {
		if !s.hasTput {
			continue
		}
		if s.variant == "seq" {
			// seq runs one goroutine: draw its level across the chart.
			y := s.tput[0].Y
			l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: y}, {X: p.X.Max, Y: y}})
			if err != nil {
				return nil, err
			}
			l.Color = s.style.color
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			l.Width = vg.Points(1.2)
			p.Add(l)
		}
		if err := addLine(p, s.tput, s.style, s.variant != "seq", nil, 1.5, 1); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func latencyPlot(gs []int, ss []*series) (*plot.Plot, error) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		for i := range s.p50 {
			lo, hi = min(lo, s.p50[i].Y), max(hi, s.p999[i].Y)
		}
	}
	if math.IsInf(lo, 0) {
		return nil, nil
	}
	p := newPanel(gs, "latency per operation", lo, hi, Nanos)
	for _, s := range ss {
		if !s.hasLate {
			continue
		}
		if err := addLine(p, s.p999, s.style, true, nil, 1.5, 1); err != nil {
			return nil, err
		}
		if err := addLine(p, s.p50, s.style, true, p50Dashes, 1, 0.7); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// p50Dashes is the dash pattern of the p50 lines.
var p50Dashes = []vg.Length{vg.Points(4), vg.Points(2.5)}

// addLine adds xys to p in style s: a line (when line is set, with dashes)
// and the variant's markers, scaled by glyphScale.
func addLine(p *plot.Plot, xys plotter.XYs, s style, line bool, dashes []vg.Length, width, glyphScale vg.Length) error {
	if line && len(xys) > 1 {
		l, err := plotter.NewLine(xys)
		if err != nil {
			return err
		}
		l.Color = s.color
		l.Width = vg.Points(float64(width))
		l.Dashes = dashes
		p.Add(l)
	}
	sc, err := plotter.NewScatter(xys)
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Shape: s.glyph, Radius: s.radius * glyphScale}
	p.Add(sc)
	return nil
}

// legend lists the variants (line and marker) and, with the latency
// panel, what the solid and dashed lines there mean.
func legend(ss []*series, latency bool) plot.Legend {
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = 11
	leg.Padding = 4
	leg.ThumbnailWidth = vg.Points(24)
	for _, s := range ss {
		l := &plotter.Line{LineStyle: draw.LineStyle{Color: s.style.color, Width: vg.Points(1.5)}}
		name := s.variant
		if s.variant == "seq" {
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			name = "seq (1 g)"
		}
		g := &plotter.Scatter{GlyphStyle: draw.GlyphStyle{Color: s.style.color, Shape: s.style.glyph, Radius: s.style.radius}}
		leg.Add(name, l, g)
	}
	if latency {
		leg.Add("")
		grey := color.Gray{Y: 90}
		leg.Add("latency:")
		leg.Add("p99.9", &plotter.Line{LineStyle: draw.LineStyle{Color: grey, Width: vg.Points(1.5)}})
		leg.Add("p50", &plotter.Line{LineStyle: draw.LineStyle{Color: grey, Width: vg.Points(1), Dashes: p50Dashes}})
	}
	return leg
}

// logTicks are log-scale ticks: labelled at the sparsest of 1, 1-3, 1-2-5
// and denser mantissas per decade that gives at least three labels in the
// range, unlabelled minor ticks at the other integers, labels formatted by
// format.
type logTicks struct{ format func(float64) string }

// Ticks implements plot.Ticker.
func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	sets := [][]float64{{1}, {1, 3}, {1, 2, 5}, {1, 1.5, 2, 3, 5, 7}, {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7, 8, 9}}
	e0, e1 := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	in := func(v float64) bool { return v >= lo*(1-1e-9) && v <= hi*(1+1e-9) }
	var major []float64
	for _, set := range sets {
		major = major[:0]
		for e := e0; e <= e1; e++ {
			for _, m := range set {
				if v := m * math.Pow10(e); in(v) {
					major = append(major, v)
				}
			}
		}
		if len(major) >= 3 {
			break
		}
	}
	var ts []plot.Tick
	for _, v := range major {
		ts = append(ts, plot.Tick{Value: v, Label: t.format(v)})
	}
	for e := e0; e <= e1; e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow10(e)
			if in(v) && !slices.ContainsFunc(major, func(x float64) bool { return math.Abs(x-v) < 1e-9*v }) {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}

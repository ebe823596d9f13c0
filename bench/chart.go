package bench

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// variantStyle gives each variant a fixed colour and marker across charts.
func variantStyle(name string) (color.Color, draw.GlyphDrawer) {
	i := slices.Index(variantOrder, name)
	if i < 0 {
		i = len(variantOrder)
	}
	return plotutil.Color(i), plotutil.Shape(i)
}

// WriteCharts writes one PNG per workload (and update ratio) into dir:
// throughput against goroutines, one line per variant, seq as a dashed
// horizontal line (its single-goroutine throughput), on a log scale. It
// returns the file names written, relative to dir.
func WriteCharts(dir string, rs []*Result) ([]string, error) {
	var names []string
	for _, k := range groups(rs) {
		name := k.fileName() + ".png"
		if err := writeChart(filepath.Join(dir, name), k, rs); err != nil {
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

func writeChart(path string, k groupKey, rs []*Result) error {
	p := plot.New()
	p.Title.Text = k.String()
	p.X.Label.Text = "goroutines"
	p.Y.Label.Text = "transactions per second"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = siTicks{}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	var gs []int
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		if r.Workload == k.Workload && r.Update == k.Update && r.TxPerSec > 0 {
			if !slices.Contains(gs, r.Goroutines) {
				gs = append(gs, r.Goroutines)
			}
			ymin, ymax = min(ymin, r.TxPerSec), max(ymax, r.TxPerSec)
		}
	}
	if len(gs) == 0 {
		return fmt.Errorf("no data")
	}
	slices.Sort(gs)
	var ticks []plot.Tick
	for _, g := range gs {
		ticks = append(ticks, plot.Tick{Value: float64(g), Label: strconv.Itoa(g)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	xmin, xmax := float64(gs[0]), float64(gs[len(gs)-1])
	if xmin == xmax {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	p.X.Min, p.X.Max = xmin-0.1*(xmax-xmin), xmax+0.1*(xmax-xmin)
	// Leave room for the legend above the highest line.
	p.Y.Min, p.Y.Max = ymin/2, ymax*20

	for _, v := range variantOrder {
		var xys plotter.XYs
		for _, g := range gs {
			if r := find(rs, k, v, g); r != nil && r.TxPerSec > 0 {
				xys = append(xys, plotter.XY{X: float64(g), Y: r.TxPerSec})
			}
		}
		if len(xys) == 0 {
			continue
		}
		c, shape := variantStyle(v)
		if v == "seq" {
			// seq runs one goroutine: draw its level across the chart.
			y := xys[0].Y
			l, err := plotter.NewLine(plotter.XYs{{X: p.X.Min, Y: y}, {X: p.X.Max, Y: y}})
			if err != nil {
				return err
			}
			l.Color = c
			l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			l.Width = vg.Points(1.5)
			p.Add(l)
			p.Legend.Add("seq (1 goroutine)", l)
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color = c
		l.Width = vg.Points(1.5)
		pts.Color = c
		pts.Shape = shape
		p.Add(l, pts)
		p.Legend.Add(v, l, pts)
	}
	return p.Save(6*vg.Inch, 4*vg.Inch, path)
}

// siTicks are log-scale ticks labelled with SI suffixes (10k, 1M).
type siTicks struct{}

// Ticks implements plot.Ticker.
func (siTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = SI(ts[i].Value)
		}
	}
	return ts
}

// Package htmlreport writes a load test's page: the summary, latency over time (p50, p90, p99 and
// max per second), throughput over time, and the HDR percentile distribution, drawn as inline SVG.
// The page loads nothing: it opens from a CI artifact, offline, as it is.
package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/stats"
)

// Page is what the report shows.
type Page struct {
	Title string
	// Text is the text summary, shown as it is.
	Text         string
	Series       []stats.Point
	Distribution []stats.Quantile
	// SLO draws a p99 objective line on the latency charts when not zero.
	SLO time.Duration
}

// Write renders the page.
func Write(w io.Writer, p Page) error {
	data := struct {
		Title, Text               string
		Latency, Throughput, Dist template.HTML
		SLO                       bool
	}{Title: p.Title, Text: p.Text, SLO: p.SLO > 0,
		Latency:    latencyChart(p.Series, p.SLO),
		Throughput: throughputChart(p.Series),
		Dist:       distributionChart(p.Distribution, p.SLO)}
	return page.Execute(w, data)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}
pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;font-size:12px}
svg{background:#fff;border:1px solid #ddd;margin:.5em 0}
svg text{font:11px sans-serif;fill:#444}
.grid{stroke:#eee}.axis{stroke:#888}.slo{stroke:#c00;stroke-dasharray:4 3}
.legend span{display:inline-block;margin-right:1em}.legend i{display:inline-block;width:1.5em;height:3px;vertical-align:middle;margin-right:.3em}
</style></head><body>
<h1>{{.Title}}</h1>
<pre>{{.Text}}</pre>
<h2>Latency over time</h2>
<p class="legend"><span><i style="background:#2a7"></i>p50</span><span><i style="background:#27c"></i>p90</span><span><i style="background:#e80"></i>p99</span><span><i style="background:#c33"></i>max</span>{{if .SLO}}<span><i style="background:#c00"></i>p99 objective</span>{{end}} (per second of request start; log scale)</p>
{{.Latency}}
<h2>Throughput over time</h2>
<p class="legend"><span><i style="background:#999"></i>sent</span><span><i style="background:#2a7"></i>successful</span> (requests per second)</p>
{{.Throughput}}
<h2>Latency distribution (HDR histogram)</h2>
<p>Latency at each percentile of the whole run; the x axis stretches the tail (1/(1−p), log scale). The same data is in latency.hgrm.</p>
{{.Dist}}
</body></html>
`))

// Chart geometry.
const (
	width, height = 940, 300
	left, right   = 60, 20
	top, bottom   = 15, 35
	plotW, plotH  = width - left - right, height - top - bottom
)

// logScale maps a positive value to the plot's height on a log axis spanning whole decades.
type logScale struct{ lo, hi float64 } // log10 bounds

func newLogScale(min, max float64) logScale {
	min, max = math.Max(min, 1e-3), math.Max(max, 1e-3)
	s := logScale{math.Floor(math.Log10(min)), math.Ceil(math.Log10(max))}
	if s.hi <= s.lo {
		s.hi = s.lo + 1
	}
	return s
}

func (s logScale) y(v float64) float64 {
	v = math.Max(v, math.Pow(10, s.lo))
	return top + plotH - plotH*(math.Log10(v)-s.lo)/(s.hi-s.lo)
}

func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtMS(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%gms", v)
	}
	return fmt.Sprintf("%gµs", v*1000)
}

// yLogAxis draws the grid and labels of each decade.
func yLogAxis(b *strings.Builder, s logScale) {
	for e := s.lo; e <= s.hi; e++ {
		v := math.Pow(10, e)
		y := s.y(v)
		fmt.Fprintf(b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`,
			left, left+plotW, y, y, left-5, y+4, fmtMS(v))
	}
}

func frame(b *strings.Builder) {
	fmt.Fprintf(b, `<line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/><line class="axis" x1="%d" x2="%d" y1="%d" y2="%d"/>`,
		left, left+plotW, top+plotH, top+plotH, left, left, top, top+plotH)
}

func svg(body string) template.HTML {
	// The content is built from numbers and fixed labels only: nothing from the run is embedded.
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">%s</svg>`,
		width, height, width, height, body))
}

func empty() template.HTML { return template.HTML("<p><em>No results.</em></p>") }

// xTime maps the i-th second of n to the plot's width, and labels the axis in seconds.
func xTime(b *strings.Builder, n int) func(i int) float64 {
	x := func(i int) float64 {
		if n <= 1 {
			return left + plotW/2
		}
		return left + float64(plotW)*float64(i)/float64(n-1)
	}
	step := max(1, n/10)
	for i := 0; i < n; i += step {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%ds</text>`, x(i), top+plotH+15, i)
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">seconds since the first request</text>`, left+plotW/2, height-3)
	return x
}

func polyline(b *strings.Builder, color string, pts []string) {
	if len(pts) > 0 {
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, color, strings.Join(pts, " "))
	}
}

func latencyChart(series []stats.Point, slo time.Duration) template.HTML {
	if len(series) == 0 {
		return empty()
	}
	lo, hi := math.Inf(1), msOf(slo)
	for _, p := range series {
		if p.Requests > 0 {
			lo, hi = math.Min(lo, msOf(p.P50)), math.Max(hi, msOf(p.Max))
		}
	}
	s := newLogScale(lo, hi)
	var b strings.Builder
	yLogAxis(&b, s)
	x := xTime(&b, len(series))
	for _, line := range []struct {
		color string
		v     func(stats.Point) time.Duration
	}{
		{"#2a7", func(p stats.Point) time.Duration { return p.P50 }},
		{"#27c", func(p stats.Point) time.Duration { return p.P90 }},
		{"#e80", func(p stats.Point) time.Duration { return p.P99 }},
		{"#c33", func(p stats.Point) time.Duration { return p.Max }},
	} {
		var pts []string
		for i, p := range series {
			if p.Requests == 0 {
				polyline(&b, line.color, pts) // a gap: no request that second
				pts = nil
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), s.y(msOf(line.v(p)))))
		}
		polyline(&b, line.color, pts)
	}
	if slo > 0 {
		y := s.y(msOf(slo))
		fmt.Fprintf(&b, `<line class="slo" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, left+plotW, y, y)
	}
	frame(&b)
	return svg(b.String())
}

func throughputChart(series []stats.Point) template.HTML {
	if len(series) == 0 {
		return empty()
	}
	var peak uint64 = 1
	for _, p := range series {
		peak = max(peak, p.Requests)
	}
	top10 := math.Pow(10, math.Ceil(math.Log10(float64(peak))))
	ceil := top10
	for _, f := range []float64{0.2, 0.25, 0.5} { // the smallest round bound above the peak
		if top10*f >= float64(peak) {
			ceil = top10 * f
			break
		}
	}
	y := func(v uint64) float64 { return top + plotH - plotH*float64(v)/ceil }
	var b strings.Builder
	for i := 0; i <= 4; i++ {
		v := ceil * float64(i) / 4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/><text x="%d" y="%.1f" text-anchor="end">%g/s</text>`,
			left, left+plotW, y(uint64(v)), y(uint64(v)), left-5, y(uint64(v))+4, v)
	}
	x := xTime(&b, len(series))
	var sent, ok []string
	for i, p := range series {
		sent = append(sent, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Requests)))
		ok = append(ok, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Successes)))
	}
	polyline(&b, "#999", sent)
	polyline(&b, "#2a7", ok)
	frame(&b)
	return svg(b.String())
}

func distributionChart(dist []stats.Quantile, slo time.Duration) template.HTML {
	if len(dist) == 0 {
		return empty()
	}
	// x is log10(1/(1-p)): 0 at p=0, 1 at 90%, 2 at 99%... up to the run's last percentile.
	tail := func(p float64) float64 {
		q := math.Min(p/100, 1-1e-6)
		return math.Log10(1 / (1 - q))
	}
	maxX := math.Max(2, math.Ceil(tail(dist[len(dist)-1].Percentile)))
	lo, hi := math.Inf(1), msOf(slo)
	for _, q := range dist {
		lo, hi = math.Min(lo, msOf(q.Latency)), math.Max(hi, msOf(q.Latency))
	}
	s := newLogScale(lo, hi)
	var b strings.Builder
	yLogAxis(&b, s)
	x := func(p float64) float64 { return left + float64(plotW)*tail(p)/maxX }
	for e := 0.0; e <= maxX; e++ {
		p := 100 * (1 - math.Pow(10, -e))
		fmt.Fprintf(&b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/><text x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			x(p), x(p), top, top+plotH, x(p), top+plotH+15, strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.5f", p), "0"), ".")+"%")
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">percentile</text>`, left+plotW/2, height-3)
	var pts []string
	for _, q := range dist {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(q.Percentile), s.y(msOf(q.Latency))))
	}
	polyline(&b, "#27c", pts)
	if slo > 0 {
		y := s.y(msOf(slo))
		fmt.Fprintf(&b, `<line class="slo" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, left, left+plotW, y, y)
	}
	frame(&b)
	return svg(b.String())
}

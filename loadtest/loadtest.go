// Package loadtest writes what a load run produces: vegeta's own result encoding (results.bin, so
// that `vegeta report` and `vegeta plot` read it), a text and a JSON summary, the HDR latency
// distribution (latency.hgrm), vegeta's interactive latency plot (plot.html) and a self-contained
// report page (report.html). The paths are in loadtest/scenario, the attacks in loadtest/runner.
package loadtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest/ceiling"
	"github.com/oauth-harness/oauth-harness/loadtest/htmlreport"
	"github.com/oauth-harness/oauth-harness/loadtest/runner"
	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

// The files of a run, in its output directory.
const (
	ResultsFile     = "results.bin"
	SummaryText     = "summary.txt"
	SummaryJSON     = "summary.json"
	HistogramFile   = "latency.hgrm"
	PlotFile        = "plot.html"
	ReportFile      = "report.html"
	plotDownsample  = 4000 // points per series: plenty for a screen
	maxPlotRequests = 5_000_000
)

// Outputs collects a run's results as they come and writes its files. Add is called from one
// goroutine (the attack's); Recorder may be read concurrently.
type Outputs struct {
	dir     string
	rec     *stats.Recorder
	plot    *plot.Plot
	file    *os.File
	buf     *bufio.Writer
	enc     vegeta.Encoder
	encErr  error
	plotted int
}

// Create makes dir and, when withResults, opens results.bin in it.
func Create(dir, title string, withResults bool) (*Outputs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	o := &Outputs{dir: dir, rec: stats.NewRecorder(), plot: plot.New(plot.Title(title), plot.Downsample(plotDownsample))}
	if withResults {
		f, err := os.Create(filepath.Join(dir, ResultsFile))
		if err != nil {
			return nil, fmt.Errorf("loadtest: %w", err)
		}
		o.file, o.buf = f, bufio.NewWriterSize(f, 256<<10)
		o.enc = vegeta.NewEncoder(o.buf)
	}
	return o, nil
}

// Recorder is the run's statistics so far.
func (o *Outputs) Recorder() *stats.Recorder { return o.rec }

// Add records one result everywhere.
func (o *Outputs) Add(r *vegeta.Result) {
	o.rec.Add(r)
	if o.plotted < maxPlotRequests {
		o.plotted++
		_ = o.plot.Add(r) // only out-of-sequence results fail, and they are left out of the plot
	}
	if o.enc != nil && o.encErr == nil {
		o.encErr = o.enc.Encode(r)
	}
}

// Close finishes the result file and writes the summaries, the histogram and the pages for rep
// (whose Summary it fills in). It returns the files written.
func (o *Outputs) Close(rep *Report) ([]string, error) {
	var errs []error
	var files []string
	if o.file != nil {
		errs = append(errs, o.encErr, o.buf.Flush(), o.file.Close())
		files = append(files, filepath.Join(o.dir, ResultsFile))
	}
	rep.Summary = o.rec.Summary()
	rep.Missed = rep.check()
	write := func(name string, render func(*bytes.Buffer) error) {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			return
		}
		p := filepath.Join(o.dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			errs = append(errs, err)
			return
		}
		files = append(files, p)
	}
	text := rep.Text()
	write(SummaryText, func(b *bytes.Buffer) error { _, err := b.WriteString(text); return err })
	write(SummaryJSON, func(b *bytes.Buffer) error {
		enc := json.NewEncoder(b)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	})
	write(HistogramFile, func(b *bytes.Buffer) error { return o.rec.WriteHGRM(b) })
	write(ReportFile, func(b *bytes.Buffer) error {
		return htmlreport.Write(b, htmlreport.Page{Title: rep.Title, Text: text, Series: o.rec.Series(),
			Distribution: o.rec.Distribution(), SLO: rep.objective()})
	})
	o.plot.Close()
	write(PlotFile, func(b *bytes.Buffer) error { _, err := o.plot.WriteTo(b); return err })
	return files, errors.Join(errs...)
}

// Gates are the objectives a run must meet for the command to succeed; zero values are off.
type Gates struct {
	MaxP99     time.Duration `json:"max_p99_ns,omitempty"`
	MinSuccess float64       `json:"min_success,omitempty"` // 0-1
}

// Check returns one line per missed objective.
func (g Gates) Check(s stats.Summary) []string {
	var missed []string
	if g.MaxP99 > 0 && (s.Requests == 0 || s.Latency.P99 > g.MaxP99) {
		missed = append(missed, fmt.Sprintf("p99 %s is over the --max-p99 %s", stats.Dur(s.Latency.P99), stats.Dur(g.MaxP99)))
	}
	if g.MinSuccess > 0 && (s.Requests == 0 || s.SuccessRatio < g.MinSuccess) {
		missed = append(missed, fmt.Sprintf("success %.3f%% is under the --min-success %.3f%%", 100*s.SuccessRatio, 100*g.MinSuccess))
	}
	return missed
}

// Report is a run: what was attacked, how, and what came of it.
type Report struct {
	Title       string           `json:"title"`
	Target      string           `json:"target"`
	Scenario    string           `json:"scenario"`
	Description string           `json:"description"`
	Mode        string           `json:"mode"`
	Summary     stats.Summary    `json:"summary"`
	Search      *runner.Result   `json:"search,omitempty"`
	Ceiling     *ceiling.Ceiling `json:"ceiling,omitempty"`
	// Stopped says why the attack ended before its time (a pool ran dry, an interrupt).
	Stopped string   `json:"stopped,omitempty"`
	Gates   Gates    `json:"gates"`
	Missed  []string `json:"missed"`
	// SearchP99 is a search's latency objective, drawn on the report's charts.
	SearchP99 time.Duration `json:"-"`
}

// objective is the p99 line of the charts: the gate, else the search's objective.
func (r *Report) objective() time.Duration {
	if r.Gates.MaxP99 > 0 {
		return r.Gates.MaxP99
	}
	return r.SearchP99
}

// check applies the gates: to the whole run, or in a search to the highest rate that held the SLO
// (a search that found none misses).
func (r *Report) check() []string {
	if r.Search == nil {
		return append([]string{}, r.Gates.Check(r.Summary)...)
	}
	if r.Search.BestAt == nil {
		return []string{"no rate held the SLO"}
	}
	return append([]string{}, r.Gates.Check(r.Search.BestAt.Summary)...)
}

// Text is the summary for people.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Title)
	if r.Target != "" {
		fmt.Fprintf(&b, "target        %s\n", r.Target)
	}
	if r.Description != "" {
		fmt.Fprintf(&b, "path          %s\n", r.Description)
	}
	if r.Mode != "" {
		fmt.Fprintf(&b, "mode          %s\n", r.Mode)
	}
	if r.Stopped != "" {
		fmt.Fprintf(&b, "STOPPED       %s\n", r.Stopped)
	}
	if s := r.Search; s != nil {
		for _, st := range s.Steps {
			verdict := "held"
			if !st.Pass {
				verdict = "MISSED"
			}
			fmt.Fprintf(&b, "step          %6.0f/s: sent %.0f/s, p99 %s, success %.3f%%: %s (%s)\n", st.Rate, st.Summary.Rate,
				stats.Dur(st.Summary.Latency.P99), 100*st.Summary.SuccessRatio, verdict, st.Why)
		}
		if s.Best > 0 {
			fmt.Fprintf(&b, "highest rate  %.0f/s held the SLO\n", s.Best)
		} else {
			b.WriteString("highest rate  none: no step held the SLO\n")
		}
		fmt.Fprintf(&b, "search ended  %s\n", s.Stopped)
		b.WriteString("all steps together:\n")
	}
	_ = r.Summary.WriteText(&b)
	if r.Ceiling != nil {
		b.WriteString(r.Ceiling.String())
	}
	switch {
	case r.Gates == Gates{}:
	case len(r.Missed) == 0:
		b.WriteString("objectives    met\n")
	default:
		for _, m := range r.Missed {
			fmt.Fprintf(&b, "MISSED        %s\n", m)
		}
	}
	return b.String()
}

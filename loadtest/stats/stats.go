// Package stats turns vegeta results into the load test's figures: a summary (rate, throughput,
// success ratio, latency percentiles from an HDR histogram, status codes, errors), the HDR percentile
// distribution (.hgrm), and a per-second series for plotting. Results from several files (several
// generator hosts) merge into one.
package stats

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Latencies are recorded in microseconds from 1 µs to maxLatency, to 3 significant digits (the
// per-second series to 2, which is plenty for a plot and a tenth of the memory).
const (
	maxLatency = 5 * time.Minute
	digits     = 3
)

// Recorder accumulates results. It is safe for concurrent use (a progress line reads it while the
// attack writes).
type Recorder struct {
	mu        sync.Mutex
	hist      *hdrhistogram.Histogram
	requests  uint64
	successes uint64
	codes     map[uint16]uint64
	errors    map[string]uint64
	earliest  time.Time
	latest    time.Time
	end       time.Time
	bytesIn   uint64
	bytesOut  uint64
	seconds   map[int64]*second
}

// second is one second of the attack, by the requests' start time.
type second struct {
	requests, successes uint64
	hist                *hdrhistogram.Histogram
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{hist: newHist(digits), codes: map[uint16]uint64{}, errors: map[string]uint64{}, seconds: map[int64]*second{}}
}

func newHist(d int) *hdrhistogram.Histogram {
	return hdrhistogram.New(1, maxLatency.Microseconds(), d)
}

// Success is the harness's rule: a 2xx or 3xx without an error. vegeta's own report goes by the
// status code alone, so a 200 that a scenario failed on its body (an inactive introspection) is a
// success there and a failure here.
func Success(r *vegeta.Result) bool { return r.Code >= 200 && r.Code < 400 && r.Error == "" }

func micros(d time.Duration) int64 {
	return min(max(d.Microseconds(), 1), maxLatency.Microseconds())
}

// Add records a result.
func (rec *Recorder) Add(r *vegeta.Result) {
	us := micros(r.Latency)
	ok := Success(r)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.requests++
	rec.codes[r.Code]++
	if ok {
		rec.successes++
	}
	if r.Error != "" {
		rec.errors[r.Error]++
	}
	_ = rec.hist.RecordValue(us) // clamped into range above: cannot fail
	if rec.earliest.IsZero() || r.Timestamp.Before(rec.earliest) {
		rec.earliest = r.Timestamp
	}
	if r.Timestamp.After(rec.latest) {
		rec.latest = r.Timestamp
	}
	if e := r.End(); e.After(rec.end) {
		rec.end = e
	}
	rec.bytesIn += r.BytesIn
	rec.bytesOut += r.BytesOut
	sec := rec.seconds[r.Timestamp.Unix()]
	if sec == nil {
		sec = &second{hist: newHist(2)}
		rec.seconds[r.Timestamp.Unix()] = sec
	}
	sec.requests++
	if ok {
		sec.successes++
	}
	_ = sec.hist.RecordValue(us)
}

// Counts are the results and the successes so far.
func (rec *Recorder) Counts() (requests, successes uint64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.requests, rec.successes
}

// Latency is the latency at percentile p (0-100) so far.
func (rec *Recorder) Latency(p float64) time.Duration {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return time.Duration(rec.hist.ValueAtPercentile(p)) * time.Microsecond
}

// Percentiles are the latencies a summary reports.
type Percentiles struct {
	Min  time.Duration `json:"-"`
	Mean time.Duration `json:"-"`
	P50  time.Duration `json:"-"`
	P90  time.Duration `json:"-"`
	P99  time.Duration `json:"-"`
	P999 time.Duration `json:"-"`
	Max  time.Duration `json:"-"`
}

// ErrorCount is one distinct error and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count uint64 `json:"count"`
}

// Summary is what a run amounts to. The definitions are vegeta's: Rate is requests sent per second
// over the span of their start times; Throughput is successes per second over that span plus the
// wait for the last answers.
type Summary struct {
	Requests     uint64
	Successes    uint64
	Duration     time.Duration // first to last request sent
	Wait         time.Duration // last request sent to last answer
	Rate         float64
	Throughput   float64
	SuccessRatio float64
	Latency      Percentiles
	StatusCodes  map[string]uint64
	Errors       []ErrorCount // most frequent first
	BytesIn      uint64
	BytesOut     uint64
	Start        time.Time
}

// Summary computes the figures so far.
func (rec *Recorder) Summary() Summary {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	s := Summary{Requests: rec.requests, Successes: rec.successes, StatusCodes: map[string]uint64{},
		BytesIn: rec.bytesIn, BytesOut: rec.bytesOut, Start: rec.earliest}
	for c, n := range rec.codes {
		s.StatusCodes[fmt.Sprint(c)] = n
	}
	for e, n := range rec.errors {
		s.Errors = append(s.Errors, ErrorCount{e, n})
	}
	sort.Slice(s.Errors, func(i, j int) bool {
		if s.Errors[i].Count != s.Errors[j].Count {
			return s.Errors[i].Count > s.Errors[j].Count
		}
		return s.Errors[i].Error < s.Errors[j].Error
	})
	if rec.requests == 0 {
		return s
	}
	s.Duration = rec.latest.Sub(rec.earliest)
	s.Wait = rec.end.Sub(rec.latest)
	s.SuccessRatio = float64(rec.successes) / float64(rec.requests)
	if secs := s.Duration.Seconds(); secs > 0 {
		s.Rate = float64(rec.requests) / secs
		s.Throughput = float64(rec.successes) / (s.Duration + s.Wait).Seconds()
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	h := rec.hist
	s.Latency = Percentiles{Min: us(h.Min()), Mean: time.Duration(h.Mean() * float64(time.Microsecond)),
		P50: us(h.ValueAtPercentile(50)), P90: us(h.ValueAtPercentile(90)), P99: us(h.ValueAtPercentile(99)),
		P999: us(h.ValueAtPercentile(99.9)), Max: us(h.Max())}
	return s
}

// WriteHGRM writes the HDR percentile distribution in the .hgrm text format, in milliseconds
// (HdrHistogram's plotter and the usual tools read it).
func (rec *Recorder) WriteHGRM(w io.Writer) error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	_, err := rec.hist.PercentilesPrint(w, 5, 1000)
	return err
}

// Point is one second of the attack.
type Point struct {
	Time                time.Time
	Requests, Successes uint64
	P50, P90, P99, Max  time.Duration
}

// Series returns the seconds of the attack in order, gaps included as empty points.
func (rec *Recorder) Series() []Point {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.seconds) == 0 {
		return nil
	}
	first, last := int64(1<<62), int64(-1<<62)
	for k := range rec.seconds {
		first, last = min(first, k), max(last, k)
	}
	us := func(v int64) time.Duration { return time.Duration(v) * time.Microsecond }
	out := make([]Point, 0, last-first+1)
	for k := first; k <= last; k++ {
		p := Point{Time: time.Unix(k, 0)}
		if s := rec.seconds[k]; s != nil {
			p.Requests, p.Successes = s.requests, s.successes
			p.P50, p.P90, p.P99 = us(s.hist.ValueAtPercentile(50)), us(s.hist.ValueAtPercentile(90)), us(s.hist.ValueAtPercentile(99))
			p.Max = us(s.hist.Max())
		}
		out = append(out, p)
	}
	return out
}

// Distribution is the cumulative latency distribution: latency at each percentile, for plotting.
func (rec *Recorder) Distribution() []Quantile {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []Quantile
	for _, b := range rec.hist.CumulativeDistributionWithTicks(5) {
		out = append(out, Quantile{Percentile: b.Quantile, Latency: time.Duration(b.ValueAt) * time.Microsecond})
	}
	return out
}

// Quantile is a point of the cumulative distribution.
type Quantile struct {
	Percentile float64 // 0-100
	Latency    time.Duration
}

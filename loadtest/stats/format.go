package stats

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// jsonSummary is the JSON shape: plain numbers with their units in the names, for dashboards and jq.
type jsonSummary struct {
	Requests     uint64             `json:"requests"`
	Successes    uint64             `json:"successes"`
	DurationS    float64            `json:"duration_s"`
	WaitS        float64            `json:"wait_s"`
	Rate         float64            `json:"rate_per_s"`
	Throughput   float64            `json:"throughput_per_s"`
	SuccessRatio float64            `json:"success_ratio"`
	LatencyMS    map[string]float64 `json:"latency_ms"`
	StatusCodes  map[string]uint64  `json:"status_codes"`
	Errors       []ErrorCount       `json:"errors"`
	BytesIn      uint64             `json:"bytes_in"`
	BytesOut     uint64             `json:"bytes_out"`
	Start        time.Time          `json:"start,omitzero"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// MarshalJSON writes the summary with durations in seconds and latencies in milliseconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	errs := s.Errors
	if errs == nil {
		errs = []ErrorCount{}
	}
	l := s.Latency
	return json.Marshal(jsonSummary{
		Requests: s.Requests, Successes: s.Successes, DurationS: s.Duration.Seconds(), WaitS: s.Wait.Seconds(),
		Rate: round(s.Rate, 3), Throughput: round(s.Throughput, 3), SuccessRatio: round(s.SuccessRatio, 6),
		LatencyMS: map[string]float64{"min": ms(l.Min), "mean": ms(l.Mean), "p50": ms(l.P50), "p90": ms(l.P90),
			"p99": ms(l.P99), "p99.9": ms(l.P999), "max": ms(l.Max)},
		StatusCodes: s.StatusCodes, Errors: errs, BytesIn: s.BytesIn, BytesOut: s.BytesOut, Start: s.Start,
	})
}

func round(v float64, places int) float64 {
	p := 1.0
	for range places {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// WriteText writes the summary for people, one figure a line.
func (s Summary) WriteText(w io.Writer) error {
	l := s.Latency
	var b strings.Builder
	fmt.Fprintf(&b, "requests      %d in %s (+%s waiting for the last answers)\n", s.Requests, s.Duration.Round(time.Millisecond), s.Wait.Round(time.Microsecond))
	fmt.Fprintf(&b, "rate          %.1f/s sent\n", s.Rate)
	fmt.Fprintf(&b, "throughput    %.1f/s successful\n", s.Throughput)
	fmt.Fprintf(&b, "success       %.4f%% (%d of %d)\n", 100*s.SuccessRatio, s.Successes, s.Requests)
	fmt.Fprintf(&b, "latency       min %s, mean %s, p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n",
		Dur(l.Min), Dur(l.Mean), Dur(l.P50), Dur(l.P90), Dur(l.P99), Dur(l.P999), Dur(l.Max))
	codes := make([]string, 0, len(s.StatusCodes))
	for c := range s.StatusCodes {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for i, c := range codes {
		codes[i] = fmt.Sprintf("%s: %d", c, s.StatusCodes[c])
	}
	note := ""
	if s.StatusCodes["0"] > 0 {
		note = " (0: no answer)"
	}
	fmt.Fprintf(&b, "status codes  %s%s\n", strings.Join(codes, ", "), note)
	if len(s.Errors) == 0 {
		b.WriteString("errors        none\n")
	}
	for i, e := range s.Errors {
		if i == 10 {
			fmt.Fprintf(&b, "              ... and %d more distinct errors\n", len(s.Errors)-10)
			break
		}
		fmt.Fprintf(&b, "error         %d× %s\n", e.Count, e.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Dur prints a latency with three significant digits in a readable unit.
func Dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	}
}

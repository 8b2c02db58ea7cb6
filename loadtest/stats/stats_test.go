package stats

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// results makes n results one every 10 ms from t0, latency i ms (1..n), every fifth a 500.
func results(t0 time.Time, n int, attack string) []*vegeta.Result {
	var out []*vegeta.Result
	for i := range n {
		r := &vegeta.Result{Attack: attack, Seq: uint64(i), Code: 200, Timestamp: t0.Add(time.Duration(i) * 10 * time.Millisecond),
			Latency: time.Duration(i+1) * time.Millisecond, BytesIn: 10, BytesOut: 5, Method: "GET", URL: "http://127.0.0.1/x"}
		if i%5 == 4 {
			r.Code, r.Error = 500, "500 Internal Server Error"
		}
		out = append(out, r)
	}
	return out
}

func TestSummaryMath(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	rec := NewRecorder()
	var m vegeta.Metrics
	for _, r := range results(t0, 100, "a") {
		rec.Add(r)
		m.Add(r)
	}
	m.Close()
	s := rec.Summary()
	if s.Requests != 100 || s.Successes != 80 || s.SuccessRatio != 0.8 {
		t.Errorf("requests %d, successes %d, ratio %v", s.Requests, s.Successes, s.SuccessRatio)
	}
	// Sent from 0 to 990 ms; the last answer 100 ms after the last request.
	if s.Duration != 990*time.Millisecond || s.Wait != 100*time.Millisecond {
		t.Errorf("duration %v, wait %v", s.Duration, s.Wait)
	}
	if math.Abs(s.Rate-m.Rate) > 1e-9 || math.Abs(s.Throughput-m.Throughput) > 1e-9 || s.Rate < 101 || s.Rate > 101.1 {
		t.Errorf("rate %v throughput %v; vegeta says %v and %v", s.Rate, s.Throughput, m.Rate, m.Throughput)
	}
	near := func(got, want time.Duration) bool { return math.Abs(float64(got-want)) <= 0.002*float64(want) }
	if l := s.Latency; !near(l.P50, 50*time.Millisecond) || !near(l.P90, 90*time.Millisecond) || !near(l.P99, 99*time.Millisecond) ||
		!near(l.Max, 100*time.Millisecond) || !near(l.Min, time.Millisecond) || !near(l.Mean, 50500*time.Microsecond) {
		t.Errorf("latencies %+v", l)
	}
	if s.StatusCodes["200"] != 80 || s.StatusCodes["500"] != 20 || len(s.Errors) != 1 || s.Errors[0].Count != 20 {
		t.Errorf("codes %v errors %v", s.StatusCodes, s.Errors)
	}
	if s.BytesIn != 1000 || s.BytesOut != 500 {
		t.Errorf("bytes %d %d", s.BytesIn, s.BytesOut)
	}
}

func TestAnErrorOnA200IsAFailure(t *testing.T) {
	rec := NewRecorder()
	rec.Add(&vegeta.Result{Code: 200, Error: "introspect: the answer is not active:true", Latency: time.Millisecond, Timestamp: time.Now()})
	if s := rec.Summary(); s.Successes != 0 || s.SuccessRatio != 0 {
		t.Errorf("summary %+v", s)
	}
}

func TestEmptySummary(t *testing.T) {
	s := NewRecorder().Summary()
	if s.Requests != 0 || s.Rate != 0 {
		t.Errorf("%+v", s)
	}
	var b bytes.Buffer
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Fatal(err)
	}
	if NewRecorder().Series() != nil {
		t.Error("series of nothing")
	}
}

func TestSummaryJSONAndText(t *testing.T) {
	rec := NewRecorder()
	for _, r := range results(time.Now(), 50, "a") {
		rec.Add(r)
	}
	b, err := json.Marshal(rec.Summary())
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	_ = json.Unmarshal(b, &got)
	for _, k := range []string{"requests", "rate_per_s", "throughput_per_s", "success_ratio", "latency_ms", "status_codes", "errors"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON summary has no %s: %s", k, b)
		}
	}
	if lat := got["latency_ms"].(map[string]any); lat["p99"] == nil || lat["max"] == nil {
		t.Errorf("latency_ms %v", lat)
	}
	var text bytes.Buffer
	_ = rec.Summary().WriteText(&text)
	for _, want := range []string{"rate", "throughput", "success       80.0000%", "p50", "p90", "p99", "max", "200: 40", "500: 10", "10× 500"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text summary lacks %q:\n%s", want, text.String())
		}
	}
}

func TestHGRMAndSeries(t *testing.T) {
	rec := NewRecorder()
	t0 := time.Unix(1_700_000_000, 0)
	for _, r := range results(t0, 100, "a") {
		rec.Add(r)
	}
	rec.Add(&vegeta.Result{Code: 200, Timestamp: t0.Add(3 * time.Second), Latency: time.Millisecond})
	var b bytes.Buffer
	if err := rec.WriteHGRM(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Percentile") || !strings.Contains(b.String(), "#[Max     =") {
		t.Errorf("hgrm:\n%s", b.String())
	}
	s := rec.Series()
	if len(s) != 4 || s[0].Requests != 100 || s[1].Requests != 0 || s[3].Requests != 1 || s[0].Successes != 80 {
		t.Errorf("series %+v", s)
	}
	if d := rec.Distribution(); len(d) == 0 || d[len(d)-1].Percentile != 100 {
		t.Errorf("distribution %v", d)
	}
}

func writeGob(t *testing.T, path string, rs []*vegeta.Result) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := vegeta.NewEncoder(f)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMergeFilesOfSeveralHosts(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1_700_000_000, 0)
	a, b := filepath.Join(dir, "host-a.bin"), filepath.Join(dir, "host-b.bin")
	writeGob(t, a, results(t0, 100, "api"))
	writeGob(t, b, results(t0.Add(5*time.Millisecond), 50, "api"))
	rec := NewRecorder()
	attacks := map[string]int{}
	if err := ReadFiles([]string{a, b}, func(r *vegeta.Result) { rec.Add(r); attacks[r.Attack]++ }); err != nil {
		t.Fatal(err)
	}
	s := rec.Summary()
	if s.Requests != 150 || s.Successes != 120 {
		t.Errorf("merged %d requests, %d successes", s.Requests, s.Successes)
	}
	if attacks["api"] != 100 || attacks["api@host-b.bin"] != 50 {
		t.Errorf("attacks %v: the second file's must be told apart", attacks)
	}
	// Two hosts at once double the rate over the same span.
	if s.Rate < 150 || s.Rate > 152 {
		t.Errorf("merged rate %v", s.Rate)
	}
	empty := filepath.Join(dir, "empty.bin")
	_ = os.WriteFile(empty, nil, 0o644)
	for _, bad := range [][]string{nil, {filepath.Join(dir, "missing.bin")}, {empty}} {
		if err := ReadFiles(bad, func(*vegeta.Result) {}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestDur(t *testing.T) {
	for d, want := range map[time.Duration]string{1500 * time.Microsecond: "1.5ms", 2 * time.Second: "2s", 250 * time.Microsecond: "250µs"} {
		if got := Dur(d); got != want {
			t.Errorf("Dur(%v) = %q, want %q", d, got, want)
		}
	}
}

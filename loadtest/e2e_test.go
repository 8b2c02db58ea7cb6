package loadtest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/loadtest"
	"github.com/oauth-harness/oauth-harness/loadtest/ceiling"
	"github.com/oauth-harness/oauth-harness/loadtest/runner"
	"github.com/oauth-harness/oauth-harness/loadtest/scenario"
	"github.com/oauth-harness/oauth-harness/loadtest/stats"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestEveryScenarioAgainstTheReferenceServer runs each path for two seconds at a modest rate
// against the embedded server: every request must succeed (which the server's replay cache, code
// single use and refresh rotation make a real check of the targeters), and the outputs be complete.
func TestEveryScenarioAgainstTheReferenceServer(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: about 20 s of load")
	}
	srv := servertest.Start(t, server.Options{})
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), servertest.Tenant(t), servertest.Credentials(t), target.KnownCapabilities)
	ctx := context.Background()
	env, err := scenario.Discover(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := runner.NewClient(runner.Options{})
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenario.New(ctx, env, name, scenario.Options{RefreshPool: 24, Tokens: 2})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			rep := &loadtest.Report{Title: "e2e " + name, Scenario: name, Description: sc.Description,
				Gates: loadtest.Gates{MinSuccess: 1}}
			outs, err := loadtest.Create(dir, rep.Title, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := runner.Attack(ctx, sc, 30, 2*time.Second, name, client, runner.Options{}, outs.Add); err != nil {
				t.Fatal(err)
			}
			if rep.Ceiling, err = ceiling.New(sc.Crypto, time.Millisecond); err != nil {
				t.Fatal(err)
			}
			files, err := outs.Close(rep)
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Summary
			if s.Requests < 30 || s.SuccessRatio != 1 || len(rep.Missed) != 0 {
				t.Fatalf("%d requests, success %v, errors %v", s.Requests, s.SuccessRatio, s.Errors)
			}
			if s.Rate <= 0 || s.Throughput <= 0 || s.Latency.P50 <= 0 || s.Latency.P99 < s.Latency.P50 || s.Latency.Max < s.Latency.P99 ||
				s.StatusCodes["200"] != s.Requests {
				t.Errorf("incomplete summary %+v", s)
			}
			if len(files) != 6 {
				t.Errorf("files %v", files)
			}
			checkFiles(t, dir, s.Requests)
		})
	}
}

// checkFiles reads the outputs back: vegeta decodes results.bin, the JSON has the figures.
func checkFiles(t *testing.T, dir string, requests uint64) {
	t.Helper()
	var n uint64
	if err := stats.ReadFiles([]string{filepath.Join(dir, loadtest.ResultsFile)}, func(*vegeta.Result) { n++ }); err != nil || n != requests {
		t.Errorf("results.bin: %d results, %v", n, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, loadtest.SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Summary struct {
			Requests  uint64             `json:"requests"`
			LatencyMS map[string]float64 `json:"latency_ms"`
		} `json:"summary"`
		Missed []string `json:"missed"`
	}
	if err := json.Unmarshal(b, &js); err != nil || js.Summary.Requests != requests || js.Summary.LatencyMS["p99"] <= 0 || js.Missed == nil {
		t.Errorf("summary.json %s: %v", b, err)
	}
	for _, f := range []string{loadtest.SummaryText, loadtest.HistogramFile, loadtest.ReportFile, loadtest.PlotFile} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || len(b) == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, loadtest.SummaryText)); !strings.Contains(string(b), "crypto") {
		t.Errorf("summary.txt has no crypto ceiling:\n%s", b)
	}
}

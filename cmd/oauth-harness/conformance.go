package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/report"
)

// errScenariosFailed makes the process exit non-zero when any scenario failed (or passed while
// listed as an expected failure).
var errScenariosFailed = errors.New("conformance: some scenarios failed")

const conformanceUsage = `Usage: oauth-harness conformance [flags]

Runs the conformance catalogue against a target (default: the embedded reference server) and
writes report.html, junit.xml and cucumber.json to --out. Exits 1 when a scenario fails.

--expected-failures takes a YAML list of scenarios the target is known to fail:

  - scenario: "A wrong secret is refused"     # the scenario's name as in the feature
    feature: "Machine-to-machine access with client credentials"   # optional, disambiguates
    step: "is refused with"                  # optional: only while it fails at this step...
    error: "got HTTP 400"                    # optional: ...with this in its error
    reason: "our provider answers 400 instead of 401 (ticket ID-123)"
    flaky: true                              # optional: a pass is accepted too

A listed scenario that fails is an expected failure and does not fail the run; one that passes
fails the run until it is removed from the list; an entry naming no scenario is an error (a
warning when --tags filtered the run).

Flags:
`

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), conformanceUsage)
		fs.PrintDefaults()
	}
	targetFile := fs.String("target", "", "target profile YAML, or "+containerReference+" for the reference server's image (default: the embedded reference server)")
	tags := fs.String("tags", "", `scenarios to run: a Cucumber tag expression ("@client-credentials and not @needs-admin"; godog's && , ~ work too)`)
	concurrency := fs.Int("concurrency", 1, "scenarios run at once")
	out := fs.String("out", "reports", "directory for report.html, junit.xml and cucumber.json")
	expectedFile := fs.String("expected-failures", "", "YAML list of scenarios the target is known to fail, each with a reason")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: conformance takes no arguments, got %q", errUsage, fs.Args())
	}
	if *concurrency < 1 {
		return fmt.Errorf("%w: --concurrency must be at least 1", errUsage)
	}
	// Read the list before anything starts: a typo in it should cost seconds, not a whole run.
	var expected []report.ExpectedFailure
	if *expectedFile != "" {
		var err error
		if expected, err = report.LoadExpectedFailures(*expectedFile); err != nil {
			return err
		}
	}
	p, stop, err := openTarget(ctx, *targetFile, stderr)
	defer stop()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	cucumber := filepath.Join(*out, "cucumber.json")
	junit, html := filepath.Join(*out, "junit.xml"), filepath.Join(*out, "report.html")
	// A run that stops before writing its reports must not leave the last run's to be read as its own
	// (godog truncates cucumber.json itself).
	for _, path := range []string{html, junit} {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("conformance: %w", err)
		}
	}
	if *targetFile != "" { // the embedded server is described from its own fixtures
		if err := steps.PreflightError(steps.Preflight(ctx, p)); err != nil {
			return fmt.Errorf("conformance: %w", err)
		}
	}
	fmt.Fprintf(stdout, "conformance: %s (%s)\n", p.Name, p.Issuer)
	started := time.Now()
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: *tags, Concurrency: *concurrency,
		Format: "pretty,cucumber:" + cucumber, Output: stdout, Context: ctx})
	if err != nil {
		return err
	}
	res, err := report.ParseFile(cucumber)
	if err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	res.Meta = report.Meta{Target: p.Name, Issuer: p.Issuer, Started: started, Elapsed: time.Since(started), Tags: *tags,
		Harness: harnessVersion()}
	res.ApplyExpectedFailures(expected, strings.TrimSpace(*tags) != "")
	// The verdict comes from the parsed results; godog's own status only guards against a
	// failure the cucumber JSON lost.
	if !passed && !anyNotPassed(res) {
		res.Errors = append(res.Errors, "godog reported a failure that cucumber.json does not show")
	}
	if err := writeReport(html, res, report.WriteHTML); err != nil {
		return err
	}
	if err := writeReport(junit, res, report.WriteJUnit); err != nil {
		return err
	}
	printSummary(stdout, res)
	for _, path := range []string{html, junit, cucumber} {
		fmt.Fprintf(stdout, "report: %s\n", path)
	}
	for _, sc := range res.Scenarios() {
		if sc.Outcome.Fails() {
			return errScenariosFailed
		}
	}
	if len(res.Errors) > 0 {
		return fmt.Errorf("conformance: %s", strings.Join(res.Errors, "; "))
	}
	return nil
}

// anyNotPassed reports whether godog saw a scenario fail, whatever the list made of it.
func anyNotPassed(res *report.Results) bool {
	for _, sc := range res.Scenarios() {
		if sc.Status != report.Passed && sc.Status != report.Skipped {
			return true
		}
	}
	return false
}

func writeReport(path string, res *report.Results, write func(io.Writer, *report.Results) error) error {
	var b bytes.Buffer
	if err := write(&b, res); err != nil {
		return fmt.Errorf("conformance: %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	return nil
}

// printSummary ends the run's output with the counts and what needs a look.
func printSummary(w io.Writer, res *report.Results) {
	fmt.Fprintf(w, "\nconformance: %s\n", res.Summary())
	for _, sc := range res.Scenarios() {
		name := sc.Feature + " › " + sc.Title()
		switch sc.Outcome {
		case report.OutcomePassed, report.OutcomeSkipped:
		case report.OutcomeExpectedFailure:
			fmt.Fprintf(w, "  expected failure: %s: %s\n", name, sc.ExpectedReason())
		case report.OutcomeUnexpectedPass:
			fmt.Fprintf(w, "  unexpectedly passing: %s: remove it from the expected-failures list\n", name)
		default:
			fmt.Fprintf(w, "  %s: %s\n", sc.Outcome, name)
		}
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	for _, e := range res.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", e)
	}
}

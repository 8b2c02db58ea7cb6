// Package report turns the cucumber JSON that godog writes into a results model, applies the
// expected-failures list to it, and renders it as a self-contained HTML page and as JUnit XML.
//
// Evidence reaches the report as godog attachments (godog.Attach), which the cucumber formatter
// writes as step "embeddings" named after Attachment.FileName. The report recognises:
//   - images (image/png, image/jpeg, image/gif, image/webp): shown inline;
//   - decoded tokens: application/json named "token-*.json" with
//     {"kind": "access token", "header": {...}, "claims": {...}}: shown as claim tables;
//   - "skip-reason.txt" (text/plain): why a scenario was skipped;
//   - any other text/plain or JSON: evidence, shown folded.
package report

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Status is a step's or a scenario's result as godog reports it.
type Status string

// The statuses godog writes. Ambiguous steps (two definitions match) count as failed.
const (
	Passed    Status = "passed"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Undefined Status = "undefined"
	Pending   Status = "pending"
	Ambiguous Status = "ambiguous"
)

// Outcome is a scenario's verdict once the expected-failures list is applied.
type Outcome string

// Outcomes. Failed, Undefined, Pending and UnexpectedPass fail the run (the suite runs strict).
const (
	OutcomePassed          Outcome = "passed"
	OutcomeFailed          Outcome = "failed"
	OutcomeSkipped         Outcome = "skipped"
	OutcomeUndefined       Outcome = "undefined"
	OutcomePending         Outcome = "pending"
	OutcomeExpectedFailure Outcome = "expected failure"
	OutcomeUnexpectedPass  Outcome = "unexpected pass"
)

// Fails reports whether the outcome fails the run.
func (o Outcome) Fails() bool {
	switch o {
	case OutcomePassed, OutcomeSkipped, OutcomeExpectedFailure:
		return false
	}
	return true
}

// Results is one run of the catalogue.
type Results struct {
	Meta     Meta
	Features []*Feature
	// Errors fail the run although no scenario did (an expected-failures entry that names no
	// scenario, say); Warnings do not.
	Errors   []string
	Warnings []string
}

// Meta describes the run; the caller fills it in, the cucumber JSON does not carry it.
type Meta struct {
	Target  string    // the target profile's name
	Issuer  string    // the target's issuer
	Started time.Time // when the run began
	Elapsed time.Duration
	Tags    string // the tag filter, if the run was filtered
	Harness string // the build of oauth-harness that ran it (version and VCS revision)
}

// Feature is one .feature file.
type Feature struct {
	Name        string
	Description string
	URI         string
	Tags        []string
	Scenarios   []*Scenario
}

// Scenario is one scenario, or one Examples row of a Scenario Outline.
type Scenario struct {
	ID      string // godog's: "feature-id;scenario-id" (+ ";examples;row" for outline rows)
	Feature string // the feature's name
	Name    string
	Keyword string
	Line    int
	// Example is the row number (from 1) of a Scenario Outline row whose name it shares with
	// other rows; 0 otherwise.
	Example  int
	Tags     []string // the feature's and the scenario's
	Status   Status
	Outcome  Outcome
	Duration time.Duration // the sum of its steps'
	Steps    []*Step
	// Expected is the expected-failures entry that names this scenario, if any.
	Expected *ExpectedFailure
}

// Title is the scenario's name, with the row number for outline rows that share it.
func (s *Scenario) Title() string {
	if s.Example > 0 {
		return fmt.Sprintf("%s (example %d)", s.Name, s.Example)
	}
	return s.Name
}

// FailedStep is the first failed step, or nil.
func (s *Scenario) FailedStep() *Step {
	for _, st := range s.Steps {
		if st.Status == Failed || st.Status == Ambiguous {
			return st
		}
	}
	return nil
}

// SkipReason is the text of the scenario's skip-reason.txt attachment, if any.
func (s *Scenario) SkipReason() string {
	for _, st := range s.Steps {
		for _, a := range st.Attachments {
			if a.IsSkipReason() {
				return strings.TrimSpace(strings.TrimPrefix(string(a.Data), "skipped: "))
			}
		}
	}
	return ""
}

// ExpectedReason is the reason of the expected-failures entry naming the scenario, or "".
func (s *Scenario) ExpectedReason() string {
	if s.Expected == nil {
		return ""
	}
	return s.Expected.Reason
}

// Step is one executed (or skipped) step.
type Step struct {
	Keyword     string // "Given ", "When ", ...
	Name        string
	Line        int
	Status      Status
	Duration    time.Duration
	Error       string
	Attachments []Attachment
}

// Attachment is one godog.Attach call, decoded.
type Attachment struct {
	Name      string // Attachment.FileName
	MediaType string
	Data      []byte
}

// IsImage reports whether the attachment is an image the report shows inline. SVG is left out:
// it is a document that can carry script.
func (a Attachment) IsImage() bool {
	switch a.MediaType {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

// IsToken reports whether the attachment follows the decoded-token convention.
func (a Attachment) IsToken() bool {
	return a.MediaType == "application/json" && strings.HasPrefix(a.Name, "token-")
}

// IsSkipReason reports whether the attachment says why its scenario was skipped.
func (a Attachment) IsSkipReason() bool {
	return a.Name == "skip-reason.txt" && strings.HasPrefix(a.MediaType, "text/plain")
}

// The subset of godog v0.15.1's cucumber JSON (internal/formatters/fmt_cucumber.go) we read.
type cukeFeature struct {
	URI         string        `json:"uri"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Tags        []cukeTag     `json:"tags"`
	Elements    []cukeElement `json:"elements"`
}

type cukeTag struct {
	Name string `json:"name"`
}

type cukeElement struct {
	ID      string     `json:"id"`
	Keyword string     `json:"keyword"`
	Name    string     `json:"name"`
	Line    int        `json:"line"`
	Type    string     `json:"type"`
	Tags    []cukeTag  `json:"tags"`
	Steps   []cukeStep `json:"steps"`
}

type cukeStep struct {
	Keyword string `json:"keyword"`
	Name    string `json:"name"`
	Line    int    `json:"line"`
	Result  struct {
		Status   string `json:"status"`
		Error    string `json:"error_message"`
		Duration int64  `json:"duration"` // nanoseconds; absent for skipped, pending, undefined
	} `json:"result"`
	Embeddings []struct {
		Name     string `json:"name"`
		MimeType string `json:"mime_type"`
		Data     string `json:"data"` // base64
	} `json:"embeddings"`
}

// ParseFile reads a cucumber JSON file.
func ParseFile(path string) (*Results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	defer f.Close()
	r, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Parse reads godog's cucumber JSON. An empty or truncated document is an error: godog leaves
// the file empty when the run never started, and a partial file would under-count failures.
func Parse(r io.Reader) (*Results, error) {
	dec := json.NewDecoder(r)
	var raw []cukeFeature
	if err := dec.Decode(&raw); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("report: the cucumber JSON is empty")
		}
		return nil, fmt.Errorf("report: the cucumber JSON is malformed: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("report: the cucumber JSON has trailing data after the feature list")
	}
	res := &Results{}
	for i, cf := range raw {
		f := &Feature{Name: cf.Name, Description: strings.TrimSpace(cf.Description), URI: cf.URI, Tags: tagNames(cf.Tags)}
		for j, ce := range cf.Elements {
			if ce.Type != "" && ce.Type != "scenario" {
				continue // cucumber's "background" elements; godog folds them into each scenario
			}
			sc, err := parseScenario(f.Name, ce)
			if err != nil {
				return nil, fmt.Errorf("report: feature %d (%q), scenario %d (%q): %w", i+1, cf.Name, j+1, ce.Name, err)
			}
			f.Scenarios = append(f.Scenarios, sc)
		}
		// File order reads best; godog sorts its pickles by id, which is not the same.
		slices.SortStableFunc(f.Scenarios, func(a, b *Scenario) int { return cmp.Compare(a.Line, b.Line) })
		numberExamples(f.Scenarios)
		res.Features = append(res.Features, f)
	}
	return res, nil
}

func parseScenario(feature string, ce cukeElement) (*Scenario, error) {
	sc := &Scenario{ID: ce.ID, Feature: feature, Name: ce.Name, Keyword: ce.Keyword, Line: ce.Line, Tags: tagNames(ce.Tags)}
	for k, cs := range ce.Steps {
		st := &Step{Keyword: cs.Keyword, Name: cs.Name, Line: cs.Line, Status: Status(cs.Result.Status),
			Duration: time.Duration(max(cs.Result.Duration, 0)), Error: cs.Result.Error}
		for _, e := range cs.Embeddings {
			data, err := base64.StdEncoding.DecodeString(e.Data)
			if err != nil {
				return nil, fmt.Errorf("step %d: attachment %q is not base64: %w", k+1, e.Name, err)
			}
			st.Attachments = append(st.Attachments, Attachment{Name: e.Name, MediaType: e.MimeType, Data: data})
		}
		sc.Duration += st.Duration
		sc.Steps = append(sc.Steps, st)
	}
	sc.Status = scenarioStatus(sc.Steps)
	sc.Outcome = outcomeOf(sc.Status)
	return sc, nil
}

// scenarioStatus folds the steps' statuses the way godog does: a failure anywhere (an After hook
// fails the last step) wins; otherwise the first step that did not pass decides; a scenario
// without steps is undefined. A status this package does not know counts as failed, so a newer
// godog cannot turn a failure green.
func scenarioStatus(steps []*Step) Status {
	if len(steps) == 0 {
		return Undefined
	}
	for _, st := range steps {
		switch st.Status {
		case Passed, Skipped, Undefined, Pending:
		default:
			return Failed
		}
	}
	for _, st := range steps {
		if st.Status != Passed {
			return st.Status
		}
	}
	return Passed
}

func outcomeOf(s Status) Outcome {
	switch s {
	case Passed:
		return OutcomePassed
	case Skipped:
		return OutcomeSkipped
	case Undefined:
		return OutcomeUndefined
	case Pending:
		return OutcomePending
	}
	return OutcomeFailed
}

// numberExamples gives outline rows that share a name (an outline without <placeholders> in its
// name) their row number, so they can be told apart in the reports.
func numberExamples(scs []*Scenario) {
	count := map[string]int{}
	for _, sc := range scs {
		if isOutlineRow(sc) {
			count[sc.Name]++
		}
	}
	seen := map[string]int{}
	for _, sc := range scs {
		if isOutlineRow(sc) && count[sc.Name] > 1 {
			seen[sc.Name]++
			sc.Example = seen[sc.Name]
		}
	}
}

// isOutlineRow: godog gives outline rows the id "feature;outline;examples;N".
func isOutlineRow(sc *Scenario) bool {
	parts := strings.Split(sc.ID, ";")
	if len(parts) < 4 {
		return false
	}
	_, err := strconv.Atoi(parts[len(parts)-1])
	return err == nil
}

func tagNames(tags []cukeTag) []string {
	var out []string
	for _, t := range tags {
		if !slices.Contains(out, t.Name) { // feature tags are repeated on each scenario
			out = append(out, t.Name)
		}
	}
	return out
}

// Scenarios lists every scenario of every feature.
func (r *Results) Scenarios() []*Scenario {
	var out []*Scenario
	for _, f := range r.Features {
		out = append(out, f.Scenarios...)
	}
	return out
}

// Counts are the scenarios by outcome.
type Counts struct {
	Scenarios, Passed, Failed, Skipped, Undefined, Pending, ExpectedFailures, UnexpectedPasses int
	// Duration is the scenarios' time summed (more than the wall time when they ran concurrently).
	Duration time.Duration
}

// Counts tallies the outcomes.
func (r *Results) Counts() Counts {
	var c Counts
	for _, sc := range r.Scenarios() {
		c.Scenarios++
		c.Duration += sc.Duration
		switch sc.Outcome {
		case OutcomePassed:
			c.Passed++
		case OutcomeSkipped:
			c.Skipped++
		case OutcomeUndefined:
			c.Undefined++
		case OutcomePending:
			c.Pending++
		case OutcomeExpectedFailure:
			c.ExpectedFailures++
		case OutcomeUnexpectedPass:
			c.UnexpectedPasses++
		default:
			c.Failed++
		}
	}
	return c
}

// OK reports whether the run passes: no scenario outcome fails it and there are no errors.
func (r *Results) OK() bool {
	if len(r.Errors) > 0 {
		return false
	}
	for _, sc := range r.Scenarios() {
		if sc.Outcome.Fails() {
			return false
		}
	}
	return true
}

// Summary is the counts in one line: "19 scenarios: 15 passed, 1 failed, 2 skipped, 1 expected
// failure, 0 unexpected passes (2.1s)"; undefined and pending are named only when there are some.
func (r *Results) Summary() string {
	c := r.Counts()
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	parts := []string{fmt.Sprintf("%d passed", c.Passed), fmt.Sprintf("%d failed", c.Failed), fmt.Sprintf("%d skipped", c.Skipped)}
	if c.Undefined > 0 {
		parts = append(parts, fmt.Sprintf("%d undefined", c.Undefined))
	}
	if c.Pending > 0 {
		parts = append(parts, fmt.Sprintf("%d pending", c.Pending))
	}
	parts = append(parts, plural(c.ExpectedFailures, "expected failure", "expected failures"),
		plural(c.UnexpectedPasses, "unexpected pass", "unexpected passes"))
	d := r.Meta.Elapsed
	if d == 0 {
		d = c.Duration
	}
	return fmt.Sprintf("%s: %s (%s)", plural(c.Scenarios, "scenario", "scenarios"), strings.Join(parts, ", "), formatDuration(d))
}

// formatDuration rounds for people: "850ms", "2.1s", "1m4s".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

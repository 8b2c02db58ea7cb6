package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ExpectedFailure is one entry of the expected-failures list: a scenario the target is known to
// fail, and why.
type ExpectedFailure struct {
	Scenario string // the scenario's name as written in the feature (an outline's row names)
	Feature  string // optional: the feature's name, when the scenario's name is not unique
	Reason   string
	// Step and Error, when given, key the entry to the fault it names: the scenario is an expected
	// failure only while it fails at a step containing Step, with an error containing Error. A
	// fault fixed and a later step regressing then fails the run instead of hiding behind the entry.
	Step  string
	Error string
	// Flaky accepts both outcomes: a pass is reported as passed, not as unexpectedly passing.
	Flaky bool
	Line  int // in the list file, for messages
}

func (e ExpectedFailure) String() string {
	if e.Feature != "" {
		return fmt.Sprintf("%q (feature %q)", e.Scenario, e.Feature)
	}
	return fmt.Sprintf("%q", e.Scenario)
}

// LoadExpectedFailures reads and checks an expected-failures file.
func LoadExpectedFailures(path string) ([]ExpectedFailure, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("expected failures: %w", err)
	}
	list, err := ParseExpectedFailures(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return list, nil
}

var expectedFields = []string{"scenario", "feature", "reason", "step", "error", "flaky"}

// ParseExpectedFailures decodes the list strictly and names every problem with its line:
//
//   - scenario: "A wrong secret is refused"
//     feature: "Machine-to-machine access with client credentials"   # optional
//     step: "is refused with"                                         # optional: the failing step
//     error: "got HTTP 400"                                           # optional: its error
//     reason: "our provider answers 400 instead of 401 (ticket ID-123)"
//     flaky: true                                                     # optional: passes accepted too
//
// An empty document is an empty list. The list is hand-written and decides the exit status, so a
// typo must not silently drop an entry: unknown fields, a missing reason, an empty scenario and
// duplicate entries are errors.
func ParseExpectedFailures(b []byte) ([]ExpectedFailure, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, fmt.Errorf("expected failures: %w", err)
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		return nil, errors.New("expected failures: only one YAML document is allowed")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil // a file with only comments
	}
	if root.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("expected failures: line %d: want a YAML list of entries with scenario, feature and reason", root.Line)
	}
	var list []ExpectedFailure
	var errs []error
	bad := func(line, entry int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("line %d: entry %d: %s", line, entry, fmt.Sprintf(format, args...)))
	}
	for i, item := range root.Content {
		n := i + 1
		if item.Kind != yaml.MappingNode {
			bad(item.Line, n, "want a mapping with scenario, feature and reason")
			continue
		}
		e := ExpectedFailure{Line: item.Line}
		seen := map[string]bool{}
		for k := 0; k+1 < len(item.Content); k += 2 {
			key, val := item.Content[k], item.Content[k+1]
			if !slices.Contains(expectedFields, key.Value) {
				bad(key.Line, n, "unknown field %q (the fields are %s)", key.Value, strings.Join(expectedFields, ", "))
				continue
			}
			if seen[key.Value] {
				bad(key.Line, n, "%s is given twice", key.Value)
				continue
			}
			seen[key.Value] = true
			if val.Kind != yaml.ScalarNode {
				bad(val.Line, n, "%s must be a string", key.Value)
				continue
			}
			v := val.Value
			if val.Tag == "!!null" {
				v = ""
			}
			v = strings.TrimSpace(v)
			switch key.Value {
			case "flaky":
				switch v {
				case "true":
					e.Flaky = true
				case "false", "":
				default:
					bad(val.Line, n, "flaky must be true or false, not %q", v)
				}
			case "step":
				e.Step = v
			case "error":
				e.Error = v
			case "scenario":
				e.Scenario = v
			case "feature":
				e.Feature = v
			case "reason":
				e.Reason = v
			}
		}
		if e.Scenario == "" {
			bad(item.Line, n, "scenario is missing or empty")
		}
		if e.Reason == "" {
			bad(item.Line, n, "reason is missing or empty (say why the target fails it, e.g. a ticket)")
		}
		if e.Scenario == "" || e.Reason == "" {
			continue
		}
		for _, prev := range list {
			if prev.Scenario == e.Scenario && prev.Feature == e.Feature {
				bad(item.Line, n, "%s is already listed at line %d", e, prev.Line)
			}
		}
		list = append(list, e)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("expected failures: %w", errors.Join(errs...))
	}
	return list, nil
}

// ApplyExpectedFailures marks the scenarios the list names. A listed scenario that failed becomes
// an expected failure. An entry whose scenarios ran and none failed is unexpectedly passing: its
// passed scenarios fail the run, so the list is trimmed as the target gets fixed. (For outline rows
// sharing a name, failing rows are expected failures and the passing rows stay passed.) Skipped,
// undefined and pending scenarios keep their outcome: the list covers the target's failures, not
// a catalogue's missing steps.
//
// An entry that matches no scenario is an error, or a warning when filtered is true (a tag filter
// may have left its scenario out). An entry without feature whose name is in several features is
// an error: it would silently cover more than meant.
func (r *Results) ApplyExpectedFailures(list []ExpectedFailure, filtered bool) {
	for i := range list {
		e := &list[i]
		var matched []*Scenario
		var features, elsewhere []string
		for _, f := range r.Features {
			for _, sc := range f.Scenarios {
				if sc.Name != e.Scenario {
					continue
				}
				if e.Feature != "" && f.Name != e.Feature {
					if !slices.Contains(elsewhere, f.Name) {
						elsewhere = append(elsewhere, f.Name)
					}
					continue
				}
				matched = append(matched, sc)
				if !slices.Contains(features, f.Name) {
					features = append(features, f.Name)
				}
			}
		}
		switch {
		case len(matched) == 0:
			msg := fmt.Sprintf("expected failure %s (line %d) matches no scenario that ran", e, e.Line)
			if len(elsewhere) > 0 {
				msg += fmt.Sprintf("; a scenario of that name is in feature %q", elsewhere[0])
			}
			if filtered {
				r.Warnings = append(r.Warnings, msg+" (the run was filtered by tags)")
			} else {
				r.Errors = append(r.Errors, msg+": fix the name or remove the entry")
			}
			continue
		case len(features) > 1:
			r.Errors = append(r.Errors, fmt.Sprintf("expected failure %s (line %d) names scenarios in %d features (%s): add feature: to say which",
				e, e.Line, len(features), strings.Join(quoteAll(features), ", ")))
			continue
		}
		anyFailed := false
		for _, sc := range matched {
			sc.Expected = e
			if outcomeOf(sc.Status) != OutcomeFailed {
				continue
			}
			anyFailed = true
			if miss := e.mismatch(sc.FailedStep()); miss != "" {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s fails, but not as expected failure %s (line %d) says: %s", sc.Title(), e, e.Line, miss))
				continue
			}
			sc.Outcome = OutcomeExpectedFailure
		}
		if anyFailed || e.Flaky {
			continue
		}
		for _, sc := range matched {
			if sc.Status == Passed {
				sc.Outcome = OutcomeUnexpectedPass
			}
		}
	}
}

// mismatch says how a failed step differs from the fault the entry names ("" when it matches).
func (e *ExpectedFailure) mismatch(st *Step) string {
	if e.Step == "" && e.Error == "" {
		return ""
	}
	if st == nil {
		return "no step failed"
	}
	if e.Step != "" && !strings.Contains(st.Name, e.Step) {
		return fmt.Sprintf("it fails at %q, not at a step with %q", st.Name, e.Step)
	}
	if e.Error != "" && !strings.Contains(st.Error, e.Error) {
		return fmt.Sprintf("its error is %q, without %q", st.Error, e.Error)
	}
	return ""
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

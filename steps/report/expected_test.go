package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// simpleFeature: one scenario passes, one fails, one is skipped, and an outline with a failing row.
const simpleFeature = `Feature: Tokens
  Scenario: Works
    Then all is well

  Scenario: Broken
    Then the answer is "500"

  Scenario: Admin things
    Given the target lacks "admin"

  Scenario Outline: Rows
    Then the answer is "<answer>"

    Examples:
      | answer |
      | 401    |
      | 403    |
`

func mustParseList(t *testing.T, yaml string) []ExpectedFailure {
	t.Helper()
	list, err := ParseExpectedFailures([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestExpectedFailureDoesNotFailTheRun(t *testing.T) {
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	if r.OK() {
		t.Fatal("the fixture has failures")
	}
	r.ApplyExpectedFailures(mustParseList(t, `
# known problems of the provider under test
- scenario: "Broken"
  feature: "Tokens"
  reason: "answers 500 (ticket ID-123)"
- scenario: Rows
  reason: one row fails
- scenario: Admin things
  reason: not checked on this target
`), false)
	if !r.OK() || len(r.Errors) != 0 {
		t.Fatalf("OK=%v errors=%q", r.OK(), r.Errors)
	}
	broken := scenario(t, r, "Tokens", "Broken")
	if broken.Outcome != OutcomeExpectedFailure || broken.Expected == nil || broken.Expected.Reason != "answers 500 (ticket ID-123)" {
		t.Errorf("Broken: %s %+v", broken.Outcome, broken.Expected)
	}
	// Outline rows share the entry: the failing row is expected, the passing one stays passed.
	if o1, o2 := scenario(t, r, "Tokens", "Rows (example 1)").Outcome, scenario(t, r, "Tokens", "Rows (example 2)").Outcome; o1 != OutcomePassed || o2 != OutcomeExpectedFailure {
		t.Errorf("rows: %s, %s", o1, o2)
	}
	if o := scenario(t, r, "Tokens", "Admin things").Outcome; o != OutcomeSkipped {
		t.Errorf("a listed skipped scenario became %s", o)
	}
	c := r.Counts()
	if c.ExpectedFailures != 2 || c.Failed != 0 || c.Passed != 2 || c.Skipped != 1 || c.UnexpectedPasses != 0 {
		t.Errorf("counts %+v", c)
	}
}

func TestListedScenarioThatPassesFailsTheRun(t *testing.T) {
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	r.ApplyExpectedFailures(mustParseList(t, `
- {scenario: Broken, reason: r}
- {scenario: Rows, reason: r}
- {scenario: Works, reason: fixed last week}
`), false)
	if r.OK() {
		t.Fatal("an unexpected pass leaves the run OK")
	}
	if o := scenario(t, r, "Tokens", "Works").Outcome; o != OutcomeUnexpectedPass || !o.Fails() {
		t.Errorf("Works: %s", o)
	}
	if c := r.Counts(); c.UnexpectedPasses != 1 || c.Failed != 0 {
		t.Errorf("counts %+v", c)
	}
	if s := r.Summary(); !strings.Contains(s, "1 unexpected pass") {
		t.Errorf("summary %q", s)
	}
}

func TestListedNameMatchingNothing(t *testing.T) {
	list := `
- {scenario: Broken, reason: r}
- {scenario: Rows, reason: r}
- {scenario: "Brokn", reason: typo}
- {scenario: "Works", feature: "Tokenz", reason: wrong feature}
`
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	r.ApplyExpectedFailures(mustParseList(t, list), false)
	if r.OK() || len(r.Errors) != 2 || !strings.Contains(r.Errors[0], `"Brokn" (line 4) matches no scenario`) ||
		!strings.Contains(r.Errors[1], `a scenario of that name is in feature "Tokens"`) {
		t.Errorf("unfiltered run: OK=%v errors=%q", r.OK(), r.Errors)
	}
	// With a tag filter the scenario may just not have run: a warning.
	r = parseFixture(t, map[string]string{"t.feature": simpleFeature})
	r.ApplyExpectedFailures(mustParseList(t, list), true)
	if !r.OK() || len(r.Errors) != 0 || len(r.Warnings) != 2 || !strings.Contains(r.Warnings[0], "filtered") {
		t.Errorf("filtered run: OK=%v errors=%q warnings=%q", r.OK(), r.Errors, r.Warnings)
	}
}

func TestListedNameInTwoFeaturesNeedsTheFeature(t *testing.T) {
	files := map[string]string{"m2m.feature": evidenceFeature, "other.feature": otherFeature}
	r := parseFixture(t, files)
	r.ApplyExpectedFailures(mustParseList(t, `[{scenario: "A wrong secret is refused", reason: r}]`), false)
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "add feature:") {
		t.Errorf("errors %q", r.Errors)
	}
	r = parseFixture(t, files)
	r.ApplyExpectedFailures(mustParseList(t, `[{scenario: "A wrong secret is refused", feature: "`+m2m+`", reason: r}]`), false)
	if len(r.Errors) != 0 || scenario(t, r, m2m, "A wrong secret is refused").Outcome != OutcomeExpectedFailure ||
		scenario(t, r, "Another feature", "A wrong secret is refused").Outcome != OutcomePassed {
		t.Errorf("errors %q", r.Errors)
	}
}

func TestBadExpectedFailuresFiles(t *testing.T) {
	cases := map[string]string{
		"- scenario: Works\n  reason: r\n  ticket: ID-1\n":       `line 3: entry 1: unknown field "ticket"`,
		"- scenaro: Works\n  reason: r\n":                        `unknown field "scenaro"`,
		"- scenario: Works\n":                                    "entry 1: reason is missing",
		"- scenario: Works\n  reason: \"  \"\n":                  "reason is missing or empty",
		"- scenario: \"\"\n  reason: r\n":                        "entry 1: scenario is missing or empty",
		"- reason: r\n":                                          "scenario is missing",
		"scenario: Works\nreason: r\n":                           "want a YAML list",
		"- Works\n":                                              "want a mapping",
		"- scenario: [a, b]\n  reason: r\n":                      "scenario must be a string",
		"- scenario: A\n  scenario: B\n  reason: r\n":            "scenario is given twice",
		"- {scenario: A, reason: r}\n- {scenario: A, reason: s}": `"A" is already listed at line 1`,
		"- scenario: \"unterminated\n":                           "expected failures: yaml:",
		"- {scenario: A, reason: r}\n---\n- {scenario: B}\n":     "one YAML document",
	}
	for in, want := range cases {
		_, err := ParseExpectedFailures([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want one with %q", in, err, want)
		}
	}
	// Several problems are all named at once.
	_, err := ParseExpectedFailures([]byte("- {scenaro: A, reason: r}\n- {scenario: B}\n"))
	if err == nil || !strings.Contains(err.Error(), "entry 1") || !strings.Contains(err.Error(), "entry 2") {
		t.Errorf("err = %v", err)
	}
	for _, empty := range []string{"", "# nothing expected to fail\n", "[]"} {
		if list, err := ParseExpectedFailures([]byte(empty)); err != nil || len(list) != 0 {
			t.Errorf("%q: %v %v", empty, list, err)
		}
	}
	path := filepath.Join(t.TempDir(), "xf.yaml")
	if err := os.WriteFile(path, []byte("- {scenario: A}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadExpectedFailures(path); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("the file is not named: %v", err)
	}
	if _, err := LoadExpectedFailures(path + ".missing"); err == nil {
		t.Error("a missing file is no error")
	}
}

// An entry keyed to a step and an error covers only that fault: the same scenario failing at
// another step, or with another error, fails the run again.
func TestExpectedFailureKeyedToItsStepAndError(t *testing.T) {
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	failed := scenario(t, r, "Tokens", "Broken").FailedStep()
	if failed == nil {
		t.Fatal("the fixture's Broken has no failed step")
	}
	r.ApplyExpectedFailures(mustParseList(t, `
- {scenario: Broken, step: 'the answer is', error: '`+strings.SplitN(failed.Error, " ", 2)[0]+`', reason: the known fault}
- {scenario: Rows, step: 'a step that is not the failing one', reason: an old fault}
`), false)
	if o := scenario(t, r, "Tokens", "Broken").Outcome; o != OutcomeExpectedFailure {
		t.Errorf("Broken at its listed step and error: %s", o)
	}
	if o := scenario(t, r, "Tokens", "Rows (example 2)").Outcome; o != OutcomeFailed {
		t.Errorf("Rows failing at another step than listed: %s, want failed", o)
	}
	if r.OK() || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], `not at a step with "a step that is not the failing one"`) {
		t.Errorf("OK=%v warnings=%q", r.OK(), r.Warnings)
	}

	r = parseFixture(t, map[string]string{"t.feature": simpleFeature})
	r.ApplyExpectedFailures(mustParseList(t, `- {scenario: Broken, error: 'no such words in it', reason: r}`), false)
	if o := scenario(t, r, "Tokens", "Broken").Outcome; o != OutcomeFailed {
		t.Errorf("Broken with another error than listed: %s", o)
	}
}

// A flaky entry accepts a pass and a failure.
func TestFlakyEntryAcceptsBoth(t *testing.T) {
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	r.ApplyExpectedFailures(mustParseList(t, `
- {scenario: Works, reason: races on a busy provider, flaky: true}
- {scenario: Broken, reason: races on a busy provider, flaky: true}
- {scenario: Rows, reason: r}
`), false)
	if !r.OK() || len(r.Errors) != 0 {
		t.Fatalf("OK=%v errors=%q", r.OK(), r.Errors)
	}
	if o := scenario(t, r, "Tokens", "Works").Outcome; o != OutcomePassed {
		t.Errorf("a flaky scenario that passed: %s", o)
	}
	if o := scenario(t, r, "Tokens", "Broken").Outcome; o != OutcomeExpectedFailure {
		t.Errorf("a flaky scenario that failed: %s", o)
	}
	if _, err := ParseExpectedFailures([]byte(`- {scenario: a, reason: b, flaky: maybe}`)); err == nil || !strings.Contains(err.Error(), "flaky must be true or false") {
		t.Errorf("flaky: maybe: %v", err)
	}
}

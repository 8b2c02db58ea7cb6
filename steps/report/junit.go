package report

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// JUnit XML, as CI servers read it: a testsuite per feature, a testcase per scenario. Written from
// the results rather than by godog's junit formatter so that expected failures are <skipped> and
// unexpected passes are <failure>, and a skipped scenario says why.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string           `xml:"name,attr"`
	Tests      int              `xml:"tests,attr"`
	Failures   int              `xml:"failures,attr"`
	Errors     int              `xml:"errors,attr"`
	Skipped    int              `xml:"skipped,attr"`
	Time       string           `xml:"time,attr"`
	Timestamp  string           `xml:"timestamp,attr,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	Cases      []junitCase      `xml:"testcase"`
}

// junitProperties say which build wrote the report and against what (junit-10.xsd's properties).
type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// maxMessage caps the message attribute (CI shows it on one line); the whole error is the
// element's text.
const maxMessage = 500

func (m Meta) junitProperties() *junitProperties {
	var p junitProperties
	for _, kv := range [][2]string{{"oauth-harness.version", m.Harness}, {"target", m.Target}, {"issuer", m.Issuer}} {
		if kv[1] != "" {
			p.Property = append(p.Property, junitProperty{Name: kv[0], Value: kv[1]})
		}
	}
	if len(p.Property) == 0 {
		return nil
	}
	return &p
}

// WriteJUnit writes the results as JUnit XML.
func WriteJUnit(w io.Writer, r *Results) error {
	doc := junitSuites{Name: "oauth-harness conformance"}
	var total time.Duration
	var timestamp string
	if !r.Meta.Started.IsZero() {
		timestamp = r.Meta.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, f := range r.Features {
		s := junitSuite{Name: f.Name, Timestamp: timestamp, Properties: r.Meta.junitProperties()}
		var d time.Duration
		for _, sc := range f.Scenarios {
			c := junitCaseOf(sc)
			s.Tests++
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Error != nil:
				s.Errors++
			case c.Skipped != nil:
				s.Skipped++
			}
			d += sc.Duration
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(d)
		total += d
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
		doc.Suites = append(doc.Suites, s)
	}
	if r.Meta.Elapsed > 0 {
		total = r.Meta.Elapsed
	}
	doc.Time = seconds(total)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	buf.WriteString("\n")
	_, err := buf.WriteTo(w)
	return err
}

func junitCaseOf(sc *Scenario) junitCase {
	c := junitCase{Name: sc.Title(), Classname: sc.Feature, Time: seconds(sc.Duration)}
	failed := sc.FailedStep()
	switch sc.Outcome {
	case OutcomePassed:
	case OutcomeSkipped:
		c.Skipped = &junitSkipped{Message: oneLine(cmp.Or(sc.SkipReason(), "skipped"))}
	case OutcomeExpectedFailure:
		c.Skipped = &junitSkipped{Message: oneLine("expected failure: " + sc.ExpectedReason())}
		if failed != nil {
			c.SystemOut = stepText(failed) + "\n" + failed.Error
		}
	case OutcomeUnexpectedPass:
		c.Failure = &junitProblem{Type: "unexpected pass",
			Message: oneLine("unexpectedly passing: remove it from the expected-failures list (listed because: " + sc.ExpectedReason() + ")"),
			Text:    stepsText(sc)}
	case OutcomeUndefined, OutcomePending:
		c.Error = &junitProblem{Type: string(sc.Outcome), Message: oneLine(firstStepWith(sc, sc.Status)), Text: stepsText(sc)}
	default:
		msg := "failed"
		if failed != nil {
			msg = stepText(failed) + ": " + failed.Error
		}
		c.Failure = &junitProblem{Type: "failed", Message: oneLine(msg), Text: stepsText(sc)}
	}
	return c
}

func firstStepWith(sc *Scenario, s Status) string {
	for _, st := range sc.Steps {
		if st.Status == s {
			return stepText(st) + " is " + string(s)
		}
	}
	return "no steps"
}

func stepText(st *Step) string { return "Step " + strings.TrimSpace(st.Keyword) + " " + st.Name }

// stepsText is each step with its status and any error, the way a reader of a CI log wants it.
func stepsText(sc *Scenario) string {
	var b strings.Builder
	for _, st := range sc.Steps {
		fmt.Fprintf(&b, "%-9s %s %s\n", st.Status, strings.TrimSpace(st.Keyword), st.Name)
		if st.Error != "" {
			b.WriteString(indent(st.Error, "          "))
			b.WriteString("\n")
		}
	}
	return strings.ToValidUTF8(b.String(), "\uFFFD")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// oneLine flattens and caps a message for an attribute.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) > maxMessage {
		s = strings.ToValidUTF8(s[:maxMessage], "") + "…"
	}
	return s
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
)

type parsedJUnit struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Class   string `xml:"classname,attr"`
			Time    string `xml:"time,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnitFromTheResults(t *testing.T) {
	r := parseFixture(t, map[string]string{"m2m.feature": evidenceFeature, "other.feature": otherFeature})
	r.ApplyExpectedFailures(mustParseList(t, `
- {scenario: Forged tokens are refused, reason: "answers 200 (ID-9)"}
- {scenario: A wrong secret is refused, feature: Another feature, reason: "<was> broken"}
`), false)
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	var doc parsedJUnit
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b.String())
	}
	// 7 scenarios: 2 failures (a failure, an unexpected pass), 1 error (undefined), 2 skipped (a skip, an expected failure).
	if doc.Tests != 7 || doc.Failures != 2 || doc.Errors != 1 || doc.Skipped != 2 || len(doc.Suites) != 2 {
		t.Fatalf("totals: %+v", doc)
	}
	cases := map[string]int{}
	for si, s := range doc.Suites {
		for ci, c := range s.Cases {
			if c.Class != s.Name || c.Time == "" {
				t.Errorf("%q: classname %q time %q", c.Name, c.Class, c.Time)
			}
			cases[s.Name+" / "+c.Name] = si*100 + ci
		}
	}
	get := func(name string) int {
		i, ok := cases[name]
		if !ok {
			t.Fatalf("no testcase %q in %v", name, cases)
		}
		return i
	}
	c := func(name string) (f, e, s bool, msg, text string) {
		i := get(name)
		tc := doc.Suites[i/100].Cases[i%100]
		if tc.Failure != nil {
			f, msg, text = true, tc.Failure.Message, tc.Failure.Text
		}
		if tc.Skipped != nil {
			s, msg = true, tc.Skipped.Message
		}
		return f, tc.Error != nil, s, msg, text
	}
	if f, _, _, msg, text := c(m2m + " / A wrong secret is refused"); !f || !strings.Contains(msg, `Step Then the answer is "<script>alert(1)</script>": status: got`) ||
		!strings.Contains(text, "skipped   And all is well") {
		t.Errorf("failure: %v %q\n%s", f, msg, text)
	}
	if _, _, s, msg, _ := c(m2m + " / Forged tokens are refused (example 2)"); !s || msg != "expected failure: answers 200 (ID-9)" {
		t.Errorf("expected failure: %v %q", s, msg)
	}
	if f, _, s, _, _ := c(m2m + " / Forged tokens are refused (example 1)"); f || s {
		t.Error("the passing row of a listed outline is not a pass")
	}
	if f, _, _, msg, _ := c("Another feature / A wrong secret is refused"); !f || !strings.Contains(msg, "remove it from the expected-failures list (listed because: <was> broken)") {
		t.Errorf("unexpected pass: %v %q", f, msg)
	}
	if _, _, s, msg, _ := c(m2m + " / Admin things"); !s || msg != "the target lacks admin" {
		t.Errorf("skipped: %v %q", s, msg)
	}
	if _, e, _, _, _ := c(m2m + " / Not written yet"); !e {
		t.Error("an undefined scenario is not an error")
	}
}

// Control characters from a server's body are not valid XML 1.0; the file must still parse.
func TestJUnitSurvivesControlCharacters(t *testing.T) {
	r := parseFixture(t, map[string]string{"t.feature": simpleFeature})
	scenario(t, r, "Tokens", "Broken").Steps[0].Error = "body: \x00\x1b[31m\xff]]>"
	var b bytes.Buffer
	if err := WriteJUnit(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(parsedJUnit)); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
}

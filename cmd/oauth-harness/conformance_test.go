package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
	"gopkg.in/yaml.v3"
)

// The fast, browser-free part of the catalogue.
const quickTags = "@discovery,@client-credentials"

// junitDoc is what a CI server reads from junit.xml.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, dir string) junitDoc {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%.500s", err, raw)
	}
	return doc
}

func TestConformanceAgainstTheEmbeddedServerWritesReports(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"conformance", "--out", out, "--tags", quickTags}, &stdout, io.Discard); err != nil {
		t.Fatalf("conformance: %v\n%s", err, stdout.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "cucumber.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report []struct {
		Elements []struct {
			Steps []struct {
				Result struct{ Status string } `json:"result"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &report); err != nil || len(report) < 2 {
		t.Fatalf("cucumber.json: %d features, err %v", len(report), err)
	}
	scenarios := 0
	for _, f := range report {
		for _, sc := range f.Elements {
			scenarios++
			for _, st := range sc.Steps {
				if st.Result.Status != "passed" {
					t.Errorf("a step is %q against the reference server", st.Result.Status)
				}
			}
		}
	}
	if scenarios < 10 {
		t.Errorf("%d scenarios ran, want every discovery and client-credentials one", scenarios)
	}
	if doc := readJUnit(t, out); doc.Tests != scenarios || doc.Failures != 0 || len(doc.Suites) != len(report) {
		t.Errorf("junit.xml: %d tests, %d failures, %d suites", doc.Tests, doc.Failures, len(doc.Suites))
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !bytes.Contains(page, []byte("embedded reference server")) || !bytes.Contains(page, []byte("PASSED")) ||
		!bytes.Contains(page, []byte(`href="https://www.rfc-editor.org/rfc/rfc6749#section-4.4"`)) {
		t.Errorf("report.html: %v %.300s", err, page)
	}
	for _, want := range []string{" scenarios: ", " passed, 0 failed, ", "report: " + filepath.Join(out, "report.html"),
		"report: " + filepath.Join(out, "junit.xml"), "report: " + filepath.Join(out, "cucumber.json")} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, lastLines(stdout.String(), 8))
		}
	}
}

// defectiveTarget starts a reference server with a defect on and writes its target profile.
func defectiveTarget(t *testing.T, defect string) string {
	t.Helper()
	srv := servertest.Start(t, server.Options{})
	req, _ := http.NewRequest(http.MethodPut, srv.IssuerURL()+"/admin/defects", strings.NewReader(`{"on":["`+defect+`"]}`))
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /admin/defects: %d", resp.StatusCode)
	}
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), servertest.Credentials(t), target.KnownCapabilities)
	p.Name, p.AdminToken = "reference server with "+defect, servertest.AdminToken
	return writeProfile(t, p)
}

// writeProfile writes a profile as YAML; durations are written the way the profile reads them.
func writeProfile(t *testing.T, p *target.Profile) string {
	t.Helper()
	b, err := yaml.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	apis, _ := m["apis"].(map[string]any)
	for _, a := range apis {
		if api, ok := a.(map[string]any); ok {
			if n, ok := api["token_lifetime"].(int); ok {
				api["token_lifetime"] = time.Duration(n).String()
			}
		}
	}
	if b, err = yaml.Marshal(m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// With a defect on, "A wrong secret is refused" fails. On the expected-failures list it no longer
// fails the run; a listed scenario that passes does; and without a list the failure counts as before.
func TestConformanceExpectedFailures(t *testing.T) {
	tf := defectiveTarget(t, "as-accepts-wrong-client-secret")
	const feature = "Machine-to-machine access with client credentials"
	listed := `
- scenario: "A wrong secret is refused"
  feature: "` + feature + `"
  reason: "our provider answers 200 (ticket ID-123)"
- scenario: "A scenario this run left out"
  reason: "filtered away"
`
	conformance := func(extra ...string) (string, string, error) {
		out := t.TempDir()
		var stdout bytes.Buffer
		args := append([]string{"conformance", "--target", tf, "--out", out, "--tags", "@client-credentials && @rfc6749-5.2"}, extra...)
		err := run(context.Background(), args, &stdout, io.Discard)
		return out, stdout.String(), err
	}

	t.Run("expected failure", func(t *testing.T) {
		out, stdout, err := conformance("--expected-failures", writeFile(t, "xf.yaml", listed))
		if err != nil {
			t.Fatalf("a listed failure failed the run: %v\n%s", err, stdout)
		}
		for _, want := range []string{
			"0 failed, 0 skipped, 1 expected failure, 0 unexpected passes",
			"expected failure: " + feature + " › A wrong secret is refused: our provider answers 200 (ticket ID-123)",
			`warning: expected failure "A scenario this run left out" (line 5) matches no scenario that ran`,
		} {
			if !strings.Contains(stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, lastLines(stdout, 10))
			}
		}
		doc := readJUnit(t, out)
		found := false
		for _, s := range doc.Suites {
			for _, c := range s.Cases {
				if c.Name == "A wrong secret is refused" {
					found = c.Skipped != nil && c.Skipped.Message == "expected failure: our provider answers 200 (ticket ID-123)" && c.Failure == nil
				}
			}
		}
		if !found || doc.Failures != 0 {
			t.Errorf("junit.xml does not show the expected failure as skipped: %+v", doc)
		}
		page, _ := os.ReadFile(filepath.Join(out, "report.html"))
		if !bytes.Contains(page, []byte("Expected failure: our provider answers 200 (ticket ID-123)")) {
			t.Error("report.html does not show the reason")
		}
	})

	t.Run("unexpected pass", func(t *testing.T) {
		list := listed + "- {scenario: An unknown client is refused, reason: was broken once}\n"
		out, stdout, err := conformance("--expected-failures", writeFile(t, "xf.yaml", list))
		if !errors.Is(err, errScenariosFailed) {
			t.Fatalf("err = %v, want the run failed", err)
		}
		if want := "unexpectedly passing: " + feature + " › An unknown client is refused: remove it from the expected-failures list"; !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, lastLines(stdout, 10))
		}
		if doc := readJUnit(t, out); doc.Failures != 1 {
			t.Errorf("junit.xml: %d failures, want the unexpected pass", doc.Failures)
		}
	})

	t.Run("no list", func(t *testing.T) {
		_, stdout, err := conformance()
		if !errors.Is(err, errScenariosFailed) || !strings.Contains(stdout, "failed: "+feature+" › A wrong secret is refused") {
			t.Errorf("err = %v\n%s", err, lastLines(stdout, 10))
		}
	})
}

// Without --tags every scenario of the catalogue ran, so a name matching none is an error. (A
// target with no capabilities skips most of the catalogue, which keeps this quick.)
func TestConformanceExpectedFailureNamingNothing(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), servertest.Credentials(t), nil)
	tf := writeProfile(t, p)
	list := writeFile(t, "xf.yaml", "- {scenario: A wrong secrte is refused, reason: typo}\n")
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"conformance", "--target", tf, "--out", t.TempDir(), "--expected-failures", list}, &stdout, io.Discard)
	const want = `expected failure "A wrong secrte is refused" (line 1) matches no scenario that ran: fix the name or remove the entry`
	// The error is in the summary; the returned error names it too unless scenarios failed as well.
	if err == nil || !strings.Contains(stdout.String(), "error: "+want) || (!errors.Is(err, errScenariosFailed) && !strings.Contains(err.Error(), want)) {
		t.Errorf("err = %v\n%s", err, lastLines(stdout.String(), 10))
	}
}

func TestConformanceRejectsBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(bad, []byte("issuer: ftp://nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	badList := writeFile(t, "xf.yaml", "- scenario: A wrong secret is refused\n  reson: typo\n")
	cases := map[string][]string{
		"issuer":                  {"conformance", "--target", bad},
		"no such file":            {"conformance", "--target", filepath.Join(t.TempDir(), "missing.yaml")},
		"--concurrency":           {"conformance", "--concurrency", "0"},
		"takes no arguments":      {"conformance", "extra"},
		"incomplete":              {"conformance", "--out", t.TempDir(), "--tags", "@a && "},
		`unknown field "reson"`:   {"conformance", "--expected-failures", badList},
		"expected failures: open": {"conformance", "--expected-failures", badList + ".missing"},
	}
	for want, args := range cases {
		err := run(context.Background(), args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v, want one mentioning %q", args, err, want)
		}
		if errors.Is(err, errScenariosFailed) {
			t.Errorf("%v: bad input reported as failed scenarios", args)
		}
	}
}

func TestConformanceHelpDescribesTheList(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"conformance", "-h"}, io.Discard, &stderr)
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "--expected-failures") ||
		!strings.Contains(stderr.String(), "reason:") || !strings.Contains(stderr.String(), "-expected-failures string") {
		t.Errorf("err = %v\n%s", err, stderr.String())
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

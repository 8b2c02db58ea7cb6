package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/steps/report"
)

// The catalogue against a real third-party provider: panva's oidc-provider, installed from npm
// and started on loopback by the script make conformance-oidc-provider uses. Every verdict must
// hold for it: no failure beyond its expected-failures file (genuine non-conformances, each with
// its clause), and at least 55 scenarios really run, not skipped.
func TestCatalogueAgainstOIDCProvider(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is required for the oidc-provider target (.ci/setup installs it; Debian: apt-get install nodejs npm)")
	}
	out := t.TempDir()
	bin := filepath.Join(t.TempDir(), "oauth-harness")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	cmd := exec.CommandContext(t.Context(), "../../fixtures/targets/oidc-provider/with-provider.sh", bin, "conformance",
		"--target", "../../fixtures/targets/oidc-provider.yaml",
		"--expected-failures", "../../fixtures/targets/oidc-provider.expected.yaml", "--out", out)
	var console bytes.Buffer
	cmd.Stdout, cmd.Stderr = &console, &console
	err := cmd.Run()
	res, perr := report.ParseFile(filepath.Join(out, "cucumber.json"))
	if perr != nil {
		t.Fatalf("no results (%v): %v\n%s", err, perr, tail(console.String(), 3000))
	}
	res.ApplyExpectedFailures(mustExpected(t), false)
	ran := 0
	for _, sc := range res.Scenarios() {
		if sc.Status != report.Skipped {
			ran++
		}
		if sc.Outcome.Fails() {
			st := sc.FailedStep()
			msg := ""
			if st != nil {
				msg = st.Name + ": " + st.Error
			}
			t.Errorf("%s › %s: %s %s", sc.Feature, sc.Title(), sc.Outcome, msg)
		}
	}
	if ran < 55 {
		t.Errorf("%d scenarios ran against oidc-provider, want at least 55", ran)
	}
	if err != nil && !t.Failed() {
		t.Errorf("the run failed: %v\n%s", err, tail(console.String(), 3000))
	}
	t.Logf("oidc-provider: %s", res.Summary())
}

func mustExpected(t *testing.T) []report.ExpectedFailure {
	t.Helper()
	list, err := report.LoadExpectedFailures("../../fixtures/targets/oidc-provider.expected.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[strings.LastIndex(s[:len(s)-n], "\n")+1:]
}

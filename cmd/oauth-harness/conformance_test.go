package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConformanceAgainstTheEmbeddedServerWritesReports(t *testing.T) {
	out := t.TempDir()
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"conformance", "--out", out}, &stdout, io.Discard); err != nil {
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
	if err := json.Unmarshal(raw, &report); err != nil || len(report) < 3 {
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
	if scenarios < 15 {
		t.Errorf("%d scenarios ran, want the whole catalogue", scenarios)
	}
	junit, err := os.ReadFile(filepath.Join(out, "junit.xml"))
	if err != nil || !bytes.Contains(junit, []byte("<testsuite")) {
		t.Errorf("junit.xml: %v %.200s", err, junit)
	}
	if !strings.Contains(stdout.String(), "reports: ") {
		t.Errorf("the command does not say where the reports are:\n%s", stdout.String())
	}
}

func TestConformanceRejectsBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "target.yaml")
	if err := os.WriteFile(bad, []byte("issuer: ftp://nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string][]string{
		"issuer":             {"conformance", "--target", bad},
		"no such file":       {"conformance", "--target", filepath.Join(t.TempDir(), "missing.yaml")},
		"--concurrency":      {"conformance", "--concurrency", "0"},
		"takes no arguments": {"conformance", "extra"},
		"incomplete":         {"conformance", "--out", t.TempDir(), "--tags", "@a && "},
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

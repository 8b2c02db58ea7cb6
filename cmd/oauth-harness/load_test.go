package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childEnv makes this test binary act as the harness when the load command re-executes it to run
// the server in a child process (os.Executable is the test binary under go test).
const childEnv = "OAUTH_HARNESS_TEST_AS_MAIN"

func init() {
	if os.Getenv(childEnv) != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func TestLoadRejectsBadInvocations(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		message string
	}{
		{"no scenario", []string{"--rate", "10", "--duration", "1s"}, "--scenario is required"},
		{"unknown scenario", []string{"--scenario", "password", "--rate", "10", "--duration", "1s"}, `unknown scenario "password"`},
		{"no duration", []string{"--scenario", "jwks", "--rate", "10"}, "every run is bounded"},
		{"huge duration", []string{"--scenario", "jwks", "--rate", "10", "--duration", "2h"}, "over the 30m0s limit"},
		{"zero rate", []string{"--scenario", "jwks", "--rate", "0.5", "--duration", "1s"}, "rate must be"},
		{"find-max and rate", []string{"--scenario", "jwks", "--find-max", "--rate", "10"}, "leave out --rate"},
		{"bad slo", []string{"--scenario", "jwks", "--find-max", "--slo-success", "1.5"}, "--slo-success"},
		{"unbounded search", []string{"--scenario", "jwks", "--find-max", "--budget", "2h"}, "budget"},
		{"bad gate", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "--min-success", "2"}, "--min-success"},
		{"no workers", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "--workers", "0"}, "--workers"},
		{"mix elsewhere", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "--mix", "api=1"}, "--mix is for"},
		{"bad mix", []string{"--scenario", "mixed", "--rate", "1", "--duration", "1s", "--mix", "api=x"}, "NAME=WEIGHT"},
		{"codes expire", []string{"--scenario", "authorization-code", "--rate", "1", "--duration", "1m"}, "codes minted beforehand"},
		{"stray argument", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "extra"}, "no arguments"},
		{"report without files", []string{"report"}, "needs result files"},
		{"unknown signing alg", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "--signing-alg", "RS512"}, `--signing-alg "RS512" is not one of`},
		{"signing alg of a target", []string{"--scenario", "jwks", "--rate", "1", "--duration", "1s", "--signing-alg", "ES256", "--target", "x.yaml"}, "configures the embedded server"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"load"}, tc.args...), io.Discard, io.Discard)
			if err == nil || !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("err = %v, want a usage error mentioning %q", err, tc.message)
			}
		})
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"load", "-h"}, io.Discard, &out); !errors.Is(err, flag.ErrHelp) ||
		!strings.Contains(out.String(), "load report") {
		t.Errorf("-h: %v\n%s", err, out.String())
	}
}

func profile(t *testing.T, issuer string) string {
	p := filepath.Join(t.TempDir(), "target.yaml")
	yaml := "name: elsewhere\nissuer: " + issuer + "\napi_base_url: " + issuer + "/api\n"
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadRefusesTargetsOffLoopbackAndNamesAnUnreachableIssuer(t *testing.T) {
	args := []string{"load", "--scenario", "jwks", "--rate", "1", "--duration", "1s", "--out", t.TempDir()}
	// TEST-NET-1: refused before any request, so nothing is sent there.
	err := run(context.Background(), append(args, "--target", profile(t, "http://192.0.2.1:9000")), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "not on loopback") {
		t.Errorf("remote target: %v", err)
	}
	err = run(context.Background(), append(args, "--target", profile(t, "http://127.0.0.1:1")), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("unreachable issuer: %v", err)
	}
}

// TestLoadAgainstTheEmbeddedServerInAChild runs the whole command: the server in a child process,
// a short attack, the outputs, the server's CPU, an objective missed on purpose, and the merge of
// two result files.
func TestLoadAgainstTheEmbeddedServerInAChild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a server process")
	}
	t.Setenv(childEnv, "1")
	dir := t.TempDir()
	var out strings.Builder
	err := run(context.Background(), []string{"load", "--scenario", "client-credentials", "--rate", "20", "--duration", "2s",
		"--out", dir, "--calibrate", "20ms", "--max-p99", "1ns", "--min-success", "1"}, &out, io.Discard)
	if !errors.Is(err, errObjectivesMissed) || !strings.Contains(err.Error(), "--max-p99") || strings.Contains(err.Error(), "--min-success") {
		t.Fatalf("err = %v (want only the p99 objective missed)\n%s", err, out.String())
	}
	for _, want := range []string{"success       100.0000%", "server CPU", "per successful request", "crypto ", "ceiling ", "MISSED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	results := filepath.Join(dir, "results.bin")
	copyFile(t, results, filepath.Join(dir, "other-host.bin"))
	merged := filepath.Join(dir, "merged")
	out.Reset()
	err = run(context.Background(), []string{"load", "report", "--out", merged, "--min-success", "1", results, filepath.Join(dir, "other-host.bin")}, &out, io.Discard)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	if one, two := requests(t, dir), requests(t, merged); one == 0 || two != 2*one {
		t.Errorf("one file %d requests, merged %d:\n%s", one, two, out.String())
	}
	for _, f := range []string{"summary.txt", "summary.json", "latency.hgrm", "report.html", "plot.html"} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestLoadSigningAlgReachesTheChild: --signing-alg changes what the child server signs with, and the
// crypto ceiling follows it (the summary names the algorithm the tokens carry).
func TestLoadSigningAlgReachesTheChild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a server process")
	}
	t.Setenv(childEnv, "1")
	for _, alg := range []string{"ES256", "HS256"} {
		var out strings.Builder
		err := run(context.Background(), []string{"load", "--scenario", "api", "--rate", "20", "--duration", "1s",
			"--out", t.TempDir(), "--calibrate", "20ms", "--min-success", "1", "--signing-alg", alg}, &out, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v\n%s", alg, err, out.String())
		}
		if want := "1×" + alg + " verify per request"; !strings.Contains(out.String(), want) {
			t.Errorf("%s: output lacks %q:\n%s", alg, want, out.String())
		}
	}
}

func requests(t *testing.T, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Summary struct {
			Requests int `json:"requests"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s.Summary.Requests
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures/partner-apps/acmecms"
)

// certifyExample runs certify-client against the example Acme CMS app (careless or not), started
// the way a partner would: after the harness printed its issuer.
func certifyExample(t *testing.T, careless bool) (certification, string, error) {
	t.Helper()
	appLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	harnessLn, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	harnessAddr := harnessLn.Addr().String()
	harnessLn.Close() // the harness listens there itself
	app := "http://" + appLn.Addr().String()
	dir := t.TempDir()
	profile := filepath.Join(dir, "acme-cms.yaml")
	if err := os.WriteFile(profile, []byte(fmt.Sprintf(`
name: Acme CMS
client_id: acme-cms-partner
client_secret: acme-cms-partner-secret-0123456789
redirect_uri: %[1]s/oauth/callback
start_url: %[1]s/enable
scopes: [openid, profile, read:contacts]
uses_id_token: true
background_sync: {url: "%[1]s/sync"}
enabled_selector: "#integration-enabled"
error_selector: "#integration-error"
`, app)), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "reports")
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(t.Context(), []string{"certify-client", "--profile", profile, "--addr", harnessAddr, "--out", out, "--wait", "30s"}, &stdout, &stderr)
	}()
	issuer := "http://" + harnessAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(issuer + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the harness did not come up: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	a, err := acmecms.New(acmecms.Config{Issuer: issuer, ClientID: "acme-cms-partner", ClientSecret: "acme-cms-partner-secret-0123456789",
		RedirectURL: app + "/oauth/callback", APIBaseURL: issuer + "/api", Audience: "https://api.contacts.example",
		Scopes: []string{"openid", "profile", "read:contacts"}, BackgroundSync: true, Account: "globex", Careless: careless})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(appLn)
	defer srv.Shutdown(context.Background())
	err = <-done
	var c certification
	b, rerr := os.ReadFile(filepath.Join(out, "certification.json"))
	if rerr != nil {
		t.Fatalf("no certification.json (%v): %v\n%s\n%s", err, rerr, stdout.String(), stderr.String())
	}
	if jerr := json.Unmarshal(b, &c); jerr != nil {
		t.Fatal(jerr)
	}
	for _, f := range []string{"report.html", "junit.xml", "cucumber.json"} {
		if _, serr := os.Stat(filepath.Join(out, f)); serr != nil {
			t.Errorf("report %s missing: %v", f, serr)
		}
	}
	return c, stdout.String(), err
}

func failedChecks(c certification) []string {
	var out []string
	for _, ch := range c.Checks {
		if ch.Status == "failed" {
			name, _, _ := strings.Cut(ch.Check, " (example")
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// The correct example app passes every check; each check carries its evidence.
func TestCertifyTheCorrectExampleApp(t *testing.T) {
	c, stdout, err := certifyExample(t, false)
	if err != nil || !c.Certified {
		t.Fatalf("the correct app was not certified: %v; failed: %q\n%s", err, failedChecks(c), stdout)
	}
	if len(c.Checks) < 10 {
		t.Errorf("only %d checks ran", len(c.Checks))
	}
	for _, ch := range c.Checks {
		if ch.Status != "passed" {
			t.Errorf("%s: %s", ch.Check, ch.Status)
		}
		if len(ch.Evidence) == 0 {
			t.Errorf("%s: no evidence attached", ch.Check)
		}
	}
	if !strings.Contains(stdout, "client_secret   acme-cms-partner-secret") || !strings.Contains(stdout, "passed every check") {
		t.Errorf("the output does not give the app its configuration or the verdict:\n%.1500s", stdout)
	}
}

// The careless variant (no PKCE, a fixed state, the token in the query, no refresh) fails exactly
// the checks that look at those, and passes the rest.
func TestCertifyTheCarelessExampleApp(t *testing.T) {
	c, stdout, err := certifyExample(t, true)
	if !errors.Is(err, errNotCertified) || c.Certified {
		t.Fatalf("the careless app: err = %v, certified = %v\n%s", err, c.Certified, stdout)
	}
	want := []string{
		"API calls carry the token in the Authorization header, within scope and account",
		"Every authorization request carries a new, unguessable state",
		"The authorization request asks for a code with PKCE and a registered redirect URI",
		"The code is exchanged once, with client authentication and the code_verifier",
		"When access tokens expire, the app refreshes with the rotated refresh token",
		"When the user revokes consent, the app stops without retrying in a loop",
	}
	if got := failedChecks(c); !slices.Equal(got, want) {
		t.Errorf("failed checks:\n got  %q\n want %q\n%s", got, want, stdout)
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunRejectsBadInvocations(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "tenant.yaml")
	if err := os.WriteFile(bad, []byte("apis:\n  - name: x\n    identifier: y\n    signing_alg: RS257\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		args    []string
		usage   bool
		message string
	}{
		{"no command", nil, true, "a command is required"},
		{"unknown command", []string{"frobnicate"}, true, `unknown command "frobnicate"`},
		{"stray argument", []string{"serve", "extra"}, true, "serve takes no arguments"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, true, "--log-level"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, true, "--log-format"},
		{"missing fixtures", []string{"serve", "--fixtures", "/nonexistent/tenant.yaml"}, false, "no such file"},
		{"invalid fixtures", []string{"serve", "--fixtures", bad}, false, "apis[0].signing_alg"},
		{"bad issuer", []string{"serve", "--addr", "127.0.0.1:0", "--issuer", "ftp://x"}, false, "issuer must be an http(s) URL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("expected an error, got none")
			}
			if got := errors.Is(err, errUsage); got != tc.usage {
				t.Errorf("errors.Is(err, errUsage) = %v, want %v (err: %v)", got, tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not mention %q", err, tc.message)
			}
		})
	}
}

func TestServeStartsAnswersAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, pw, io.Discard)
		pw.Close()
	}()
	issuer := ""
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "issuer:"); ok {
			issuer = strings.TrimSpace(v)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
		t.Fatalf("serve printed issuer %q, want http://127.0.0.1:PORT", issuer)
	}
	for _, path := range []string{"/healthz", "/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		resp, err := http.Get(issuer + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", path, resp.StatusCode)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after cancel, want nil (graceful shutdown)", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down within 15 s of cancel")
	}
}

// serve runs "serve" with args until the test ends and returns what it printed up to the health line
// (the last), keyed by label ("issuer", "admin", ...).
func serve(t *testing.T, args ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	printed := map[string]string{}
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		label, value, _ := strings.Cut(sc.Text(), ":")
		printed[label] = strings.TrimSpace(value)
		if label == "health" {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if printed["issuer"] == "" {
		t.Fatalf("serve printed no issuer: %v", printed)
	}
	return printed
}

func status(t *testing.T, method, u, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeManagementFlags(t *testing.T) {
	const client = `{"redirect_uris":["https://x.example/cb"]}`
	cases := []struct {
		name        string
		env         string
		args        []string
		adminToken  string // "" when the admin API must be off
		regToken    string
		wantRegOpen bool
	}{
		{"defaults: no admin API, open registration", "", nil, "", "", true},
		{"admin token flag", "", []string{"--admin-token", "flag-token"}, "flag-token", "", true},
		{"admin token from the environment", "env-token", nil, "env-token", "", true},
		{"flag beats environment", "env-token", []string{"--admin-token", "flag-token"}, "flag-token", "", true},
		{"registration token", "", []string{"--registration-token", "iat"}, "", "iat", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(adminTokenEnv, tc.env)
			printed := serve(t, tc.args...)
			issuer := printed["issuer"]
			if printed["register"] != issuer+"/oidc/register" {
				t.Errorf("register line = %q", printed["register"])
			}
			admin := issuer + "/admin/apis"
			if tc.adminToken == "" {
				if got := status(t, http.MethodGet, admin, "anything", ""); got != http.StatusNotFound || printed["admin"] != "" {
					t.Errorf("admin API without a token: %d, printed %q; want 404 and no admin line", got, printed["admin"])
				}
			} else {
				if !strings.HasPrefix(printed["admin"], issuer+"/admin") {
					t.Errorf("admin line = %q", printed["admin"])
				}
				if got := status(t, http.MethodGet, admin, tc.adminToken, ""); got != http.StatusOK {
					t.Errorf("admin API with its token: %d", got)
				}
				if got := status(t, http.MethodGet, admin, tc.adminToken+"x", ""); got != http.StatusUnauthorized {
					t.Errorf("admin API with a wrong token: %d", got)
				}
			}
			open := status(t, http.MethodPost, issuer+"/oidc/register", "", client) == http.StatusCreated
			if open != tc.wantRegOpen {
				t.Errorf("registration without a token succeeded = %v, want %v", open, tc.wantRegOpen)
			}
			if tc.regToken != "" && status(t, http.MethodPost, issuer+"/oidc/register", tc.regToken, client) != http.StatusCreated {
				t.Error("registration with the initial access token failed")
			}
		})
	}
}

// The usage text must not show the admin token taken from the environment.
func TestServeHelpHidesTheAdminToken(t *testing.T) {
	t.Setenv(adminTokenEnv, "secret-admin-token")
	var help strings.Builder
	if err := run(context.Background(), []string{"serve", "-h"}, io.Discard, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("serve -h: %v", err)
	}
	if !strings.Contains(help.String(), "--admin-token") && !strings.Contains(help.String(), "-admin-token") {
		t.Errorf("help does not list the flag:\n%s", help.String())
	}
	if strings.Contains(help.String(), "secret-admin-token") {
		t.Error("help prints the admin token")
	}
}

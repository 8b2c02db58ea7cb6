package main

import (
	"bufio"
	"context"
	"errors"
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

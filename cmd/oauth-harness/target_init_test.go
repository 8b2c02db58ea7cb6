package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// target init against the reference server writes a profile that loads once its secrets are in
// the environment, with the capabilities the metadata shows and every alias of the catalogue.
func TestTargetInitWritesAProfileThatLoads(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	out := filepath.Join(t.TempDir(), "provider.yaml")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"target", "init", "--issuer", srv.IssuerURL(), "--out", out}, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"CONTACTS_WEB_SECRET", "ACME_CMS_SECRET", "ACME_SYNC_SECRET", "CONTACTS_IMPORTER_SECRET",
		"ACME_REPORTS_BOT_KEY", "OPS_CONSOLE_SECRET", "PAUL_PASSWORD"} {
		t.Setenv(v, "from-the-environment")
	}
	p, err := target.Load(out)
	if err != nil {
		t.Fatalf("the written profile does not load: %v", err)
	}
	if p.Issuer != srv.IssuerURL() || p.Clients["Acme Sync"].ClientSecret != "from-the-environment" {
		t.Errorf("issuer %q, Acme Sync %+v", p.Issuer, p.Clients["Acme Sync"])
	}
	for _, c := range []string{target.CapClientCredentials, target.CapAuthorizationCode, target.CapRefreshTokens, target.CapIntrospection,
		target.CapRevocation, target.CapRegistration, target.CapUserInfo, target.CapPrivateKeyJWT, target.CapOAuthMetadata} {
		if !p.Has(c) {
			t.Errorf("capability %s not inferred from the metadata (got %v)", c, p.Capabilities)
		}
	}
	if p.Has(target.CapAdmin) || p.Has(target.CapContactsAPI) {
		t.Errorf("reference-server-only capabilities inferred: %v", p.Capabilities)
	}
	for _, r := range target.Roles {
		b, _ := os.ReadFile(out)
		if !strings.Contains(string(b), r.Role) {
			t.Errorf("the profile does not explain the role of %s", r.Alias)
		}
	}
	if err := run(context.Background(), []string{"target", "init", "--issuer", srv.IssuerURL(), "--out", out}, &stdout, &bytes.Buffer{}); err == nil {
		t.Error("an existing file was overwritten")
	}
}

func TestTargetInitRefusesBadIssuers(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	for name, args := range map[string][]string{
		"no issuer":      {"target", "init"},
		"not a URL":      {"target", "init", "--issuer", "login.example.com"},
		"no subcommand":  {"target"},
		"unknown":        {"target", "frobnicate"},
		"unreachable":    {"target", "init", "--issuer", "http://127.0.0.1:1"},
		"another issuer": {"target", "init", "--issuer", srv.IssuerURL() + "/"},
		"stray argument": {"target", "init", "--issuer", srv.IssuerURL(), "extra"},
	} {
		err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		usage := errors.Is(err, errUsage)
		if wantUsage := name != "unreachable" && name != "another issuer"; usage != wantUsage {
			t.Errorf("%s: usage error %v, want %v (%v)", name, usage, wantUsage, err)
		}
	}
}

// --version names the build; the conformance reports say which build wrote them.
func TestVersionIsPrintedAndReported(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	v := strings.TrimSpace(out.String())
	if !strings.HasPrefix(v, "oauth-harness ") || !strings.Contains(v, "go1.") {
		t.Errorf("--version printed %q", v)
	}
	dir := t.TempDir()
	if err := run(context.Background(), []string{"conformance", "--tags", "@discovery and not @needs-oauth-metadata", "--out", dir}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"junit.xml", "report.html"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), v[len("oauth-harness "):]) {
			t.Errorf("%s does not name the build %q", f, v)
		}
	}
}

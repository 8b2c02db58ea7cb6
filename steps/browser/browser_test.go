package browser_test

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/steps/browser"
	"golang.org/x/oauth2"
)

const callback = "https://cms.acme.example/oauth/callback"

func startBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	b, err := browser.Start(context.Background())
	if err != nil {
		t.Fatalf("%v", err) // never a skip: Chromium is part of this project's set-up
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return b
}

// A real Chromium logs in on the reference server's page, reads Acme CMS's consent page, allows,
// and the redirect to the partner's callback (a host that does not exist) is captured in the browser.
func TestLoginAndConsentInChromium(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	creds := servertest.Credentials(t)
	b := startBrowser(t)
	tab, err := b.NewTab()
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()

	verifier := oauth2.GenerateVerifier()
	cfg := oauth2.Config{ClientID: "acme-cms", RedirectURL: callback, Scopes: []string{"openid", "read:contacts"},
		Endpoint: oauth2.Endpoint{AuthURL: srv.IssuerURL() + "/authorize"}}
	if err := tab.CaptureRedirects(callback); err != nil {
		t.Fatal(err)
	}
	defer tab.StopCapture()
	must := func(err error) {
		t.Helper()
		if err != nil {
			shot, _ := tab.Screenshot()
			t.Fatalf("%v (page screenshot: %d bytes)", err, len(shot))
		}
	}
	must(tab.Navigate(cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier))))
	must(tab.Fill("#username", creds.Users["paul"].Email))
	must(tab.Fill("#password", creds.Users["paul"].Password))
	must(tab.Click("#login-submit"))
	must(tab.WaitVisible("#consent-form"))

	name, err := tab.Text("#client-name")
	must(err)
	if name != "Acme CMS" {
		t.Errorf("consent page names %q, want Acme CMS", name)
	}
	scopes, err := tab.Texts("#consent-scopes li")
	must(err)
	if !slices.Contains(scopes, "Read your contacts") {
		t.Errorf("consent page lists %q, want \"Read your contacts\" among them", scopes)
	}
	shot, err := tab.Screenshot()
	must(err)
	if !bytes.HasPrefix(shot, []byte("\x89PNG")) {
		t.Errorf("screenshot is not a PNG (%d bytes)", len(shot))
	}

	must(tab.Click("#consent-allow"))
	got, err := tab.Redirected()
	must(err)
	u, err := url.Parse(got)
	must(err)
	q := u.Query()
	if !strings.HasPrefix(got, callback+"?") || q.Get("code") == "" || q.Get("state") != "state-123" || q.Get("iss") != srv.IssuerURL() {
		t.Errorf("redirect %q, want the callback with a code, state-123 and iss", got)
	}

	// A second scenario's tab is a fresh incognito context: no session, so the login page again.
	other, err := b.NewTab()
	must(err)
	defer other.Close()
	if err := other.Navigate(cfg.AuthCodeURL("state-456", oauth2.S256ChallengeOption(verifier))); err != nil {
		t.Fatal(err)
	}
	if err := other.WaitVisible("#login-form"); err != nil {
		t.Errorf("a new tab shares the first one's session: %v", err)
	}
}

func TestActionTimeoutNamesTheSelector(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	b := startBrowser(t)
	b.ActionTimeout = 1500 * time.Millisecond
	tab, err := b.NewTab()
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if err := tab.Navigate(srv.IssuerURL() + "/healthz"); err != nil {
		t.Fatal(err)
	}
	err = tab.WaitVisible("#never-there")
	if err == nil || !strings.Contains(err.Error(), "#never-there") || !strings.Contains(err.Error(), "1.5s") {
		t.Errorf("err = %v, want a timeout naming the selector and the limit", err)
	}
	if _, err := tab.Redirected(); err == nil {
		t.Error("Redirected without CaptureRedirects must fail")
	}
}

func TestMissingBrowserIsAClearError(t *testing.T) {
	t.Setenv("CHROME_PATH", "/nonexistent/chromium")
	_, err := browser.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "CHROME_PATH=/nonexistent/chromium") {
		t.Errorf("err = %v, want one naming CHROME_PATH", err)
	}
}

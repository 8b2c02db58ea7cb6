package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// clientCredentials gets an acme-sync token from base (the URL the listener answers on).
func clientCredentials(t *testing.T, base string) string {
	t.Helper()
	secret := servertest.Credentials(t).Clients["acme-sync"]
	req, _ := http.NewRequest(http.MethodPost, base+oauth.PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("acme-sync", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tok.AccessToken
}

func get(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestStartServesTheProviderAndTheAPI(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	if !strings.HasPrefix(s.IssuerURL(), "http://127.0.0.1:") {
		t.Fatalf("issuer %q is not on loopback", s.IssuerURL())
	}
	if want := s.IssuerURL() + "/api"; s.APIBaseURL() != want {
		t.Errorf("APIBaseURL = %q, want %q", s.APIBaseURL(), want)
	}
	for _, p := range []string{"/healthz", oauth.PathOIDCDiscovery, oauth.PathJWKS} {
		if code, body := get(t, s.IssuerURL()+p, ""); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", p, code, body)
		}
	}
	tok := clientCredentials(t, s.IssuerURL())
	// The API fetches the JWKS over HTTP on first use, then validates.
	code, body := get(t, s.APIBaseURL()+"/accounts/globex/contacts", tok)
	if code != http.StatusOK || !strings.Contains(body, "Hank Scorpio") {
		t.Fatalf("contacts: %d %s", code, body)
	}
}

// Behind a proxy the issuer is public and may have a path; the routes and the API's own JWKS fetch
// follow the path, and tokens carry the public issuer.
func TestIssuerBehindAProxyWithAPath(t *testing.T) {
	const issuer = "https://auth.contacts.example/tenant-a"
	s := servertest.Start(t, server.Options{Issuer: issuer})
	local := "http://" + s.Addr() + "/tenant-a"
	code, body := get(t, local+oauth.PathOIDCDiscovery, "")
	if code != http.StatusOK || !strings.Contains(body, `"issuer":"`+issuer+`"`) {
		t.Fatalf("discovery: %d %s", code, body)
	}
	if want := "https://auth.contacts.example/tenant-a/api"; s.APIBaseURL() != want {
		t.Errorf("APIBaseURL = %q, want %q", s.APIBaseURL(), want)
	}
	tok := clientCredentials(t, local)
	if code, body := get(t, local+"/api/me", tok); code != http.StatusOK || !strings.Contains(body, `"iss":"`+issuer+`"`) {
		t.Fatalf("/api/me: %d %s", code, body)
	}
	if code, _ := get(t, "http://"+s.Addr()+oauth.PathOIDCDiscovery, ""); code != http.StatusNotFound {
		t.Errorf("discovery outside the issuer path answered %d, want 404", code)
	}
}

func TestConsentsFromTheTenantAreRemembered(t *testing.T) {
	cfg := servertest.Tenant(t)
	cfg.Consents = []tenant.Consent{{UserID: "user-paul", ClientID: "acme-cms", Audience: cfg.DefaultAudience,
		Scopes: []string{"openid", "read:contacts"}}}
	s := servertest.Start(t, server.Options{Tenant: cfg})
	got := s.Store.Consent("user-paul", "acme-cms", cfg.DefaultAudience)
	if strings.Join(got, " ") != "openid read:contacts" {
		t.Fatalf("seeded consent = %v", got)
	}
}

func TestTenantWithoutAContactsAPIServesNoAPI(t *testing.T) {
	cfg := servertest.Tenant(t)
	cfg.ContactsAPI, cfg.DefaultAudience = "", ""
	s := servertest.Start(t, server.Options{Tenant: cfg})
	if s.APIBaseURL() != "" {
		t.Errorf("APIBaseURL = %q, want empty", s.APIBaseURL())
	}
	if code, _ := get(t, s.IssuerURL()+"/api/me", "x"); code != http.StatusNotFound {
		t.Errorf("/api/me answered %d, want 404", code)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := server.Start(context.Background(), server.Options{}); err == nil || !strings.Contains(err.Error(), "tenant is required") {
		t.Errorf("no tenant: err = %v", err)
	}
	s := servertest.Start(t, server.Options{})
	_, err := server.Start(context.Background(), server.Options{Tenant: servertest.Tenant(t), Keys: servertest.Keys(t), Addr: s.Addr()})
	if err == nil || !strings.Contains(err.Error(), "listen on "+s.Addr()) {
		t.Errorf("address in use: err = %v", err)
	}
	_, err = server.Start(context.Background(), server.Options{Tenant: servertest.Tenant(t), Keys: servertest.Keys(t), Issuer: "not a url"})
	if err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("bad issuer: err = %v", err)
	}
}

func TestRunShutsDownGracefullyOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *server.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- server.Run(ctx, server.Options{Tenant: servertest.Tenant(t), Keys: servertest.Keys(t)},
			func(s *server.Server) { ready <- s })
	}()
	var s *server.Server
	select {
	case s = <-ready:
	case err := <-done:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server not ready within 10 s")
	}
	if code, _ := get(t, s.IssuerURL()+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return within 15 s of cancel")
	}
	if _, err := http.Get(s.IssuerURL() + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

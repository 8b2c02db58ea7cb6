package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
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
	// RFC 8414 §3.1: the OAuth metadata of https://host/tenant-a is at
	// https://host/.well-known/oauth-authorization-server/tenant-a, and is the same document as the
	// path-appended one.
	code, inserted := get(t, "http://"+s.Addr()+oauth.PathOAuthDiscovery+"/tenant-a", "")
	if code != http.StatusOK {
		t.Fatalf("RFC 8414 metadata: %d %s", code, inserted)
	}
	_, appended := get(t, local+oauth.PathOAuthDiscovery, "")
	var a, b oauth.Metadata
	if err := json.Unmarshal([]byte(inserted), &a); err != nil {
		t.Fatalf("RFC 8414 metadata is not JSON: %v\n%s", err, inserted)
	}
	if err := json.Unmarshal([]byte(appended), &b); err != nil {
		t.Fatal(err)
	}
	if a.Issuer != issuer || a.TokenEndpoint != issuer+oauth.PathToken || !reflect.DeepEqual(a, b) {
		t.Errorf("RFC 8414 metadata differs from the path-appended document:\n%s\n%s", inserted, appended)
	}
	for _, p := range []string{oauth.PathOAuthDiscovery + "/tenant-b", oauth.PathOAuthDiscovery + "/tenant-a/x"} {
		if code, _ := get(t, "http://"+s.Addr()+p, ""); code != http.StatusNotFound {
			t.Errorf("GET %s answered %d, want 404", p, code)
		}
	}
}

// Without a path the RFC 8414 location is the path-appended one: nothing more is registered.
func TestIssuerWithoutAPathHasOneOAuthMetadataLocation(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	if code, body := get(t, s.IssuerURL()+oauth.PathOAuthDiscovery, ""); code != http.StatusOK {
		t.Fatalf("metadata: %d %s", code, body)
	}
	if code, _ := get(t, s.IssuerURL()+oauth.PathOAuthDiscovery+"/", ""); code != http.StatusNotFound {
		t.Errorf("metadata with a trailing slash answered %d, want 404", code)
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

// syncBuffer is a bytes.Buffer safe for the server's goroutines to log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The contacts API loads its key set as soon as the server serves, not on the first API request.
func TestStartPrefetchesTheAPIKeySet(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	servertest.Start(t, server.Options{Logger: log})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "path="+oauth.PathJWKS) {
		if time.Now().After(deadline) {
			t.Fatalf("no JWKS fetch within 5 s of Start, without any API request; log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "prefetch failed") {
		t.Errorf("prefetch failed:\n%s", logs.String())
	}
}

func TestOversizedHeadersAreRefused(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	for _, tc := range []struct {
		size int
		want int
	}{{16 << 10, http.StatusOK}, {100 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, _ := http.NewRequest(http.MethodGet, s.IssuerURL()+"/healthz", nil)
		req.Header.Set("X-Padding", strings.Repeat("p", tc.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d KiB of headers: status %d, want %d", tc.size>>10, resp.StatusCode, tc.want)
		}
	}
}

// The store remembers issued and revoked tokens past exp for as long as a validator may still accept them.
func TestStoreGraceCoversTheValidatorsLeeway(t *testing.T) {
	if store.ExpiryGrace < bearer.MaxLeeway {
		t.Errorf("store.ExpiryGrace = %v < bearer.MaxLeeway = %v: a revoked token could validate after the "+
			"store forgot it", store.ExpiryGrace, bearer.MaxLeeway)
	}
}

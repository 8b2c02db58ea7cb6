package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// spaOrigin is the origin of contacts-spa's redirect URI in fixtures/tenant.yaml.
const spaOrigin = "https://spa.contacts.example"

// corsHeaders returns the response's Access-Control-* headers.
func corsHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			out[k] = v
		}
	}
	return out
}

// do sends a request through the server's whole handler (logging, CORS, mux) without a socket.
func do(t *testing.T, s *server.Server, method, target, origin string, hdr map[string]string, body string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func preflight(t *testing.T, s *server.Server, target, origin, method, headers string) *httptest.ResponseRecorder {
	t.Helper()
	h := map[string]string{"Access-Control-Request-Method": method}
	if headers != "" {
		h["Access-Control-Request-Headers"] = headers
	}
	return do(t, s, http.MethodOptions, target, origin, h, "")
}

func wantHeader(t *testing.T, w *httptest.ResponseRecorder, name, want string) {
	t.Helper()
	if got := w.Header().Get(name); got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

func wantVaryOrigin(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	for _, v := range w.Header().Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Origin") {
				return
			}
		}
	}
	t.Errorf("Vary = %q, want it to name Origin", w.Header().Values("Vary"))
}

func wantNoCORS(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if h := corsHeaders(w.Header()); len(h) != 0 {
		t.Errorf("CORS headers present: %v", h)
	}
}

func TestCORSPreflightFromTheSPA(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	cases := []struct {
		path, method, methods string
	}{
		{oauth.PathToken, http.MethodPost, "POST"},
		{oauth.PathUserInfo, http.MethodGet, "GET, POST"},
		{oauth.PathUserInfo, http.MethodPost, "GET, POST"},
		{"/api/accounts/globex/contacts", http.MethodGet, "GET, POST, PUT"},
		{"/api/accounts/globex/contacts", http.MethodPost, "GET, POST, PUT"},
		{"/api/accounts/globex/contacts/g1", http.MethodPut, "GET, POST, PUT"},
		{"/api/me", http.MethodGet, "GET, POST, PUT"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			w := preflight(t, s, tc.path, spaOrigin, tc.method, "authorization,content-type")
			if w.Code != http.StatusNoContent {
				t.Fatalf("preflight: status %d, want 204: %s", w.Code, w.Body)
			}
			wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
			wantHeader(t, w, "Access-Control-Allow-Methods", tc.methods)
			wantHeader(t, w, "Access-Control-Allow-Headers", "Authorization, Content-Type")
			wantHeader(t, w, "Access-Control-Max-Age", "600")
			wantHeader(t, w, "Access-Control-Allow-Credentials", "")
			wantVaryOrigin(t, w)
			if w.Body.Len() != 0 {
				t.Errorf("preflight has a body: %q", w.Body)
			}
		})
	}
}

func TestCORSActualRequestsFromTheSPA(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	secret := servertest.Credentials(t).Clients["acme-sync"]
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}

	t.Run("token endpoint, error", func(t *testing.T) {
		// The SPA must be able to read the token endpoint's errors too.
		w := do(t, s, http.MethodPost, oauth.PathToken, spaOrigin, form,
			"grant_type=authorization_code&client_id=contacts-spa&code=bogus&redirect_uri=https://spa.contacts.example/callback&code_verifier="+strings.Repeat("v", 43))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "invalid_grant") {
			t.Fatalf("token: %d %s", w.Code, w.Body)
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
		wantHeader(t, w, "Access-Control-Allow-Credentials", "")
		wantVaryOrigin(t, w)
	})

	// A token for the API (any client's will do: CORS is about the caller's origin).
	hdr := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Authorization": "Basic " + basic("acme-sync", secret)}
	w := do(t, s, http.MethodPost, oauth.PathToken, spaOrigin, hdr, "grant_type=client_credentials")
	if w.Code != http.StatusOK {
		t.Fatalf("token: %d %s", w.Code, w.Body)
	}
	wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	tok := accessToken(t, w.Body.String())

	t.Run("API", func(t *testing.T) {
		w := do(t, s, http.MethodGet, "/api/accounts/globex/contacts", spaOrigin, map[string]string{"Authorization": "Bearer " + tok}, "")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Hank Scorpio") {
			t.Fatalf("contacts: %d %s", w.Code, w.Body)
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
		wantHeader(t, w, "Access-Control-Expose-Headers", "WWW-Authenticate")
		wantHeader(t, w, "Access-Control-Allow-Credentials", "")
		wantVaryOrigin(t, w)
	})
	t.Run("API, bearer error", func(t *testing.T) {
		w := do(t, s, http.MethodGet, "/api/me", spaOrigin, map[string]string{"Authorization": "Bearer nope"}, "")
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("/api/me: %d %v", w.Code, w.Header())
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
		wantHeader(t, w, "Access-Control-Expose-Headers", "WWW-Authenticate")
	})
}

// The whole exchange over a socket, as a browser would send it.
func TestCORSOverTheNetwork(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	req, _ := http.NewRequest(http.MethodOptions, s.APIBaseURL()+"/accounts/globex/contacts", nil)
	req.Header.Set("Origin", spaOrigin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "authorization")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != spaOrigin ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST, PUT" {
		t.Errorf("preflight over the network: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestCORSRefusesOtherOrigins(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	origins := []string{
		"https://evil.example",
		"https://app.contacts.example", // contacts-web's origin: a regular web app, not an SPA
		"https://cms.acme.example",     // the third party's
		"http://spa.contacts.example",  // wrong scheme
		"https://spa.contacts.example:8443",
		"https://spa.contacts.example.evil.example",
		"null",
	}
	for _, origin := range origins {
		for _, path := range []string{oauth.PathToken, oauth.PathUserInfo, "/api/accounts/globex/contacts", "/api/me"} {
			w := preflight(t, s, path, origin, http.MethodPost, "authorization")
			if w.Code != http.StatusForbidden {
				t.Errorf("%s preflight from %s: status %d, want 403", path, origin, w.Code)
			}
			wantNoCORS(t, w)
			w = do(t, s, http.MethodPost, path, origin, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "")
			wantNoCORS(t, w)
		}
	}
	// Two Origin headers: no browser sends that.
	r := httptest.NewRequest(http.MethodOptions, oauth.PathToken, nil)
	r.Header["Origin"] = []string{spaOrigin, "https://evil.example"}
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("preflight with two origins: status %d, want 403", w.Code)
	}
	wantNoCORS(t, w)
}

// The pages a browser navigates to are never readable cross-origin.
func TestCORSNeverOnTheInteractivePages(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	authorize := oauth.PathAuthorize + "?" + url.Values{"response_type": {"code"}, "client_id": {"contacts-spa"},
		"redirect_uri": {"https://spa.contacts.example/callback"}, "code_challenge": {strings.Repeat("c", 43)},
		"code_challenge_method": {"S256"}, "state": {"s"}}.Encode()
	for _, target := range []string{authorize, oauth.PathLogin, oauth.PathConsent, "/healthz", "/nowhere",
		"/api/../authorize", "/api/./me"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			wantNoCORS(t, preflight(t, s, target, spaOrigin, method, "content-type"))
			w := do(t, s, method, target, spaOrigin, nil, "")
			wantNoCORS(t, w)
		}
	}
	if w := preflight(t, s, oauth.PathAuthorize, spaOrigin, http.MethodGet, ""); w.Code == http.StatusNoContent {
		t.Errorf("preflight to /authorize answered 204")
	}
}

func TestCORSOnPublicDocuments(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	for _, path := range []string{oauth.PathOIDCDiscovery, oauth.PathOAuthDiscovery, oauth.PathJWKS} {
		for _, origin := range []string{"https://anyone.example", spaOrigin, ""} {
			w := do(t, s, http.MethodGet, path, origin, nil, "")
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", path, w.Code)
			}
			wantHeader(t, w, "Access-Control-Allow-Origin", "*")
			wantHeader(t, w, "Access-Control-Allow-Credentials", "")
		}
		w := preflight(t, s, path, "https://anyone.example", http.MethodGet, "")
		if w.Code != http.StatusNoContent {
			t.Errorf("GET preflight to %s: %d, want 204", path, w.Code)
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", "*")
		wantHeader(t, w, "Access-Control-Allow-Methods", "GET")
		// GET only.
		w = preflight(t, s, path, "https://anyone.example", http.MethodPost, "")
		wantNoCORS(t, w)
	}
	// A request without Origin to the token endpoint passes straight through.
	wantNoCORS(t, do(t, s, http.MethodPost, oauth.PathToken, "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, ""))
}

// CORS follows the issuer's path, like the routes.
func TestCORSWithAnIssuerPath(t *testing.T) {
	s := servertest.Start(t, server.Options{Issuer: "https://auth.contacts.example/tenant-a"})
	for _, path := range []string{"/tenant-a" + oauth.PathToken, "/tenant-a/api/me"} {
		w := preflight(t, s, path, spaOrigin, http.MethodPost, "")
		if w.Code != http.StatusNoContent {
			t.Errorf("preflight to %s: %d, want 204", path, w.Code)
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", spaOrigin)
	}
	for _, path := range []string{oauth.PathToken, "/api/me", "/tenant-a" + oauth.PathAuthorize} {
		wantNoCORS(t, preflight(t, s, path, spaOrigin, http.MethodPost, ""))
	}
	for _, path := range []string{"/tenant-a" + oauth.PathOIDCDiscovery, "/tenant-a" + oauth.PathJWKS,
		oauth.PathOAuthDiscovery + "/tenant-a"} {
		w := do(t, s, http.MethodGet, path, "https://anyone.example", nil, "")
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, w.Code)
		}
		wantHeader(t, w, "Access-Control-Allow-Origin", "*")
	}
	wantNoCORS(t, do(t, s, http.MethodGet, oauth.PathJWKS, "https://anyone.example", nil, ""))
}

func accessToken(t *testing.T, body string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(body), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response %s: %v", body, err)
	}
	return tok.AccessToken
}

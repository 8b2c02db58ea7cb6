package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// response is an HTTP answer; Body is its JSON (an object or an array).
type response struct {
	Status int
	Header http.Header
	Body   any
	Raw    string
}

func (r response) obj() map[string]any { m, _ := r.Body.(map[string]any); return m }
func (r response) str(k string) string { s, _ := r.obj()[k].(string); return s }
func (r response) list() []any         { l, _ := r.Body.([]any); return l }

func do(t *testing.T, method, u, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: %d answer is not JSON: %s", method, u, resp.StatusCode, raw)
		}
	}
	return out
}

// admin calls the admin API of s with the servertest token; path is below /admin.
func admin(t *testing.T, s *server.Server, method, path string, body any) response {
	t.Helper()
	return do(t, method, s.IssuerURL()+oauth.PathAdmin+path, servertest.AdminToken, body)
}

// want fails the test unless r has the status (and, for errors, names field in its description).
func want(t *testing.T, r response, status int, field string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if field != "" && !strings.Contains(r.str("error_description"), field) {
		t.Fatalf("error %s does not name %q", r.Raw, field)
	}
}

// clientCredentials asks for a client_credentials token; it returns the status and the token.
func clientCredentials(t *testing.T, s *server.Server, id, secret string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.IssuerURL()+oauth.PathToken, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return resp.StatusCode, tok.AccessToken
}

func contacts(t *testing.T, s *server.Server, token string) int {
	t.Helper()
	return do(t, http.MethodGet, s.APIBaseURL()+"/accounts/globex/contacts", token, nil).Status
}

func TestAdminToken(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	cases := []struct {
		name, header string
		status       int
		challenge    string
	}{
		{"no header", "", http.StatusUnauthorized, `Bearer realm="oauth-harness-admin"`},
		{"wrong token", "Bearer nope", http.StatusUnauthorized, `Bearer realm="oauth-harness-admin", error="invalid_token"`},
		{"token as Basic", "Basic " + servertest.AdminToken, http.StatusUnauthorized, `Bearer realm="oauth-harness-admin"`},
		{"token with a suffix", "Bearer " + servertest.AdminToken + "x", http.StatusUnauthorized, `Bearer realm="oauth-harness-admin", error="invalid_token"`},
		{"right token", "Bearer " + servertest.AdminToken, http.StatusOK, ""},
		{"scheme case-insensitive", "bearer " + servertest.AdminToken, http.StatusOK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/apis", "/no-such-resource"} {
				req, _ := http.NewRequest(http.MethodGet, s.IssuerURL()+oauth.PathAdmin+path, nil)
				if tc.header != "" {
					req.Header.Set("Authorization", tc.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				status := tc.status
				if path != "/apis" && status == http.StatusOK {
					status = http.StatusNotFound // only a caller with the token learns what exists
				}
				if resp.StatusCode != status || resp.Header.Get("WWW-Authenticate") != tc.challenge {
					t.Errorf("GET %s: %d %q, want %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), status, tc.challenge)
				}
			}
		})
	}
}

// Without an admin token the API does not exist at all.
func TestAdminOffWithoutToken(t *testing.T) {
	s, err := server.Start(context.Background(), server.Options{Tenant: servertest.Tenant(t), Keys: servertest.Keys(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tok := range []string{"", servertest.AdminToken} {
		if r := do(t, http.MethodGet, s.IssuerURL()+oauth.PathAdmin+"/apis", tok, nil); r.Status != http.StatusNotFound {
			t.Errorf("admin API with token %q answered %d, want 404", tok, r.Status)
		}
	}
}

func TestAPIs(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	const id = "https://notes.contacts.example"
	item := "/apis/" + url.PathEscape(id)
	api := map[string]any{"name": "Notes API", "identifier": id, "signing_alg": "ES256", "token_lifetime": "15m",
		"scopes": []map[string]string{{"value": "read:notes", "description": "Read your notes"}}}
	r := admin(t, s, http.MethodPost, "/apis", api)
	want(t, r, http.StatusCreated, "")
	if r.str("token_lifetime") != "15m0s" || r.str("identifier") != id {
		t.Errorf("created: %s", r.Raw)
	}
	if a := s.Tenant.API(id); a == nil || !a.HasScope("read:notes") {
		t.Fatalf("tenant API = %+v", a)
	}
	if r := admin(t, s, http.MethodGet, item, nil); r.str("name") != "Notes API" {
		t.Errorf("get: %s", r.Raw)
	}
	if r, n := admin(t, s, http.MethodGet, "/apis", nil), len(s.Tenant.Config().APIs); len(r.list()) != n {
		t.Errorf("list has %d APIs, want the tenant's %d", len(r.list()), n)
	}
	if !strings.Contains(do(t, http.MethodGet, s.IssuerURL()+oauth.PathOIDCDiscovery, "", nil).Raw, "read:notes") {
		t.Error("discovery does not follow the tenant: read:notes not in scopes_supported")
	}
	api["allow_offline_access"] = true
	api["identifier"] = ""
	want(t, admin(t, s, http.MethodPut, item, api), http.StatusOK, "")
	if !s.Tenant.API(id).AllowOfflineAccess {
		t.Error("update not applied")
	}
	errs := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"bad alg", http.MethodPut, item, map[string]any{"name": "x", "signing_alg": "RS257"}, http.StatusBadRequest, "signing_alg"},
		{"HS256 without secret", http.MethodPut, item, map[string]any{"name": "x", "signing_alg": "HS256"}, http.StatusBadRequest, "signing_secret"},
		{"bad lifetime", http.MethodPut, item, map[string]any{"name": "x", "token_lifetime": "forever"}, http.StatusBadRequest, "token_lifetime"},
		{"rename", http.MethodPut, item, map[string]any{"name": "x", "identifier": "https://other.example"}, http.StatusBadRequest, "identifier"},
		{"typo member", http.MethodPost, "/apis", map[string]any{"name": "x", "identifer": "https://y.example"}, http.StatusBadRequest, "identifer"},
		{"wrong type", http.MethodPost, "/apis", map[string]any{"name": "x", "scopes": "read"}, http.StatusBadRequest, "scopes"},
		{"duplicate", http.MethodPost, "/apis", api, http.StatusConflict, ""},
		{"unknown", http.MethodGet, "/apis/" + url.PathEscape("https://nope.example"), nil, http.StatusNotFound, ""},
		{"delete the default audience", http.MethodDelete, "/apis/" + url.PathEscape("https://api.contacts.example"), nil, http.StatusConflict, "default_audience"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "duplicate" {
				api["identifier"] = id
			}
			want(t, admin(t, s, tc.method, tc.path, tc.body), tc.status, tc.field)
		})
	}
	want(t, admin(t, s, http.MethodDelete, item, nil), http.StatusNoContent, "")
	want(t, admin(t, s, http.MethodGet, item, nil), http.StatusNotFound, "")
	want(t, admin(t, s, http.MethodDelete, item, nil), http.StatusNotFound, "")
}

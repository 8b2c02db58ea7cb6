package server_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// Every discovery location serves one document, which advertises the registration endpoint this
// package mounts next to the oauth package's endpoints.
func TestDiscoveryAdvertisesRegistration(t *testing.T) {
	cases := []struct {
		name, issuer, path string
		locations          []string // relative to the listener
	}{
		{"no issuer path", "", "", []string{oauth.PathOIDCDiscovery, oauth.PathOAuthDiscovery}},
		{"issuer path", "https://auth.contacts.example/tenant-a", "/tenant-a", []string{"/tenant-a" + oauth.PathOIDCDiscovery,
			"/tenant-a" + oauth.PathOAuthDiscovery, oauth.PathOAuthDiscovery + "/tenant-a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, server.Options{Issuer: tc.issuer})
			var first map[string]any
			for _, loc := range tc.locations {
				code, body := get(t, "http://"+s.Addr()+loc, "")
				var doc map[string]any
				if err := json.Unmarshal([]byte(body), &doc); code != http.StatusOK || err != nil {
					t.Fatalf("GET %s: %d %v %s", loc, code, err, body)
				}
				if doc["registration_endpoint"] != s.IssuerURL()+oauth.PathRegister || doc["issuer"] != s.IssuerURL() {
					t.Errorf("%s: registration_endpoint %v, issuer %v", loc, doc["registration_endpoint"], doc["issuer"])
				}
				if first == nil {
					first = doc
				} else if !reflect.DeepEqual(doc, first) {
					t.Errorf("%s differs from %s", loc, tc.locations[0])
				}
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+tc.locations[0], nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("POST discovery: %d, want 405", resp.StatusCode)
			}
		})
	}
}

// Behind a proxy with a path, registration and the admin API live below the issuer's path and hand
// out public URLs.
func TestManagementBelowTheIssuerPath(t *testing.T) {
	const issuer = "https://auth.contacts.example/tenant-a"
	s := servertest.Start(t, server.Options{Issuer: issuer})
	local := "http://" + s.Addr() + "/tenant-a"
	req, _ := http.NewRequest(http.MethodPost, local+oauth.PathRegister, strings.NewReader(`{"redirect_uris":["https://x.example/cb"]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
		URI      string `json:"registration_client_uri"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || reg.URI != issuer+oauth.PathRegister+"/"+reg.ClientID {
		t.Errorf("register: %d, registration_client_uri %q", resp.StatusCode, reg.URI)
	}
	if code, body := get(t, local+oauth.PathAdmin+"/users", servertest.AdminToken); code != http.StatusOK || !strings.Contains(body, "user-paul") {
		t.Errorf("admin below the issuer path: %d %s", code, body)
	}
	if code, _ := get(t, "http://"+s.Addr()+oauth.PathAdmin+"/users", servertest.AdminToken); code != http.StatusNotFound {
		t.Errorf("admin outside the issuer path: %d, want 404", code)
	}
}

// The request log records what clients do (OAuth endpoints, registration, the API), not health
// checks, public documents or the admin API.
func TestRequestLogScope(t *testing.T) {
	s := servertest.Start(t, server.Options{Issuer: "https://auth.contacts.example/t"})
	local := "http://" + s.Addr()
	cases := []struct {
		path   string
		logged bool
	}{
		{"/t" + oauth.PathAuthorize, true},
		{"/t" + oauth.PathToken, true},
		{"/t" + oauth.PathUserInfo, true},
		{"/t" + oauth.PathRevoke, true},
		{"/t" + oauth.PathIntrospect, true},
		{"/t" + oauth.PathRegister + "/some-client", true},
		{"/t/api/me", true},
		{"/t/api/accounts/globex/contacts", true},
		{"/healthz", false},
		{"/t" + oauth.PathOIDCDiscovery, false},
		{oauth.PathOAuthDiscovery + "/t", false},
		{"/t" + oauth.PathJWKS, false},
		{"/t" + oauth.PathAdmin + "/requests", false},
		{"/t/apix", false},
		{"/t" + oauth.PathToken + "x", false},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			s.Requests.Clear()
			get(t, local+tc.path, servertest.AdminToken)
			got := s.Requests.Entries(func(e *requestlog.Entry) bool { return e.Path == tc.path })
			if (len(got) == 1) != tc.logged {
				t.Errorf("logged %d entries, want logged=%v", len(got), tc.logged)
			}
			if len(got) == 1 && (got[0].Method != http.MethodGet || got[0].Status == 0) {
				t.Errorf("entry %+v", got[0])
			}
		})
	}
}

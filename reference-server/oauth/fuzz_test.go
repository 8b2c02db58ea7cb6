package oauth_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"golang.org/x/oauth2"
)

var fuzzMethods = []string{http.MethodPost, http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}

// tokenErrors are the error codes the token endpoint may answer (RFC 6749 §5.2, RFC 8707 §2).
var tokenErrors = map[string]bool{
	"invalid_request": true, "invalid_client": true, "invalid_grant": true, "unauthorized_client": true,
	"unsupported_grant_type": true, "invalid_scope": true, "invalid_target": true,
}

// FuzzTokenEndpoint feeds arbitrary bodies, content types and Authorization headers (and a method)
// to the token endpoint: it must never panic, and must always answer a well-formed, uncacheable
// OAuth response.
func FuzzTokenEndpoint(f *testing.F) {
	srv := servertest.Start(f, server.Options{})
	h := srv.Handler()
	creds := servertest.Credentials(f)
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	const form = "application/x-www-form-urlencoded"
	enc := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	verifier := oauth2.GenerateVerifier()
	seeds := []struct {
		method      uint8
		body, ct, a string
	}{
		{0, enc("grant_type", "client_credentials"), form, basic("acme-sync", creds.Clients["acme-sync"])},
		{0, enc("grant_type", "client_credentials", "scope", "read:contacts update:contacts", "audience", contactsAPI), form, basic("acme-sync", creds.Clients["acme-sync"])},
		{0, enc("grant_type", "client_credentials", "audience", billingAPI, "client_id", "contacts-importer", "client_secret", creds.Clients["contacts-importer"]), form, ""},
		{0, enc("grant_type", "client_credentials", "resource", reportsAPI, "client_id", "contacts-importer", "client_secret", creds.Clients["contacts-importer"]), form + "; charset=utf-8", ""},
		{0, enc("grant_type", "authorization_code", "code", "abc", "redirect_uri", webCallback, "code_verifier", verifier), form, basic("contacts-web", creds.Clients["contacts-web"])},
		{0, enc("grant_type", "authorization_code", "code", "abc", "redirect_uri", "https://spa.contacts.example/callback", "client_id", "contacts-spa", "code_verifier", verifier), form, ""},
		{0, enc("grant_type", "refresh_token", "refresh_token", "abc", "scope", "read:contacts"), form, basic("contacts-web", creds.Clients["contacts-web"])},
		{0, enc("grant_type", "refresh_token", "refresh_token", "abc", "client_id", "contacts-mobile"), form, ""},
		{0, enc("grant_type", "password", "username", "paul@globex.example", "password", "x", "client_id", "ops-console", "client_secret", creds.Clients["ops-console"]), form, ""},
		{0, "grant_type=client_credentials&grant_type=client_credentials", form, basic("acme-sync", creds.Clients["acme-sync"])},
		{0, "grant_type=client_credentials&client_secret=x", form, basic("acme-sync", creds.Clients["acme-sync"])},
		{0, `{"grant_type":"client_credentials"}`, "application/json", basic("acme-sync", creds.Clients["acme-sync"])},
		{0, "grant_type=%zz;x", form, "Basic %%%"},
		{0, "grant_type=client_credentials", "multipart/form-data; boundary=", "Bearer x"},
		{0, "", "", ""},
		{0, strings.Repeat("a=b&", 20000), form, ""},
		{1, "", "", ""},
		{2, enc("grant_type", "client_credentials"), form, basic("acme-sync", creds.Clients["acme-sync"])},
	}
	for _, s := range seeds {
		f.Add(s.method, s.body, s.ct, s.a)
	}
	f.Fuzz(func(t *testing.T, method uint8, body, contentType, authorization string) {
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		req := httptest.NewRequest(m, srv.IssuerURL()+oauth.PathToken, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("status %d for %s %q (Content-Type %q, Authorization %q): %s", rec.Code, m, body, contentType, authorization, rec.Body)
		}
		if !hasNoStore(rec.Header()) {
			t.Errorf("status %d without Cache-Control: no-store", rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("status %d with Content-Type %q", rec.Code, ct)
		}
		var reply map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("status %d with a body that is not a JSON object: %q", rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK {
			if s, _ := reply["access_token"].(string); s == "" || reply["token_type"] != "Bearer" {
				t.Errorf("200 without an access token: %v", reply)
			}
			if m != http.MethodPost {
				t.Errorf("%s issued tokens", m)
			}
			return
		}
		code, _ := reply["error"].(string)
		if !tokenErrors[code] {
			t.Errorf("status %d with error %q, want an RFC 6749 error code", rec.Code, reply["error"])
		}
		if _, ok := reply["access_token"]; ok {
			t.Errorf("an error came with an access token: %v", reply)
		}
		if rec.Code == http.StatusUnauthorized && code != "invalid_client" {
			t.Errorf("401 with %q, want invalid_client", code)
		}
		if rec.Code == http.StatusMethodNotAllowed && m == http.MethodPost {
			t.Error("405 for a POST")
		}
	})
}

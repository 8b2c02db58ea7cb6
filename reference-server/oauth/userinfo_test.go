package oauth_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

type userInfoReply struct {
	status    int
	challenge string
	claims    map[string]any
}

func (e *env) userInfo(t *testing.T, method, authorization string) userInfoReply {
	t.Helper()
	req, _ := http.NewRequest(method, e.url(oauth.PathUserInfo), nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := userInfoReply{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	if err := json.Unmarshal(body, &r.claims); err != nil {
		t.Errorf("userinfo %d: body is not JSON: %q", resp.StatusCode, body)
	}
	if !hasNoStore(resp.Header) {
		t.Errorf("userinfo %d without Cache-Control: no-store", resp.StatusCode)
	}
	return r
}

func TestUserInfo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	full := e.tokens(b, e.flow("contacts-web", "openid", "profile", "email", "read:contacts"), "")
	openidOnly := e.tokens(b, e.flow("contacts-web", "openid", "read:contacts"), "")
	noOpenID := e.tokens(b, e.flow("contacts-web", "read:contacts"), "")
	reports := e.tokens(b, e.flow("contacts-web", "openid", "email").with("audience", reportsAPI), "")
	billing := e.tokens(b, e.flow("contacts-web", "openid", "profile").with("audience", billingAPI), "")
	cc, err := (&clientcredentials.Config{ClientID: "acme-sync", ClientSecret: e.creds.Clients["acme-sync"],
		TokenURL: e.url(oauth.PathToken)}).Token(e.ctx)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("go-oidc", func(t *testing.T) {
		provider, err := oidc.NewProvider(e.ctx, e.issuer)
		if err != nil {
			t.Fatal(err)
		}
		ui, err := provider.UserInfo(e.ctx, oauth2.StaticTokenSource(full))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var c struct{ Name string }
		if err := ui.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if ui.Subject != "user-paul" || ui.Email != "paul@globex.example" || !ui.EmailVerified || c.Name != "Paul Globex" {
			t.Errorf("sub %q email %q verified %v name %q", ui.Subject, ui.Email, ui.EmailVerified, c.Name)
		}
	})

	ok := []struct {
		name  string
		token string
		want  map[string]any
	}{
		{"profile and email", full.AccessToken, map[string]any{"sub": "user-paul", "name": "Paul Globex", "email": "paul@globex.example", "email_verified": true}},
		{"openid only", openidOnly.AccessToken, map[string]any{"sub": "user-paul"}},
		{"token for the reports API (ES256)", reports.AccessToken, map[string]any{"sub": "user-paul", "email": "paul@globex.example", "email_verified": true}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				r := e.userInfo(t, method, "Bearer "+c.token)
				if r.status != http.StatusOK || !maps.Equal(r.claims, c.want) {
					t.Errorf("%s: %d %v, want %v", method, r.status, r.claims, c.want)
				}
			}
		})
	}

	bad := []struct {
		name, authorization string
		status              int
		code                string
	}{
		{"no token", "", http.StatusUnauthorized, ""},
		{"client-credentials token", "Bearer " + cc.AccessToken, http.StatusForbidden, "insufficient_scope"},
		{"user token without openid", "Bearer " + noOpenID.AccessToken, http.StatusForbidden, "insufficient_scope"},
		{"garbage token", "Bearer not.a.jwt", http.StatusUnauthorized, "invalid_token"},
		{"tampered token", "Bearer " + tamper(full.AccessToken), http.StatusUnauthorized, "invalid_token"},
		{"ID token instead of access token", "Bearer " + full.Extra("id_token").(string), http.StatusUnauthorized, "invalid_token"},
		// The HS256 secret is shared with the billing API, which could mint tokens: userinfo trusts
		// only the server's own asymmetric keys (RFC 8725 §3.5).
		{"token for the billing API (HS256)", "Bearer " + billing.AccessToken, http.StatusUnauthorized, "invalid_token"},
		{"Basic scheme (RFC 6750 §3.1: no error code)", "Basic YTpi", http.StatusUnauthorized, ""},
		{"Bearer without a token", "Bearer ", http.StatusBadRequest, "invalid_request"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			r := e.userInfo(t, http.MethodGet, c.authorization)
			if r.status != c.status {
				t.Errorf("status %d, want %d (%v)", r.status, c.status, r.claims)
			}
			if !strings.HasPrefix(r.challenge, "Bearer ") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", r.challenge)
			}
			if c.code != "" && !strings.Contains(r.challenge, `error="`+c.code+`"`) {
				t.Errorf("WWW-Authenticate = %q, want error=%q", r.challenge, c.code)
			}
			if c.code == "" && strings.Contains(r.challenge, "error=") {
				t.Errorf("WWW-Authenticate = %q, want a bare challenge without an error code", r.challenge)
			}
			if _, leaked := r.claims["sub"]; leaked {
				t.Errorf("claims leaked: %v", r.claims)
			}
		})
	}
	t.Run("insufficient_scope names openid", func(t *testing.T) {
		r := e.userInfo(t, http.MethodGet, "Bearer "+cc.AccessToken)
		if !strings.Contains(r.challenge, `scope="openid"`) {
			t.Errorf("WWW-Authenticate = %q, want scope=\"openid\"", r.challenge)
		}
	})
	t.Run("other methods", func(t *testing.T) {
		for _, m := range []string{http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(m, e.url(oauth.PathUserInfo), nil)
			req.Header.Set("Authorization", "Bearer "+full.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || !slices.Contains(strings.Split(resp.Header.Get("Allow"), ", "), "GET") {
				t.Errorf("%s: %d Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	})
}

// tamper changes one character of a JWT's payload, keeping it well-formed.
func tamper(jwt string) string {
	parts := strings.Split(jwt, ".")
	p := []byte(parts[1])
	i := len(p) / 2
	if p[i] == 'A' {
		p[i] = 'B'
	} else {
		p[i] = 'A'
	}
	parts[1] = string(p)
	return strings.Join(parts, ".")
}

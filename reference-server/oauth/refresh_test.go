package oauth_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
)

// TestRefreshTokenIssuance: a refresh token comes only with offline_access, for an API that allows
// offline access and a client allowed the refresh_token grant.
func TestRefreshTokenIssuance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	cases := []struct {
		name, client, audience string
		scopes                 []string
		wantRefresh            bool
		wantScope              string
	}{
		{"offline_access on the contacts API", "contacts-web", "", []string{"openid", "offline_access", "read:contacts"}, true, "openid offline_access read:contacts"},
		{"no offline_access", "contacts-web", "", []string{"openid", "read:contacts"}, false, "openid read:contacts"},
		{"reports API forbids offline access", "contacts-web", reportsAPI, []string{"openid", "offline_access", "read:reports"}, false, "openid read:reports"},
		{"client without the refresh_token grant", "contacts-spa", "", []string{"openid", "offline_access", "read:contacts"}, false, "openid read:contacts"},
		{"public native client", "contacts-mobile", "", []string{"openid", "offline_access"}, true, "openid offline_access"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := e.flow(c.client, c.scopes...)
			if c.audience != "" {
				f.with("audience", c.audience)
			}
			tok := e.in(t).tokens(b.in(t), f, "")
			if got := tok.RefreshToken != ""; got != c.wantRefresh {
				t.Errorf("refresh token issued: %v, want %v", got, c.wantRefresh)
			}
			if tok.Extra("scope") != c.wantScope || decodeJWT(t, tok.AccessToken).Claims["scope"] != c.wantScope {
				t.Errorf("scope %v (token %v), want %q", tok.Extra("scope"), decodeJWT(t, tok.AccessToken).Claims["scope"], c.wantScope)
			}
		})
	}
}

// TestRefreshRotationAndReuse: every refresh rotates the token; presenting a rotated one revokes the
// whole family (RFC 9700 §4.14.2).
func TestRefreshRotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	f := e.flow("contacts-web", "openid", "offline_access", "read:contacts")
	tok := e.tokens(e.loggedIn("paul"), f, "")

	// x/oauth2 refreshes an expired token by itself.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := f.Cfg.TokenSource(e.ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh with x/oauth2: %v", err)
	}
	if fresh.RefreshToken == "" || fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
		t.Fatal("the refresh did not rotate the refresh token or issue a new access token")
	}
	if c := decodeJWT(t, fresh.AccessToken).Claims; c["sub"] != "user-paul" || c["scope"] != "openid offline_access read:contacts" {
		t.Errorf("refreshed claims %v", c)
	}
	if e.apiGet(t, fresh.AccessToken, "/accounts/globex/contacts") != http.StatusOK {
		t.Fatal("the refreshed access token is refused")
	}
	idt, _ := fresh.Extra("id_token").(string)
	if idt == "" || decodeJWT(t, idt).Claims["aud"] != "contacts-web" {
		t.Errorf("the refresh with openid brought no ID token for contacts-web")
	}

	second := e.refresh("contacts-web", fresh.RefreshToken, "")
	if second.Status != http.StatusOK || second.str("refresh_token") == fresh.RefreshToken {
		t.Fatalf("second rotation: %d %s", second.Status, second.Raw)
	}
	newest, newestAT := second.str("refresh_token"), second.str("access_token")

	// The first, rotated-away token comes back: theft.
	expectError(t, e.refresh("contacts-web", tok.RefreshToken, ""), http.StatusBadRequest, "invalid_grant")
	expectError(t, e.refresh("contacts-web", newest, ""), http.StatusBadRequest, "invalid_grant")
	for name, at := range map[string]string{"first": tok.AccessToken, "refreshed": fresh.AccessToken, "newest": newestAT} {
		if got := e.apiGet(t, at, "/accounts/globex/contacts"); got != http.StatusUnauthorized {
			t.Errorf("the %s access token of the revoked family: %d, want 401", name, got)
		}
	}
}

// TestRefreshScope: a refresh may narrow the scope, never widen it; a refused widening does not
// spend the token.
func TestRefreshScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	f := e.flow("contacts-web", "openid", "offline_access", "read:contacts")
	rt := e.tokens(e.loggedIn("paul"), f, "").RefreshToken

	for _, scope := range []string{"openid offline_access read:contacts update:contacts", "read:reports", "profile"} {
		r := e.refresh("contacts-web", rt, scope)
		expectError(t, r, http.StatusBadRequest, "invalid_scope")
	}
	r := e.refresh("contacts-web", rt, "read:contacts")
	if r.Status != http.StatusOK {
		t.Fatalf("narrowing after a refused widening: %d %s", r.Status, r.Raw)
	}
	if r.str("scope") != "read:contacts" || decodeJWT(t, r.str("access_token")).Claims["scope"] != "read:contacts" {
		t.Errorf("narrowed scope %q, token scope %v", r.str("scope"), decodeJWT(t, r.str("access_token")).Claims["scope"])
	}
	if r.str("id_token") != "" {
		t.Error("an ID token without openid")
	}
	// A repeated scope is granted once, as at the authorization endpoint and for client credentials.
	r = e.refresh("contacts-web", r.str("refresh_token"), "read:contacts read:contacts")
	if r.Status != http.StatusOK || r.str("scope") != "read:contacts" {
		t.Errorf("refresh with a repeated scope: %d scope %q, want \"read:contacts\" "+
			"(oauth/grant_refresh_token.go uses the requested list as is, duplicates included)", r.Status, r.str("scope"))
	}
	// Omitting scope asks for everything originally granted (RFC 6749 §6).
	full := e.refresh("contacts-web", r.str("refresh_token"), "")
	if full.Status != http.StatusOK || full.str("scope") != "openid offline_access read:contacts" {
		t.Errorf("refresh without scope: %d scope %q", full.Status, full.str("scope"))
	}
}

// TestRefreshBoundToClient: another client cannot use the refresh token, and does not spend it.
func TestRefreshBoundToClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	rt := e.tokens(e.loggedIn("paul"), e.flow("contacts-web", "openid", "offline_access"), "").RefreshToken
	for _, client := range []string{"acme-cms", "contacts-mobile"} {
		expectError(t, e.refresh(client, rt, ""), http.StatusBadRequest, "invalid_grant")
	}
	expectError(t, e.refresh("contacts-web", "no-such-token", ""), http.StatusBadRequest, "invalid_grant")
	if r := e.refresh("contacts-web", rt, ""); r.Status != http.StatusOK {
		t.Errorf("the owner's refresh after the other clients' attempts: %d %s", r.Status, r.Raw)
	}
}

// TestRefreshAfterConsentRevoked: withdrawing consent ends the third party's grant.
func TestRefreshAfterConsentRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("acme-cms", "openid", "offline_access", "read:contacts")
	tok := e.tokens(b, f, "")
	if tok.RefreshToken == "" {
		t.Fatal("acme-cms got no refresh token")
	}
	r := e.refresh("acme-cms", tok.RefreshToken, "")
	if r.Status != http.StatusOK {
		t.Fatalf("refresh before the revocation: %d %s", r.Status, r.Raw)
	}
	// Paul's grant to the first-party web app must survive.
	web := e.tokens(b, e.flow("contacts-web", "openid", "offline_access", "read:contacts"), "")

	e.srv.Store.RevokeConsent("user-paul", "acme-cms")

	expectError(t, e.refresh("acme-cms", r.str("refresh_token"), ""), http.StatusBadRequest, "invalid_grant")
	if got := e.apiGet(t, r.str("access_token"), "/accounts/globex/contacts"); got != http.StatusUnauthorized {
		t.Errorf("acme-cms access token after the revocation: %d, want 401", got)
	}
	if got := e.refresh("contacts-web", web.RefreshToken, ""); got.Status != http.StatusOK {
		t.Errorf("contacts-web refresh after revoking acme-cms: %d %s", got.Status, got.Raw)
	}
	// And the next authorization asks for consent again.
	p := b.get(e.flow("acme-cms", "openid", "read:contacts").authURL())
	if p.kind() != "consent" {
		t.Errorf("after the revocation: %s page, want the consent page", p.kind())
	}
}

// TestRefreshTokenSourceKeepsWorking: x/oauth2's ReuseTokenSource keeps a client going across
// rotations.
func TestRefreshTokenSourceKeepsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	f := e.flow("contacts-mobile", "openid", "offline_access", "read:contacts")
	tok := e.tokens(e.loggedIn("mary"), f, "")
	var seen []string
	for range 3 {
		tok.Expiry = time.Now().Add(-time.Second)
		next, err := oauth2.ReuseTokenSource(nil, f.Cfg.TokenSource(e.ctx, tok)).Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", len(seen)+1, err)
		}
		if slices.Contains(seen, next.RefreshToken) {
			t.Fatalf("refresh token %q came back", next.RefreshToken)
		}
		seen = append(seen, next.RefreshToken)
		if !strings.Contains(decodeJWT(t, next.AccessToken).Claims["scope"].(string), "read:contacts") {
			t.Errorf("scope lost on refresh")
		}
		tok = next
	}
	if got := e.apiGet(t, tok.AccessToken, "/accounts/initech/contacts"); got != http.StatusOK {
		t.Errorf("mary's refreshed token on initech: %d", got)
	}
}

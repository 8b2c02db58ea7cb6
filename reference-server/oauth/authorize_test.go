package oauth_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
)

const webCallback = "https://app.contacts.example/callback"

// validQuery is a valid authorization request of contacts-web, for the cases to break.
func validQuery() url.Values {
	return url.Values{
		"client_id": {"contacts-web"}, "redirect_uri": {webCallback}, "response_type": {"code"},
		"scope": {"openid read:contacts"}, "state": {randomString()}, "nonce": {randomString()},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
}

func (e *env) authorizeURL(q url.Values) string { return e.url(oauth.PathAuthorize) + "?" + q.Encode() }

// TestAuthorizeErrorPage: until client_id and redirect_uri are known good, errors are shown on a page
// and never redirected (RFC 6749 §4.1.2.1): the endpoint must not be an open redirector.
func TestAuthorizeErrorPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	set := func(k, v string) func(url.Values) { return func(q url.Values) { q.Set(k, v) } }
	cases := []struct {
		name   string
		mutate func(url.Values)
		suffix string // appended to the encoded query, for repeated parameters
		code   string
	}{
		{"unknown client_id", set("client_id", "no-such-client"), "", "invalid_client"},
		{"missing client_id", func(q url.Values) { q.Del("client_id") }, "", "invalid_client"},
		{"missing redirect_uri", func(q url.Values) { q.Del("redirect_uri") }, "", "invalid_request"},
		{"unregistered redirect_uri", set("redirect_uri", "https://evil.example/callback"), "", "invalid_request"},
		{"another client's redirect_uri", set("redirect_uri", "https://cms.acme.example/oauth/callback"), "", "invalid_request"},
		{"redirect_uri with extra path", set("redirect_uri", webCallback+"/evil"), "", "invalid_request"},
		{"redirect_uri with trailing slash", set("redirect_uri", webCallback+"/"), "", "invalid_request"},
		{"redirect_uri with suffix", set("redirect_uri", webCallback+"x"), "", "invalid_request"},
		{"redirect_uri with query", set("redirect_uri", webCallback+"?next=https://evil.example"), "", "invalid_request"},
		{"redirect_uri with fragment", set("redirect_uri", webCallback+"#x"), "", "invalid_request"},
		{"redirect_uri prefix", set("redirect_uri", "https://app.contacts.example/call"), "", "invalid_request"},
		{"redirect_uri on a lookalike host", set("redirect_uri", "https://app.contacts.example.evil.example/callback"), "", "invalid_request"},
		{"redirect_uri with userinfo", set("redirect_uri", "https://app.contacts.example@evil.example/callback"), "", "invalid_request"},
		{"redirect_uri over http", set("redirect_uri", "http://app.contacts.example/callback"), "", "invalid_request"},
		{"redirect_uri in upper case", set("redirect_uri", "https://app.contacts.example/CALLBACK"), "", "invalid_request"},
		{"M2M client without redirect URIs", set("client_id", "acme-sync"), "", "invalid_request"},
		{"repeated client_id", nil, "&client_id=acme-cms", "invalid_request"},
		{"repeated redirect_uri", nil, "&redirect_uri=" + url.QueryEscape(webCallback), "invalid_request"},
	}
	b := e.browser()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := validQuery()
			if c.mutate != nil {
				c.mutate(q)
			}
			p := b.in(t).get(e.authorizeURL(q) + c.suffix)
			if p.Status != http.StatusBadRequest {
				t.Errorf("status %d, want 400", p.Status)
			}
			if loc := p.Header.Get("Location"); loc != "" {
				t.Errorf("the error redirects to %q; it must be shown on a page", loc)
			}
			if p.kind() != "error" || p.text("error-code") != c.code {
				t.Errorf("page %s with error %q, want the error page with %q", p.kind(), p.text("error-code"), c.code)
			}
			checkPageHeaders(t, p)
		})
	}
}

// TestAuthorizeErrorRedirect: once the client and redirect URI are good, errors go back to the
// client with state and iss.
func TestAuthorizeErrorRedirect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	set := func(kv ...string) func(url.Values) {
		return func(q url.Values) {
			for i := 0; i < len(kv); i += 2 {
				q.Set(kv[i], kv[i+1])
			}
		}
	}
	del := func(keys ...string) func(url.Values) {
		return func(q url.Values) {
			for _, k := range keys {
				q.Del(k)
			}
		}
	}
	add := func(k, v string) func(url.Values) { return func(q url.Values) { q.Add(k, v) } }
	spa := set("client_id", "contacts-spa", "redirect_uri", "https://spa.contacts.example/callback")
	cases := []struct {
		name   string
		mutate []func(url.Values)
		code   string
	}{
		{"response_type token", []func(url.Values){set("response_type", "token")}, "unsupported_response_type"},
		{"response_type id_token", []func(url.Values){set("response_type", "id_token")}, "unsupported_response_type"},
		{"response_type code id_token", []func(url.Values){set("response_type", "code id_token")}, "unsupported_response_type"},
		{"response_type id_token token for a web app", []func(url.Values){set("response_type", "id_token token")}, "unauthorized_client"},
		{"response_type id_token token for a PKCE SPA", []func(url.Values){spa, set("response_type", "token id_token")}, "unauthorized_client"},
		{"response_type code for the implicit-only SPA", []func(url.Values){set("client_id", "contacts-legacy-spa",
			"redirect_uri", "https://legacy.contacts.example/callback")}, "unauthorized_client"},
		{"missing response_type", []func(url.Values){del("response_type")}, "unsupported_response_type"},
		{"public client without code_challenge", []func(url.Values){spa, del("code_challenge", "code_challenge_method")}, "invalid_request"},
		{"code_challenge_method plain", []func(url.Values){spa, set("code_challenge", oauth2.GenerateVerifier(), "code_challenge_method", "plain")}, "invalid_request"},
		{"code_challenge without method", []func(url.Values){spa, del("code_challenge_method")}, "invalid_request"},
		{"code_challenge_method without challenge", []func(url.Values){del("code_challenge")}, "invalid_request"},
		{"code_challenge too short", []func(url.Values){set("code_challenge", "abc")}, "invalid_request"},
		{"unknown scope", []func(url.Values){set("scope", "openid read:contacts delete:everything")}, "invalid_scope"},
		{"scope of another API", []func(url.Values){set("scope", "openid read:reports")}, "invalid_scope"},
		{"unknown audience", []func(url.Values){set("audience", "https://unknown.example")}, "invalid_target"},
		{"unknown resource", []func(url.Values){set("resource", "https://unknown.example")}, "invalid_target"},
		{"audience and resource differ", []func(url.Values){set("audience", contactsAPI, "resource", reportsAPI)}, "invalid_request"},
		{"prompt=none without session", []func(url.Values){set("prompt", "none")}, "login_required"},
		{"prompt=none with login", []func(url.Values){set("prompt", "none login")}, "invalid_request"},
		{"unknown prompt", []func(url.Values){set("prompt", "select_account")}, "invalid_request"},
		{"negative max_age", []func(url.Values){set("max_age", "-1")}, "invalid_request"},
		// Once client and redirect URI are good, even a repeated parameter is answered by redirect.
		{"repeated scope", []func(url.Values){add("scope", "openid")}, "invalid_request"},
		{"repeated state", []func(url.Values){add("state", "second")}, "invalid_request"},
		{"two resources (one audience per token)", []func(url.Values){add("resource", contactsAPI), add("resource", reportsAPI)}, "invalid_target"},
		{"nonce too long", []func(url.Values){set("nonce", strings.Repeat("n", 513))}, "invalid_request"},
		{"state too long", []func(url.Values){set("state", strings.Repeat("s", 2049))}, "invalid_request"},
		{"request object", []func(url.Values){set("request", "eyJhbGciOiJub25lIn0.e30.")}, "request_not_supported"},
		{"request_uri", []func(url.Values){set("request_uri", "https://cms.acme.example/req")}, "request_uri_not_supported"},
		{"response_mode form_post", []func(url.Values){set("response_mode", "form_post")}, "invalid_request"},
		{"response_mode fragment carries the error too", []func(url.Values){set("response_mode", "fragment", "scope", "nope")}, "invalid_scope"},
	}
	// Response types that would carry tokens answer in the fragment, errors included (OAuth 2.0
	// Multiple Response Type Encoding Practices §5), as does response_mode=fragment.
	inFragment := map[string]bool{
		"response_type token": true, "response_type id_token": true, "response_type code id_token": true,
		"response_type id_token token for a web app": true, "response_type id_token token for a PKCE SPA": true,
		"response_mode fragment carries the error too": true,
	}
	b := e.browser()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := validQuery()
			for _, m := range c.mutate {
				m(q)
			}
			p := b.in(t).get(e.authorizeURL(q))
			got := e.in(t).redirectParams(p, q.Get("redirect_uri"), q.Get("state"), inFragment[c.name])
			if got.Get("error") != c.code || got.Has("code") {
				t.Errorf("error %q (%s), code %q; want error %q and no code", got.Get("error"), got.Get("error_description"), got.Get("code"), c.code)
			}
		})
	}
}

// TestAuthorizeWithSession covers what a logged-in browser changes: prompt, max_age, consent, and
// the audience and resource parameters.
func TestAuthorizeWithSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	first := e.flow("contacts-web", "openid")
	p := b.get(first.authURL())
	if p.kind() != "login" {
		t.Fatalf("without a session: %s page, want login", p.kind())
	}
	checkPageHeaders(t, p)
	e.callback(first, b.login(p, "paul"))

	t.Run("prompt=none with session", func(t *testing.T) {
		f := e.flow("contacts-web", "openid").with("prompt", "none")
		if q := e.in(t).callback(f, b.in(t).get(f.authURL())); q.Get("code") == "" {
			t.Errorf("no code: %v", q)
		}
	})
	t.Run("prompt=none without consent", func(t *testing.T) {
		f := e.flow("acme-cms", "openid", "read:contacts").with("prompt", "none")
		if q := e.in(t).callback(f, b.in(t).get(f.authURL())); q.Get("error") != "consent_required" {
			t.Errorf("got %v, want consent_required", q)
		}
	})
	t.Run("prompt=none max_age=0", func(t *testing.T) {
		f := e.flow("contacts-web", "openid").with("prompt", "none").with("max_age", "0")
		if q := e.in(t).callback(f, b.in(t).get(f.authURL())); q.Get("error") != "login_required" {
			t.Errorf("got %v, want login_required", q)
		}
	})
	t.Run("max_age within the session", func(t *testing.T) {
		f := e.flow("contacts-web", "openid").with("max_age", "3600")
		if q := e.in(t).callback(f, b.in(t).get(f.authURL())); q.Get("code") == "" {
			t.Errorf("no code: %v", q)
		}
	})
	for _, param := range []string{"prompt=login", "max_age=0"} {
		t.Run(param+" forces the login page", func(t *testing.T) {
			k, v, _ := strings.Cut(param, "=")
			f := e.flow("contacts-web", "openid").with(k, v)
			p := b.in(t).get(f.authURL())
			if p.kind() != "login" {
				t.Fatalf("%s page (%d), want the login page despite the session", p.kind(), p.Status)
			}
			asked := time.Now().Truncate(time.Second)
			q := e.in(t).callback(f, b.in(t).login(p, "paul"))
			tok, err := e.exchange(f, q.Get("code"))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			idt, _ := tok.Extra("id_token").(string)
			if at, _ := decodeJWT(t, idt).Claims["auth_time"].(float64); int64(at) < asked.Unix() {
				t.Errorf("auth_time %v is older than the request (%d): the login was not fresh", at, asked.Unix())
			}
		})
	}
	for _, c := range []struct{ name, audience, resource string }{
		{"audience", reportsAPI, ""},
		{"resource (RFC 8707)", "", reportsAPI},
		{"audience and resource alike", reportsAPI, reportsAPI},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := e.in(t)
			f := e.flow("contacts-web", "openid", "read:reports")
			if c.audience != "" {
				f.with("audience", c.audience)
			}
			if c.resource != "" {
				f.with("resource", c.resource)
			}
			tok := e.tokens(b.in(t), f, "")
			at := decodeJWT(t, tok.AccessToken)
			if at.Claims["aud"] != reportsAPI || at.Header["alg"] != "ES256" || at.Claims["scope"] != "openid read:reports" {
				t.Errorf("aud %v alg %v scope %v, want %s ES256 \"openid read:reports\"", at.Claims["aud"], at.Header["alg"], at.Claims["scope"], reportsAPI)
			}
			e.verifyJWKS(t, tok.AccessToken, jose.ES256)
		})
	}
}

// TestMaxAgeZeroWithoutElapsedTime: max_age=0 is prompt=login (OpenID Connect Core §3.1.2.1, errata
// set 2), also when no time has passed since the session's login (here a frozen clock).
func TestMaxAgeZeroWithoutElapsedTime(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	b := e.loggedIn("paul")
	f := e.flow("contacts-web", "openid").with("max_age", "0")
	if p := b.get(f.authURL()); p.kind() != "login" {
		t.Errorf("max_age=0 with a session logged in 0 s ago: %s page, want the login page "+
			"(oauth/authorize.go proceed compares elapsed > max_age, so 0 s elapsed passes max_age=0)", p.kind())
	}
}

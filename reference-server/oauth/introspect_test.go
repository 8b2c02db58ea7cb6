package oauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// ccToken gets a client-credentials access token for audience with x/oauth2.
func (e *env) ccToken(t testing.TB, clientID, audience string) string {
	t.Helper()
	style := oauth2.AuthStyleInHeader
	if e.app(clientID).TokenEndpointAuthMethod != "client_secret_basic" {
		style = oauth2.AuthStyleInParams
	}
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: e.creds.Clients[clientID], TokenURL: e.url(oauth.PathToken),
		AuthStyle: style, EndpointParams: url.Values{"audience": {audience}}}
	if e.app(clientID).TokenEndpointAuthMethod == "private_key_jwt" {
		cc.EndpointParams = withAssertion(cc.EndpointParams, e.assertion(t, clientID, nil))
	}
	tok, err := cc.Token(e.ctx)
	if err != nil {
		t.Fatalf("client credentials for %s: %v", clientID, err)
	}
	return tok.AccessToken
}

// TestIntrospection: what each kind of token looks like to each kind of caller (RFC 7662 §2.2).
func TestIntrospection(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	syncTok := e.ccToken(t, "acme-sync", contactsAPI)
	billing := e.ccToken(t, "contacts-importer", billingAPI)
	reports := e.ccToken(t, "contacts-importer", reportsAPI)
	botTok := e.ccToken(t, bot, contactsAPI)
	user := e.tokens(e.loggedIn("paul"), e.flow("contacts-web", "openid", "offline_access", "read:contacts"), "")
	forged := forgeES256(t, e, reports)

	cc := func(client, aud, scope string) map[string]any {
		return map[string]any{"active": true, "client_id": client, "sub": client, "aud": aud, "iss": e.issuer,
			"scope": scope, "token_type": "Bearer"}
	}
	userAT := map[string]any{"active": true, "client_id": "contacts-web", "sub": "user-paul", "aud": contactsAPI,
		"iss": e.issuer, "scope": "openid offline_access read:contacts", "token_type": "Bearer", "username": e.user("paul").Email}
	userRT := map[string]any{"active": true, "client_id": "contacts-web", "sub": "user-paul",
		"scope": "openid offline_access read:contacts", "token_type": "refresh_token"}
	cases := []struct {
		name, caller, token, hint string
		want                      map[string]any // nil: exactly {"active":false}
	}{
		{"RS256 client-credentials token", "contacts-importer", syncTok, "", cc("acme-sync", contactsAPI, "read:contacts")},
		{"HS256 token (the API's shared secret)", "contacts-importer", billing, "", cc("contacts-importer", billingAPI, "read:invoices")},
		{"ES256 token", "contacts-importer", reports, "access_token", cc("contacts-importer", reportsAPI, "read:reports")},
		{"user's access token, with username", "contacts-importer", user.AccessToken, "", userAT},
		{"refresh token", "contacts-importer", user.RefreshToken, "refresh_token", userRT},
		{"refresh token under the access_token hint", "contacts-importer", user.RefreshToken, "access_token", userRT},
		{"access token under the refresh_token hint", "contacts-importer", user.AccessToken, "refresh_token", userAT},
		{"unknown hint is ignored", "contacts-importer", user.AccessToken, "id_token", userAT},
		{"the client's own token", "contacts-web", user.AccessToken, "", userAT},
		{"third-party caller, its own token", "acme-sync", syncTok, "", cc("acme-sync", contactsAPI, "read:contacts")},
		{"third-party caller, another client's token", "acme-sync", user.AccessToken, "", nil},
		{"third-party caller, another client's refresh token", "acme-sync", user.RefreshToken, "", nil},
		{"private_key_jwt caller, its own token", bot, botTok, "", cc(bot, contactsAPI, "read:contacts")},
		{"unknown opaque token", "contacts-importer", randomString(), "", nil},
		{"malformed JWT", "contacts-importer", "a.b.c", "", nil},
		{"ID token (not an access token)", "contacts-importer", user.Extra("id_token").(string), "", nil},
		{"forged: another key under the server's kid", "contacts-importer", forged, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.in(t).introspect(c.caller, c.token, c.hint)
			if c.want == nil {
				inactive(t, r)
				return
			}
			if !active(t, r) {
				t.Fatalf("inactive: %s", r.Raw)
			}
			for k, v := range c.want {
				if r.JSON[k] != v {
					t.Errorf("%s = %v, want %v", k, r.JSON[k], v)
				}
			}
			if _, ok := c.want["username"]; !ok && r.JSON["username"] != nil {
				t.Errorf("username %v on a token that acts for no user or is not an access token", r.JSON["username"])
			}
			if exp, _ := r.JSON["exp"].(float64); int64(exp) <= clock.Now().Unix() {
				t.Errorf("exp %v is not in the future", r.JSON["exp"])
			}
			if c.want["token_type"] == "Bearer" {
				claims := decodeJWT(t, c.token).Claims
				for _, k := range []string{"exp", "iat", "jti"} {
					if r.JSON[k] != claims[k] {
						t.Errorf("%s = %v, the token says %v", k, r.JSON[k], claims[k])
					}
				}
			}
		})
	}

	t.Run("a rotated refresh token is inactive, its successor active", func(t *testing.T) {
		r := e.refresh("contacts-web", user.RefreshToken, "")
		if r.Status != http.StatusOK {
			t.Fatalf("refresh: %d %s", r.Status, r.Raw)
		}
		inactive(t, e.introspect("contacts-importer", user.RefreshToken, ""))
		if !active(t, e.introspect("contacts-importer", r.str("refresh_token"), "")) {
			t.Error("the rotated-in refresh token is inactive")
		}
	})
	t.Run("expired tokens are inactive, at once (no leeway)", func(t *testing.T) {
		clock.Advance(10*time.Minute + time.Second) // the Reports API's tokens live 10 minutes
		inactive(t, e.introspect("contacts-importer", reports, ""))
		if !active(t, e.introspect("contacts-importer", syncTok, "")) {
			t.Error("a one-hour token is inactive after ten minutes")
		}
	})
}

// forgeES256 re-signs a token's claims with a key of its own under the server's ES256 kid.
func forgeES256(t testing.TB, e *env, token string) string {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: jws.Signatures[0].Header.KeyID}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signer.Sign(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		t.Fatal(err)
	}
	s, err := forged.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBackChannelEndpointRequests: method, body and client authentication at introspection and
// revocation. Introspection refuses public clients (RFC 7662 §4); revocation lets them revoke
// their own tokens.
func TestBackChannelEndpointRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	tok := e.ccToken(t, "acme-sync", contactsAPI)
	secret := e.creds.Clients["acme-sync"]
	cases := []struct {
		name      string
		path      string
		form      url.Values
		opts      []reqOpt
		status    int
		code      string
		challenge bool
	}{
		{"introspect: public client", oauth.PathIntrospect, url.Values{"client_id": {"contacts-spa"}, "token": {tok}}, nil, 401, "invalid_client", false},
		{"introspect: no client authentication", oauth.PathIntrospect, url.Values{"token": {tok}}, nil, 401, "invalid_client", false},
		{"introspect: wrong secret", oauth.PathIntrospect, url.Values{"token": {tok}}, []reqOpt{basicAuth("acme-sync", "wrong")}, 401, "invalid_client", true},
		{"introspect: no token", oauth.PathIntrospect, url.Values{}, []reqOpt{basicAuth("acme-sync", secret)}, 400, "invalid_request", false},
		{"introspect: repeated token", oauth.PathIntrospect, url.Values{"token": {tok, tok}}, []reqOpt{basicAuth("acme-sync", secret)}, 400, "invalid_request", false},
		{"introspect: bad assertion", oauth.PathIntrospect, withAssertion(url.Values{"token": {tok}}, "x.y.z"), nil, 401, "invalid_client", false},
		{"revoke: no client authentication", oauth.PathRevoke, url.Values{"token": {tok}}, nil, 401, "invalid_client", false},
		{"revoke: unknown public client", oauth.PathRevoke, url.Values{"client_id": {"nobody"}, "token": {tok}}, nil, 401, "invalid_client", false},
		{"revoke: confidential client without its secret", oauth.PathRevoke, url.Values{"client_id": {"acme-sync"}, "token": {tok}}, nil, 401, "invalid_client", false},
		{"revoke: wrong secret", oauth.PathRevoke, url.Values{"token": {tok}}, []reqOpt{basicAuth("acme-sync", "wrong")}, 401, "invalid_client", true},
		{"revoke: no token", oauth.PathRevoke, url.Values{}, []reqOpt{basicAuth("acme-sync", secret)}, 400, "invalid_request", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.in(t).postTo(c.path, c.form, c.opts...)
			expectError(t, r, c.status, c.code)
			if ch := r.Header.Get("WWW-Authenticate"); c.challenge && ch == "" {
				t.Error("no Basic challenge after a failed Basic authentication (RFC 6749 §5.2)")
			}
		})
	}
	for _, path := range []string{oauth.PathIntrospect, oauth.PathRevoke} {
		t.Run("GET "+path, func(t *testing.T) {
			resp, err := http.Get(e.url(path))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
				t.Errorf("%d Allow %q, want 405 Allow POST", resp.StatusCode, resp.Header.Get("Allow"))
			}
		})
		t.Run("JSON body at "+path, func(t *testing.T) {
			r := e.in(t).postTo(path, nil, basicAuth("acme-sync", secret), header("Content-Type", "application/json"))
			expectError(t, r, http.StatusBadRequest, "invalid_request")
		})
	}
	if !active(t, e.introspect("acme-sync", tok, "")) {
		t.Error("the token was revoked or spoilt by the refused requests")
	}
}

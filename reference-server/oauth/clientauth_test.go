package oauth_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestClientAuthentication: each client authenticates with its registered method and no other.
func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	secret := e.creds.Clients
	post := func(id, s string) url.Values { return url.Values{"client_id": {id}, "client_secret": {s}} }
	cases := []struct {
		name      string
		form      url.Values // client parameters in the body
		opts      []reqOpt
		status    int
		code      string
		challenge bool // a Basic challenge is required in WWW-Authenticate
	}{
		{"basic: acme-sync", nil, []reqOpt{basicAuth("acme-sync", secret["acme-sync"])}, 200, "", false},
		{"post: contacts-importer", post("contacts-importer", secret["contacts-importer"]), nil, 200, "", false},
		{"basic client using post", post("acme-sync", secret["acme-sync"]), nil, 401, "invalid_client", false},
		{"post client using basic", nil, []reqOpt{basicAuth("contacts-importer", secret["contacts-importer"])}, 401, "invalid_client", true},
		{"basic: wrong secret", nil, []reqOpt{basicAuth("acme-sync", "wrong")}, 401, "invalid_client", true},
		{"basic: another client's secret", nil, []reqOpt{basicAuth("acme-sync", secret["acme-cms"])}, 401, "invalid_client", true},
		{"basic: empty secret", nil, []reqOpt{basicAuth("acme-sync", "")}, 401, "invalid_client", true},
		{"post: wrong secret", post("contacts-importer", "wrong"), nil, 401, "invalid_client", false},
		{"basic: unknown client", nil, []reqOpt{basicAuth("nobody", "secret")}, 401, "invalid_client", true},
		{"post: unknown client", post("nobody", "secret"), nil, 401, "invalid_client", false},
		{"none: unknown client", url.Values{"client_id": {"nobody"}}, nil, 401, "invalid_client", false},
		{"no authentication at all", nil, nil, 401, "invalid_client", false},
		{"confidential client without its secret", url.Values{"client_id": {"acme-sync"}}, nil, 401, "invalid_client", false},
		{"public client with a secret", post("contacts-spa", "made-up"), nil, 401, "invalid_client", false},
		{"basic and client_secret in the body", url.Values{"client_secret": {secret["acme-sync"]}},
			[]reqOpt{basicAuth("acme-sync", secret["acme-sync"])}, 400, "invalid_request", false},
		{"basic and another client_id in the body", url.Values{"client_id": {"contacts-importer"}},
			[]reqOpt{basicAuth("acme-sync", secret["acme-sync"])}, 400, "invalid_request", false},
		{"basic and the same client_id in the body", url.Values{"client_id": {"acme-sync"}},
			[]reqOpt{basicAuth("acme-sync", secret["acme-sync"])}, 200, "", false},
		{"Bearer authorization", nil, []reqOpt{header("Authorization", "Bearer abc")}, 400, "invalid_request", false},
		{"malformed Basic", nil, []reqOpt{header("Authorization", "Basic !!!")}, 401, "invalid_client", true},
		{"Basic not form-encoded", nil, []reqOpt{header("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("acme-sync:%zz")))}, 401, "invalid_client", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}}
			for k, v := range c.form {
				form[k] = v
			}
			r := e.in(t).token(form, c.opts...)
			if c.status == 200 {
				if r.Status != 200 || r.str("access_token") == "" {
					t.Errorf("%d %s, want a token", r.Status, r.Raw)
				}
				return
			}
			expectError(t, r, c.status, c.code)
			if r.str("access_token") != "" {
				t.Error("an access token came with the error")
			}
			if ch := r.Header.Get("WWW-Authenticate"); c.challenge && !strings.HasPrefix(ch, "Basic ") {
				t.Errorf("WWW-Authenticate = %q, want a Basic challenge (RFC 6749 §5.2)", ch)
			}
		})
	}
}

// TestPublicClientAtTokenEndpoint: contacts-spa redeems its code with method none and PKCE.
func TestPublicClientAtTokenEndpoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("contacts-spa", "openid", "read:contacts")
	if f.Cfg.ClientSecret != "" || f.Cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		t.Fatalf("contacts-spa config %+v", f.Cfg)
	}
	tok := e.tokens(b, f, "")
	if c := decodeJWT(t, tok.AccessToken).Claims; c["client_id"] != "contacts-spa" || c["sub"] != "user-paul" {
		t.Errorf("claims %v", c)
	}
	if e.apiGet(t, tok.AccessToken, "/accounts/globex/contacts") != http.StatusOK {
		t.Error("the SPA's token is refused by the API")
	}
	// Its code cannot be redeemed by someone who has the code but not the verifier.
	f = e.flow("contacts-spa", "openid")
	code := e.code(b, f, "")
	r := e.token(url.Values{"grant_type": {"authorization_code"}, "client_id": {"contacts-spa"}, "code": {code},
		"redirect_uri": {f.Cfg.RedirectURL}})
	expectError(t, r, http.StatusBadRequest, "invalid_grant")
	// A public client cannot use client_credentials.
	r = e.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"contacts-spa"}})
	expectError(t, r, http.StatusBadRequest, "unauthorized_client")
}

// TestClientCredentials: an application acting for itself, within its client grants.
func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	cc := func(client string, scopes []string, params url.Values) *clientcredentials.Config {
		style := oauth2.AuthStyleInHeader
		if client == "contacts-importer" {
			style = oauth2.AuthStyleInParams
		}
		return &clientcredentials.Config{ClientID: client, ClientSecret: e.creds.Clients[client],
			TokenURL: e.url(oauth.PathToken), Scopes: scopes, EndpointParams: params, AuthStyle: style}
	}
	aud := func(a string) url.Values { return url.Values{"audience": {a}} }
	cases := []struct {
		name, client string
		scopes       []string
		params       url.Values
		wantScope    string
		wantAud      string
		wantAlg      string
		wantErr      string
	}{
		{"acme-sync, default audience", "acme-sync", nil, nil, "read:contacts", contactsAPI, "RS256", ""},
		{"acme-sync, explicit audience", "acme-sync", []string{"read:contacts"}, aud(contactsAPI), "read:contacts", contactsAPI, "RS256", ""},
		{"acme-sync, resource indicator", "acme-sync", nil, url.Values{"resource": {contactsAPI}}, "read:contacts", contactsAPI, "RS256", ""},
		{"acme-sync, scope cut to the grant", "acme-sync", []string{"read:contacts", "update:contacts"}, nil, "read:contacts", contactsAPI, "RS256", ""},
		{"acme-sync, only ungranted scope", "acme-sync", []string{"update:contacts"}, nil, "", "", "", "invalid_scope"},
		{"acme-sync, unknown scope", "acme-sync", []string{"read:contacts", "delete:contacts"}, nil, "", "", "", "invalid_scope"},
		{"acme-sync, no grant for reports", "acme-sync", nil, aud(reportsAPI), "", "", "", "unauthorized_client"},
		{"acme-sync, unknown audience", "acme-sync", nil, aud("https://unknown.example"), "", "", "", "invalid_target"},
		{"acme-sync, audience and resource differ", "acme-sync", nil, url.Values{"audience": {contactsAPI}, "resource": {reportsAPI}}, "", "", "", "invalid_request"},
		{"acme-cms has no client_credentials grant", "acme-cms", nil, nil, "", "", "", "unauthorized_client"},
		{"contacts-importer, contacts", "contacts-importer", nil, nil, "read:contacts update:contacts", contactsAPI, "RS256", ""},
		{"contacts-importer, reports", "contacts-importer", nil, aud(reportsAPI), "read:reports", reportsAPI, "ES256", ""},
		{"contacts-importer, billing", "contacts-importer", nil, aud(billingAPI), "read:invoices", billingAPI, "HS256", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := cc(c.client, c.scopes, c.params).Token(e.ctx)
			if c.wantErr != "" {
				retrieveError(t, err, c.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "" || tok.Extra("id_token") != nil {
				t.Error("client credentials came with a refresh or ID token")
			}
			if tok.Extra("scope") != c.wantScope {
				t.Errorf("response scope %v, want %q", tok.Extra("scope"), c.wantScope)
			}
			at := decodeJWT(t, tok.AccessToken)
			if at.Header["alg"] != c.wantAlg || at.Header["typ"] != "at+jwt" {
				t.Errorf("header %v, want alg %s typ at+jwt", at.Header, c.wantAlg)
			}
			if c.wantAlg != "HS256" && (at.Header["kid"] == nil || at.Header["kid"] == "") {
				t.Errorf("no kid in %v", at.Header)
			}
			want := map[string]any{"sub": c.client, "client_id": c.client, "azp": c.client, "gty": "client-credentials",
				"scope": c.wantScope, "aud": c.wantAud, "iss": e.issuer}
			for k, v := range want {
				if at.Claims[k] != v {
					t.Errorf("%s = %v, want %v", k, at.Claims[k], v)
				}
			}
			if _, ok := at.Claims["https://contacts.example/accounts"]; ok {
				t.Error("a client-credentials token carries the users' account claim")
			}
			e.in(t).checkSignature(t, tok.AccessToken, c.wantAlg, c.wantAud)
		})
	}
	t.Run("acme-sync reads any account, cannot write", func(t *testing.T) {
		tok, err := cc("acme-sync", nil, nil).Token(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.apiGet(t, tok.AccessToken, "/accounts/initech/contacts"); got != http.StatusOK {
			t.Errorf("read initech: %d", got)
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.APIBaseURL()+"/accounts/initech/contacts", strings.NewReader(`{"name":"X","email":"x@initech.example"}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("write without update:contacts: %d, want 403", resp.StatusCode)
		}
	})
}

package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
)

// TestCodeExchange redeems a code with x/oauth2 and PKCE, verifies the ID token with go-oidc and
// checks the access token's claims, then uses the token on the contacts API.
func TestCodeExchange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	scopes := []string{"openid", "profile", "email", "offline_access", "read:contacts"}
	f := e.flow("contacts-web", scopes...)
	before := time.Now().Add(-time.Second)
	tok := e.tokens(e.browser(), f, "paul")

	if tok.TokenType != "Bearer" || tok.RefreshToken == "" || tok.Extra("scope") != "openid profile email offline_access read:contacts" {
		t.Errorf("token_type %q, refresh token %v, scope %q", tok.TokenType, tok.RefreshToken != "", tok.Extra("scope"))
	}
	if ei, _ := tok.Extra("expires_in").(float64); ei != 3600 {
		t.Errorf("expires_in = %v, want 3600", tok.Extra("expires_in"))
	}

	t.Run("ID token", func(t *testing.T) {
		provider, err := oidc.NewProvider(e.ctx, e.issuer)
		if err != nil {
			t.Fatalf("go-oidc discovery: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: "contacts-web"}).Verify(e.ctx, raw)
		if err != nil {
			t.Fatalf("verify the ID token: %v", err)
		}
		if idt.Nonce != f.Nonce {
			t.Errorf("nonce = %q, want %q", idt.Nonce, f.Nonce)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken + "x"); err == nil {
			t.Error("at_hash matches another access token")
		}
		var c struct {
			AZP, Name, Email string
			EmailVerified    bool  `json:"email_verified"`
			AuthTime         int64 `json:"auth_time"`
		}
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		if idt.Subject != "user-paul" || idt.Issuer != e.issuer || !slices.Equal(idt.Audience, []string{"contacts-web"}) || c.AZP != "contacts-web" {
			t.Errorf("sub %q iss %q aud %v azp %q", idt.Subject, idt.Issuer, idt.Audience, c.AZP)
		}
		if c.Name != "Paul Globex" || c.Email != "paul@globex.example" || !c.EmailVerified {
			t.Errorf("profile claims %+v", c)
		}
		if at := time.Unix(c.AuthTime, 0); at.Before(before.Truncate(time.Second)) || at.After(time.Now()) {
			t.Errorf("auth_time %v is not the login time", at)
		}
		if h := decodeJWT(t, raw).Header; h["alg"] != "RS256" || h["kid"] == "" {
			t.Errorf("ID token header %v", h)
		}
		// Another client must not accept it.
		if _, err := provider.Verifier(&oidc.Config{ClientID: "acme-cms"}).Verify(e.ctx, raw); err == nil {
			t.Error("the ID token verifies for acme-cms")
		}
	})

	t.Run("access token", func(t *testing.T) {
		at := decodeJWT(t, tok.AccessToken)
		if at.Header["typ"] != "at+jwt" || at.Header["alg"] != "RS256" || at.Header["kid"] == nil || at.Header["kid"] == "" {
			t.Errorf("header %v, want typ at+jwt, alg RS256 and a kid", at.Header)
		}
		e.verifyJWKS(t, tok.AccessToken, jose.RS256)
		c := at.Claims
		want := map[string]any{
			"iss": e.issuer, "sub": "user-paul", "aud": contactsAPI, "azp": "contacts-web",
			"client_id": "contacts-web", "scope": "openid profile email offline_access read:contacts",
		}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("%s = %v, want %v", k, c[k], v)
			}
		}
		iat, _ := c["iat"].(float64)
		exp, _ := c["exp"].(float64)
		if exp-iat != 3600 || time.Since(time.Unix(int64(iat), 0)) > time.Minute {
			t.Errorf("iat %v exp %v, want exp = iat + 3600 and iat now", iat, exp)
		}
		if jti, _ := c["jti"].(string); jti == "" {
			t.Error("no jti")
		}
		if _, ok := c["gty"]; ok {
			t.Errorf("a user's token has gty %v", c["gty"])
		}
		if got, _ := c["https://contacts.example/accounts"].([]any); !slices.Equal(got, []any{"globex"}) {
			t.Errorf("account claim = %v, want [globex]", c["https://contacts.example/accounts"])
		}
	})

	t.Run("contacts API", func(t *testing.T) {
		resp, err := f.Cfg.Client(e.ctx, tok).Get(e.srv.APIBaseURL() + "/accounts/globex/contacts")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET globex contacts: %d", resp.StatusCode)
		}
		if got := e.apiGet(t, tok.AccessToken, "/accounts/initech/contacts"); got != http.StatusForbidden {
			t.Errorf("paul reading initech: %d, want 403", got)
		}
	})
}

// TestCodeIsSingleUse: a replayed code fails and revokes what the first redemption issued.
func TestCodeIsSingleUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	f := e.flow("contacts-web", "openid", "offline_access", "read:contacts")
	code := e.code(e.loggedIn("paul"), f, "")
	tok, err := e.exchange(f, code)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.apiGet(t, tok.AccessToken, "/accounts/globex/contacts"); got != http.StatusOK {
		t.Fatalf("the fresh access token: %d", got)
	}
	_, err = e.exchange(f, code)
	retrieveError(t, err, "invalid_grant")
	if got := e.apiGet(t, tok.AccessToken, "/accounts/globex/contacts"); got != http.StatusUnauthorized {
		t.Errorf("the first exchange's access token after the replay: %d, want 401", got)
	}
	expectError(t, e.refresh("contacts-web", tok.RefreshToken, ""), http.StatusBadRequest, "invalid_grant")
	if r := e.userInfo(t, http.MethodGet, "Bearer "+tok.AccessToken); r.status != http.StatusUnauthorized {
		t.Errorf("userinfo with the revoked access token: %d, want 401", r.status)
	}
}

// TestCodeRedemptionChecks: everything that binds a code to its request.
func TestCodeRedemptionChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	e.code(b, e.flow("acme-cms", "openid"), "") // consent to acme-cms

	cases := []struct {
		name   string
		client string
		noPKCE bool
		redeem func(f *flow, code string) error
		want   string // "" = success
	}{
		{"wrong code_verifier", "contacts-web", false, func(f *flow, code string) error {
			_, err := f.Cfg.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"missing code_verifier", "contacts-web", false, func(f *flow, code string) error {
			_, err := f.Cfg.Exchange(e.ctx, code)
			return err
		}, "invalid_grant"},
		{"malformed code_verifier", "contacts-web", false, func(f *flow, code string) error {
			_, err := f.Cfg.Exchange(e.ctx, code, oauth2.VerifierOption("short"))
			return err
		}, "invalid_grant"},
		{"redirect_uri mismatch", "contacts-web", false, func(f *flow, code string) error {
			cfg := *f.Cfg
			cfg.RedirectURL = webCallback + "/other"
			_, err := cfg.Exchange(e.ctx, code, oauth2.VerifierOption(f.Verifier))
			return err
		}, "invalid_grant"},
		{"redirect_uri missing", "contacts-web", false, func(f *flow, code string) error {
			cfg := *f.Cfg
			cfg.RedirectURL = ""
			_, err := cfg.Exchange(e.ctx, code, oauth2.VerifierOption(f.Verifier))
			return err
		}, "invalid_grant"},
		{"acme-cms code redeemed by contacts-web", "acme-cms", false, func(f *flow, code string) error {
			cfg := e.config("contacts-web")
			cfg.RedirectURL = f.Cfg.RedirectURL
			_, err := cfg.Exchange(e.ctx, code, oauth2.VerifierOption(f.Verifier))
			return err
		}, "invalid_grant"},
		{"PKCE downgrade: verifier for a code without challenge", "contacts-web", true, func(f *flow, code string) error {
			_, err := f.Cfg.Exchange(e.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
			return err
		}, "invalid_grant"},
		{"confidential client without PKCE", "contacts-web", true, func(f *flow, code string) error {
			_, err := f.Cfg.Exchange(e.ctx, code)
			return err
		}, ""},
		{"unknown code", "contacts-web", false, func(f *flow, _ string) error {
			_, err := e.exchange(f, "no-such-code")
			return err
		}, "invalid_grant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := e.flow(c.client, "openid")
			if c.noPKCE {
				f.Verifier = ""
			}
			err := c.redeem(f, e.in(t).code(b.in(t), f, ""))
			if c.want == "" {
				if err != nil {
					t.Errorf("redeem: %v", err)
				}
				return
			}
			retrieveError(t, err, c.want)
		})
	}
}

// TestCodeExchangeResource: RFC 8707 §2.2: a resource named at the token endpoint must be one the
// authorization request named; the server must not answer a token for another audience.
func TestCodeExchangeResource(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("contacts-web", "openid", "read:contacts")
	tok, err := f.Cfg.Exchange(e.ctx, e.code(b, f, ""), oauth2.VerifierOption(f.Verifier), oauth2.SetAuthURLParam("resource", contactsAPI))
	if err != nil || decodeJWT(t, tok.AccessToken).Claims["aud"] != contactsAPI {
		t.Fatalf("resource naming the authorized API: %v", err)
	}
	f = e.flow("contacts-web", "openid", "read:contacts")
	tok, err = f.Cfg.Exchange(e.ctx, e.code(b, f, ""), oauth2.VerifierOption(f.Verifier), oauth2.SetAuthURLParam("resource", reportsAPI))
	if err == nil {
		t.Errorf("resource=%s for a code issued for %s: got a token for %v, want invalid_target "+
			"(oauth/grant_authorization_code.go ignores resource and audience)", reportsAPI, contactsAPI, decodeJWT(t, tok.AccessToken).Claims["aud"])
		return
	}
	retrieveError(t, err, "invalid_target")
}

// TestCodeExpiry: a code lives 60 seconds.
func TestCodeExpiry(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	b := e.loggedIn("paul")

	f := e.flow("contacts-web", "openid")
	code := e.code(b, f, "")
	clock.Advance(59 * time.Second)
	if _, err := e.exchange(f, code); err != nil {
		t.Errorf("a 59 s old code: %v", err)
	}
	f = e.flow("contacts-web", "openid")
	code = e.code(b, f, "")
	clock.Advance(61 * time.Second)
	_, err := e.exchange(f, code)
	retrieveError(t, err, "invalid_grant")
}

// TestTokenRequestFormat: the token endpoint takes one form-encoded POST per request.
func TestTokenRequestFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	secret := e.creds.Clients["acme-sync"]
	auth := basicAuth("acme-sync", secret)
	form := "application/x-www-form-urlencoded"
	cases := []struct {
		name, method, body, contentType string
		status                          int
		code                            string
	}{
		{"valid", http.MethodPost, "grant_type=client_credentials", form, 200, ""},
		{"charset parameter", http.MethodPost, "grant_type=client_credentials", form + "; charset=UTF-8", 200, ""},
		{"unknown grant_type", http.MethodPost, "grant_type=magic", form, 400, "unsupported_grant_type"},
		{"missing grant_type", http.MethodPost, "scope=read%3Acontacts", form, 400, "invalid_request"},
		{"repeated grant_type", http.MethodPost, "grant_type=client_credentials&grant_type=client_credentials", form, 400, "invalid_request"},
		{"repeated scope", http.MethodPost, "grant_type=client_credentials&scope=read%3Acontacts&scope=read%3Acontacts", form, 400, "invalid_request"},
		{"JSON body", http.MethodPost, `{"grant_type":"client_credentials"}`, "application/json", 400, "invalid_request"},
		{"multipart body", http.MethodPost, "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n", "multipart/form-data; boundary=x", 400, "invalid_request"},
		{"no content type", http.MethodPost, "grant_type=client_credentials", "", 400, "invalid_request"},
		{"text/plain", http.MethodPost, "grant_type=client_credentials", "text/plain", 400, "invalid_request"},
		{"malformed body", http.MethodPost, "grant_type=%zz", form, 400, "invalid_request"},
		{"grant not allowed for the client", http.MethodPost, "grant_type=authorization_code&code=x&redirect_uri=x", form, 400, "unauthorized_client"},
		{"refresh not allowed for the client", http.MethodPost, "grant_type=refresh_token&refresh_token=x", form, 400, "unauthorized_client"},
		{"GET", http.MethodGet, "", "", 405, "invalid_request"},
		{"PUT", http.MethodPut, "grant_type=client_credentials", form, 405, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := []reqOpt{auth}
			if c.contentType != "" {
				opts = append(opts, header("Content-Type", c.contentType))
			}
			r := e.in(t).tokenRaw(c.method, c.body, opts...)
			if c.status == 200 {
				if r.Status != 200 || r.str("access_token") == "" {
					t.Errorf("%d %s, want a token", r.Status, r.Raw)
				}
				return
			}
			expectError(t, r, c.status, c.code)
			if c.status == 405 && r.Header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", r.Header.Get("Allow"))
			}
		})
	}
	t.Run("parameters in the query are not read", func(t *testing.T) {
		r := e.in(t).token(url.Values{}, auth, func(r *http.Request) { r.URL.RawQuery = "grant_type=client_credentials" })
		expectError(t, r, 400, "invalid_request")
	})
}

package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// TestPasswordGrant: the trusted Ops Console gets tokens with the user's password (x/oauth2
// PasswordCredentialsToken); ID token with openid, refresh token with offline_access.
func TestPasswordGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	paul := e.user("paul")
	provider, err := oidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "ops-console"})
	cases := []struct {
		name      string
		scopes    []string
		wantScope string
		wantAud   string
		idToken   bool
		refresh   bool
	}{
		{"API scope only", []string{"read:contacts"}, "read:contacts", contactsAPI, false, false},
		{"openid: an ID token", []string{"openid", "email", "read:contacts"}, "openid email read:contacts", contactsAPI, true, false},
		{"offline_access: a refresh token", []string{"openid", "offline_access", "read:contacts"}, "openid offline_access read:contacts", contactsAPI, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := e.config("ops-console", c.scopes...)
			ctx := e.ctx
			tok, err := cfg.PasswordCredentialsToken(ctx, paul.Email, paul.Password)
			if err != nil {
				t.Fatal(err)
			}
			at := decodeJWT(t, tok.AccessToken).Claims
			if at["sub"] != "user-paul" || at["client_id"] != "ops-console" || at["scope"] != c.wantScope || at["aud"] != c.wantAud {
				t.Errorf("access token claims %v, want sub user-paul, client_id ops-console, scope %q, aud %s", at, c.wantScope, c.wantAud)
			}
			if at["gty"] != nil {
				t.Errorf("gty %v: the token acts for a user", at["gty"])
			}
			raw, _ := tok.Extra("id_token").(string)
			if (raw != "") != c.idToken {
				t.Fatalf("ID token %q, want one: %v", raw, c.idToken)
			}
			if raw != "" {
				idt, err := verifier.Verify(ctx, raw)
				if err != nil {
					t.Fatalf("go-oidc refuses the ID token: %v", err)
				}
				if err := idt.VerifyAccessToken(tok.AccessToken); idt.Subject != "user-paul" || err != nil {
					t.Errorf("ID token sub %q, at_hash check %v", idt.Subject, err)
				}
			}
			if (tok.RefreshToken != "") != c.refresh {
				t.Fatalf("refresh token %q, want one: %v", tok.RefreshToken, c.refresh)
			}
			if tok.RefreshToken != "" {
				r := e.in(t).refresh("ops-console", tok.RefreshToken, "")
				if r.Status != http.StatusOK || r.str("refresh_token") == "" {
					t.Errorf("refresh: %d %s", r.Status, r.Raw)
				}
			}
			e.alive(t, tok.AccessToken)
		})
	}
	t.Run("another API, where offline access is not allowed", func(t *testing.T) {
		form, opts := e.clientAuth("ops-console")
		for k, v := range map[string]string{"grant_type": "password", "username": paul.Email, "password": paul.Password,
			"audience": reportsAPI, "scope": "offline_access read:reports"} {
			form.Set(k, v)
		}
		r := e.in(t).token(form, opts...)
		at := decodeJWT(t, r.str("access_token"))
		if r.Status != http.StatusOK || at.Claims["aud"] != reportsAPI || at.Header["alg"] != "ES256" ||
			r.str("scope") != "read:reports" || r.str("refresh_token") != "" {
			t.Errorf("%d %s; want an ES256 token for the Reports API, read:reports only, no refresh token", r.Status, r.Raw)
		}
	})
}

// TestPasswordGrantRefusals: wrong credentials look alike whether or not the user exists, and only
// trusted first-party applications allowed the grant may use it.
func TestPasswordGrantRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	paul, mary := e.user("paul"), e.user("mary")
	pw := func(client, username, password string, extra ...string) *tokenReply {
		form, opts := e.clientAuth(client)
		form.Set("grant_type", "password")
		if username != "" {
			form.Set("username", username)
		}
		if password != "" {
			form.Set("password", password)
		}
		for i := 0; i+1 < len(extra); i += 2 {
			form.Set(extra[i], extra[i+1])
		}
		return e.token(form, opts...)
	}
	cases := []struct {
		name   string
		r      func() *tokenReply
		status int
		code   string
	}{
		{"wrong password", func() *tokenReply { return pw("ops-console", paul.Email, "wrong") }, 400, "invalid_grant"},
		{"unknown user", func() *tokenReply { return pw("ops-console", "nobody@globex.example", "wrong") }, 400, "invalid_grant"},
		{"another user's password", func() *tokenReply { return pw("ops-console", paul.Email, mary.Password) }, 400, "invalid_grant"},
		{"no password", func() *tokenReply { return pw("ops-console", paul.Email, "") }, 400, "invalid_request"},
		{"no username", func() *tokenReply { return pw("ops-console", "", paul.Password) }, 400, "invalid_request"},
		{"unknown scope", func() *tokenReply { return pw("ops-console", paul.Email, paul.Password, "scope", "delete:all") }, 400, "invalid_scope"},
		{"unknown audience", func() *tokenReply {
			return pw("ops-console", paul.Email, paul.Password, "audience", "https://nope.example")
		}, 400, "invalid_target"},
		{"first-party web app without the grant", func() *tokenReply { return pw("contacts-web", paul.Email, paul.Password) }, 400, "unauthorized_client"},
		{"third-party partner", func() *tokenReply { return pw("acme-cms", paul.Email, paul.Password) }, 400, "unauthorized_client"},
		{"machine-to-machine client", func() *tokenReply { return pw("acme-sync", paul.Email, paul.Password) }, 400, "unauthorized_client"},
		{"public SPA", func() *tokenReply { return pw("contacts-spa", paul.Email, paul.Password) }, 400, "unauthorized_client"},
		{"legacy implicit SPA", func() *tokenReply { return pw("contacts-legacy-spa", paul.Email, paul.Password) }, 400, "unauthorized_client"},
	}
	descriptions := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r()
			expectError(t, r, c.status, c.code)
			if r.str("access_token") != "" {
				t.Error("an access token came with the error")
			}
			if c.code == "invalid_grant" {
				descriptions[c.name] = r.str("error_description")
			}
		})
	}
	// No user enumeration: the three credential failures say the same.
	if d := descriptions["wrong password"]; d == "" || d != descriptions["unknown user"] || d != descriptions["another user's password"] {
		t.Errorf("credential failures differ: %q", descriptions)
	}
}

// TestPasswordGrantLockout: the login page's throttle guards the grant too; the lock lifts after a minute.
func TestPasswordGrantLockout(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	sam := e.user("sam")
	cfg := e.config("ops-console", "read:contacts")
	for i := range 5 {
		if _, err := cfg.PasswordCredentialsToken(e.ctx, sam.Email, "wrong"); err == nil {
			t.Fatalf("wrong password %d accepted", i)
		}
	}
	_, err := cfg.PasswordCredentialsToken(e.ctx, sam.Email, sam.Password)
	retrieveError(t, err, "invalid_grant")
	clock.Advance(lockoutWait)
	if _, err := cfg.PasswordCredentialsToken(e.ctx, sam.Email, sam.Password); err != nil {
		t.Errorf("the right password after the lock-out: %v", err)
	}
}

const lockoutWait = time.Minute + time.Second

// TestPasswordGrantNeedsFirstParty: the grant checks first_party at run time too, for a tenant that
// skipped validation (tenant validation refuses password for third parties).
func TestPasswordGrantNeedsFirstParty(t *testing.T) {
	t.Parallel()
	cfg := servertest.Tenant(t)
	for i := range cfg.Applications {
		if cfg.Applications[i].ClientID == "ops-console" {
			cfg.Applications[i].FirstParty = false
		}
	}
	e := newEnv(t, server.Options{Tenant: cfg})
	paul := e.user("paul")
	_, err := e.config("ops-console").PasswordCredentialsToken(e.ctx, paul.Email, paul.Password)
	retrieveError(t, err, "unauthorized_client")
}

package oauth_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

const (
	legacySPA      = "contacts-legacy-spa"
	legacyCallback = "https://legacy.contacts.example/callback"
)

// implicitQuery is a valid implicit request of the legacy SPA, for the cases to change.
func implicitQuery() url.Values {
	return url.Values{"client_id": {legacySPA}, "redirect_uri": {legacyCallback}, "response_type": {"id_token token"},
		"scope": {"openid read:contacts"}, "state": {randomString()}, "nonce": {randomString()}}
}

// TestImplicitFlow: the legacy SPA's response_type=id_token token, through the same login page as
// the code flow; the tokens come in the fragment, the ID token verifies with go-oidc (signature,
// nonce, at_hash) and the access token works at the API.
func TestImplicitFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	provider, err := oidc.NewProvider(e.ctx, e.issuer)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: legacySPA})
	cases := []struct {
		name      string
		browser   func() *browser
		mutate    map[string]string
		wantScope string
	}{
		{"login page, then tokens", e.browser, nil, "openid read:contacts"},
		{"existing session", func() *browser { return e.loggedIn("paul") }, nil, "openid read:contacts"},
		{"response type values in the other order", func() *browser { return e.loggedIn("paul") },
			map[string]string{"response_type": "token id_token"}, "openid read:contacts"},
		{"response_mode fragment named", func() *browser { return e.loggedIn("paul") },
			map[string]string{"response_mode": "fragment"}, "openid read:contacts"},
		{"offline_access dropped: no refresh token from the front channel", func() *browser { return e.loggedIn("paul") },
			map[string]string{"scope": "openid offline_access profile read:contacts"}, "openid profile read:contacts"},
		{"by POST", nil, nil, "openid read:contacts"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := implicitQuery()
			for k, v := range c.mutate {
				q.Set(k, v)
			}
			var p *page
			if c.browser == nil {
				b := e.in(t).loggedIn("paul")
				p = b.post(e.url(oauth.PathAuthorize), q)
			} else {
				b := c.browser().in(t)
				p = b.finish(b.get(e.authorizeURL(q)), "paul", "")
			}
			f := e.in(t).redirectedToFragment(p, legacyCallback, q.Get("state"))
			if u, _ := url.Parse(p.Header.Get("Location")); u.RawQuery != "" {
				t.Errorf("the redirect has a query %q: tokens and codes must not reach the client's server", u.RawQuery)
			}
			for _, k := range []string{"code", "refresh_token", "error"} {
				if f.Has(k) {
					t.Errorf("the fragment has %s=%q", k, f.Get(k))
				}
			}
			if f.Get("token_type") != "Bearer" || f.Get("scope") != c.wantScope {
				t.Errorf("token_type %q scope %q, want Bearer and %q", f.Get("token_type"), f.Get("scope"), c.wantScope)
			}
			if n, err := strconv.Atoi(f.Get("expires_in")); err != nil || n != 3600 {
				t.Errorf("expires_in %q, want 3600 (the Contacts API's lifetime)", f.Get("expires_in"))
			}
			idt, err := verifier.Verify(e.ctx, f.Get("id_token"))
			if err != nil {
				t.Fatalf("go-oidc refuses the ID token: %v", err)
			}
			if idt.Nonce != q.Get("nonce") {
				t.Errorf("nonce %q, want %q", idt.Nonce, q.Get("nonce"))
			}
			if idt.AccessTokenHash == "" {
				t.Error("no at_hash: OIDC Core §3.2.2.10 requires it with id_token token")
			}
			if err := idt.VerifyAccessToken(f.Get("access_token")); err != nil {
				t.Errorf("at_hash does not match the access token: %v", err)
			}
			at := decodeJWT(t, f.Get("access_token")).Claims
			if at["sub"] != "user-paul" || at["client_id"] != legacySPA || at["aud"] != contactsAPI {
				t.Errorf("access token claims %v", at)
			}
			e.alive(t, f.Get("access_token"))
			if r := e.introspect("contacts-importer", f.Get("access_token"), ""); !active(t, r) || r.str("username") != e.user("paul").Email {
				t.Errorf("introspection: %s", r.Raw)
			}
		})
	}
}

// TestImplicitFlowRefusals: nonce, openid and the fragment are required; only an spa allowed the
// implicit grant may use it. Every error goes back in the fragment.
func TestImplicitFlowRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	cases := []struct {
		name   string
		mutate map[string]string // "" deletes
		code   string
	}{
		{"no nonce", map[string]string{"nonce": ""}, "invalid_request"},
		{"response_mode query", map[string]string{"response_mode": "query"}, "invalid_request"},
		{"response_mode form_post", map[string]string{"response_mode": "form_post"}, "invalid_request"},
		{"no openid scope", map[string]string{"scope": "read:contacts"}, "invalid_scope"},
		{"response_type token alone", map[string]string{"response_type": "token"}, "unsupported_response_type"},
		{"response_type id_token alone", map[string]string{"response_type": "id_token"}, "unsupported_response_type"},
		{"response_type code id_token token", map[string]string{"response_type": "code id_token token"}, "unsupported_response_type"},
		{"unknown scope", map[string]string{"scope": "openid delete:everything"}, "invalid_scope"},
		{"prompt=none without a session", map[string]string{"prompt": "none", "max_age": "0"}, "login_required"},
		{"a web app", map[string]string{"client_id": "contacts-web", "redirect_uri": webCallback}, "unauthorized_client"},
		{"an spa without the implicit grant", map[string]string{"client_id": "contacts-spa",
			"redirect_uri": "https://spa.contacts.example/callback"}, "unauthorized_client"},
		{"a third-party web app", map[string]string{"client_id": "acme-cms",
			"redirect_uri": "https://cms.acme.example/oauth/callback"}, "unauthorized_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := implicitQuery()
			for k, v := range c.mutate {
				if v == "" {
					q.Del(k)
				} else {
					q.Set(k, v)
				}
			}
			f := e.in(t).redirectedToFragment(b.in(t).get(e.authorizeURL(q)), q.Get("redirect_uri"), q.Get("state"))
			if f.Get("error") != c.code || f.Has("access_token") || f.Has("id_token") {
				t.Errorf("error %q (%s), tokens %v; want %s and no tokens", f.Get("error"), f.Get("error_description"), f, c.code)
			}
		})
	}
	t.Run("errors before the redirect URI is known stay on the page", func(t *testing.T) {
		q := implicitQuery()
		q.Set("redirect_uri", "https://evil.example/callback")
		p := b.in(t).get(e.authorizeURL(q))
		if p.Status != http.StatusBadRequest || p.Header.Get("Location") != "" || p.kind() != "error" {
			t.Errorf("%d %s Location %q, want the 400 error page", p.Status, p.kind(), p.Header.Get("Location"))
		}
	})
}

// TestImplicitRequestRecheckedAfterLogin: the sealed request carries the response type, and it is
// checked again against the tenant when the user comes back from the login page.
func TestImplicitRequestRecheckedAfterLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	login := b.get(e.authorizeURL(implicitQuery()))
	if login.kind() != "login" {
		t.Fatalf("%s page, want login", login.kind())
	}
	cfg := *e.srv.Tenant.Config()
	cfg.Applications = append([]tenant.Application(nil), cfg.Applications...)
	for i := range cfg.Applications {
		if cfg.Applications[i].ClientID == legacySPA {
			cfg.Applications[i].GrantTypes = []string{tenant.GrantAuthorizationCode}
		}
	}
	if err := e.srv.Tenant.Replace(&cfg); err != nil {
		t.Fatal(err)
	}
	if p := b.login(login, "paul"); p.kind() != "error" || p.Header.Get("Location") != "" {
		t.Errorf("login for an implicit request the client may no longer make: %d %s %s, want the error page",
			p.Status, p.kind(), p.Header.Get("Location"))
	}
}

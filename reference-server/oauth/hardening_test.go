package oauth_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// The authorization request is carried sealed through the pages: altering it, or replaying it after
// it expires, shows an error page and never redirects.
func TestSealedRequestCannotBeAlteredOrOutlived(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	b := e.browser()
	p := b.get(e.flow("contacts-web", "openid").authURL())
	if p.kind() != "login" {
		t.Fatalf("%s page, want login", p.kind())
	}
	req := p.form().Get("req")
	flipped := []byte(req)
	flipped[len(flipped)/2] ^= 1
	for name, v := range map[string]string{"altered": string(flipped), "truncated": req[:len(req)-4], "empty": ""} {
		if got := b.get(e.url("/login?req=" + url.QueryEscape(v))); got.kind() != "error" || got.Status != http.StatusBadRequest {
			t.Errorf("%s req: %d %s page, want the 400 error page", name, got.Status, got.kind())
		}
	}
	clock.Advance(11 * time.Minute)
	if got := b.login(p, "paul"); got.kind() != "error" {
		t.Errorf("login on a request sealed 11 minutes ago: %d %s page, want the error page", got.Status, got.kind())
	}
}

// A third-party app that asks for no scope still needs the user's consent: any token tells it who the
// user is and which accounts they belong to.
func TestThirdPartyWithoutScopesNeedsConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("mary")
	f := e.flow("acme-cms")
	f.Cfg.Scopes = nil
	f.with("prompt", "none")
	if q := e.callback(f, b.get(f.authURL())); q.Get("error") != "consent_required" {
		t.Errorf("prompt=none without consent: %v, want consent_required", q)
	}
	f = e.flow("acme-cms")
	f.Cfg.Scopes = nil
	if p := b.get(f.authURL()); p.kind() != "consent" {
		t.Errorf("%d %s page, want the consent page", p.Status, p.kind())
	}
}

// After five failures an account is locked for a minute, with the right password too, and the
// lock-out message is the same whether the email exists or not.
func TestLoginLockout(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	b := e.browser()
	p := b.get(e.flow("contacts-web", "openid").authURL())
	paul := e.user("paul")
	messages := map[string]string{}
	for _, email := range []string{paul.Email, "nobody@globex.example"} {
		for range 5 {
			if r := b.loginAs(p, email, "wrong"); r.Status != http.StatusUnauthorized {
				t.Fatalf("%s: wrong password answered %d", email, r.Status)
			}
		}
		r := b.loginAs(p, email, paul.Password)
		if r.Status != http.StatusTooManyRequests || r.kind() != "login" {
			t.Errorf("%s: sixth attempt %d %s page, want 429 and the login page", email, r.Status, r.kind())
		}
		messages[email] = r.text("login-error")
	}
	if messages[paul.Email] == "" || messages[paul.Email] != messages["nobody@globex.example"] {
		t.Errorf("lock-out messages %q: they must exist and not tell the accounts apart", messages)
	}
	clock.Advance(61 * time.Second)
	if r := b.loginAs(p, paul.Email, paul.Password); r.kind() != "redirect" {
		t.Errorf("after the lock-out: %d %s page, want the redirect to the client", r.Status, r.kind())
	}
}

// OIDC Core §3.1.2.1: the authorization endpoint accepts POST as well as GET.
func TestAuthorizeByPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("contacts-web", "openid")
	u, _ := url.Parse(f.authURL())
	p := b.post(e.url("/authorize"), u.Query())
	if q := e.callback(f, p); q.Get("code") == "" {
		t.Errorf("POST /authorize: %v, want a code", q)
	}
}

// A huge max_age means "no limit", not an overflow that forces a login on every request.
func TestHugeMaxAgeDoesNotForceLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("contacts-web", "openid").with("max_age", "99999999999").with("prompt", "none")
	if q := e.callback(f, b.get(f.authURL())); q.Get("code") == "" {
		t.Errorf("max_age=99999999999 with a fresh session: %v, want a code", q)
	}
}

// error_description may only carry %x20-21 / %x23-5B / %x5D-7E (RFC 6749 §5.2), even when it
// quotes what the client sent.
func TestErrorDescriptionsStayInTheAllowedCharacters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	r := e.token(url.Values{"grant_type": {"urn:\"évil\"\\grant"}}, basicAuth("acme-sync", e.creds.Clients["acme-sync"]))
	desc := r.str("error_description")
	if r.err() != "unsupported_grant_type" || desc == "" {
		t.Fatalf("reply %v, want unsupported_grant_type with a description", r)
	}
	if i := strings.IndexFunc(desc, func(c rune) bool { return c < 0x20 || c > 0x7e || c == '"' || c == '\\' }); i >= 0 {
		t.Errorf("error_description %q has a forbidden character at %d", desc, i)
	}
}

// A wrong authentication method fails like a wrong secret: the endpoint does not tell which clients
// exist or how they authenticate.
func TestClientAuthenticationFailuresLookAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	cc := url.Values{"grant_type": {"client_credentials"}}
	post := func(id, secret string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
		return v
	}
	replies := map[string]*tokenReply{
		"wrong method":   e.token(post("acme-sync", e.creds.Clients["acme-sync"])),
		"wrong secret":   e.token(post("contacts-importer", "nope")),
		"unknown client": e.token(post("nobody", "nope")),
		"basic, wrong":   e.token(cc, basicAuth("acme-sync", "nope")),
	}
	for name, r := range replies {
		if r.err() != "invalid_client" || r.str("error_description") != "client authentication failed" {
			t.Errorf("%s: %v, want invalid_client \"client authentication failed\"", name, r)
		}
	}
}

// The sealed request is checked again against the tenant as it is when the user answers: a scope the
// API no longer defines cannot ride through on a request started before the change.
func TestSealedRequestIsRecheckedAgainstTheTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	p := b.get(e.flow("contacts-web", "openid", "update:contacts").authURL())
	if p.kind() != "login" {
		t.Fatalf("%s page, want login", p.kind())
	}
	err := e.srv.Tenant.Update(func(c *tenant.Config) error {
		for i := range c.APIs {
			c.APIs[i].Scopes = slices.DeleteFunc(c.APIs[i].Scopes, func(s tenant.Scope) bool { return s.Value == "update:contacts" })
		}
		for i := range c.ClientGrants {
			c.ClientGrants[i].Scopes = slices.DeleteFunc(c.ClientGrants[i].Scopes, func(s string) bool { return s == "update:contacts" })
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.login(p, "paul"); got.kind() != "error" {
		t.Errorf("login on a request whose scope was removed since: %d %s page, want the error page", got.Status, got.kind())
	}
}

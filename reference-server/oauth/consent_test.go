package oauth_test

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
)

// TestFirstPartyNeedsNoConsent: contacts-web gets its code right after the login.
func TestFirstPartyNeedsNoConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	f := e.flow("contacts-web", "openid", "profile", "email", "offline_access", "read:contacts", "update:contacts")
	p := b.login(b.get(f.authURL()), "paul")
	if p.kind() != "redirect" {
		t.Fatalf("after the login: %s page, want the redirect to the client (no consent for a first-party app)", p.kind())
	}
	if q := e.callback(f, p); q.Get("code") == "" {
		t.Errorf("no code: %v", q)
	}
}

// TestThirdPartyConsent walks acme-cms through deny, allow, remembered consent, a new scope and
// prompt=consent, with one browser logged in as paul.
func TestThirdPartyConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	scopes := []string{"openid", "offline_access", "read:contacts"}

	// consentPage starts an acme-cms request and expects the consent page for want (scope -> text).
	consentPage := func(t *testing.T, f *flow, want map[string]string) *page {
		t.Helper()
		p := b.in(t).finish(b.in(t).get(f.authURL()), "paul", "")
		if p.kind() != "consent" {
			t.Fatalf("%s page (%d), want the consent page", p.kind(), p.Status)
		}
		checkPageHeaders(t, p)
		if got := p.text("client-name"); got != "Acme CMS" {
			t.Errorf("the consent page names %q, want Acme CMS", got)
		}
		if got := p.text("user-email"); got != e.user("paul").Email {
			t.Errorf("the consent page shows user %q", got)
		}
		if got := p.scopes(); !maps.Equal(got, want) {
			t.Errorf("consent scopes %v, want %v", got, want)
		}
		return p
	}
	initial := map[string]string{
		"openid": "Confirm your identity", "offline_access": "Keep access to your data when you are not using it",
		"read:contacts": "Read your contacts",
	}

	t.Run("deny", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...)
		p := consentPage(t, f, initial)
		q := e.in(t).callback(f, b.in(t).consent(p, "deny"))
		if q.Get("error") != "access_denied" || q.Has("code") {
			t.Errorf("got %v, want access_denied and no code", q)
		}
		if got := e.srv.Store.Consent("user-paul", "acme-cms", contactsAPI); len(got) != 0 {
			t.Errorf("a denied consent was remembered: %v", got)
		}
	})
	t.Run("forged consent forms", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...)
		p := consentPage(t, f, initial)
		other := e.browser() // logged in as nobody
		for name, r := range map[string]*page{
			"no csrf_token":      b.in(t).post(p.action("consent-form"), withForm(p, "csrf_token", "", "decision", "allow")),
			"wrong csrf_token":   b.in(t).post(p.action("consent-form"), withForm(p, "csrf_token", flipFirst(p.form().Get("csrf_token")), "decision", "allow")),
			"from another one":   other.in(t).post(p.action("consent-form"), withForm(p, "decision", "allow")),
			"decision is bogus":  b.in(t).post(p.action("consent-form"), withForm(p, "decision", "maybe")),
			"login form's token": b.in(t).post(p.action("consent-form"), withForm(p, "csrf_token", loginToken(b.in(t), p), "decision", "allow")),
		} {
			want := http.StatusForbidden
			if name == "decision is bogus" {
				want = http.StatusBadRequest
			}
			if r.Status != want || r.kind() != "error" {
				t.Errorf("%s: %d %s page, want %d and the error page", name, r.Status, r.kind(), want)
			}
		}
		if got := e.srv.Store.Consent("user-paul", "acme-cms", contactsAPI); len(got) != 0 {
			t.Errorf("a forged consent was remembered: %v", got)
		}
		// The genuine form still works afterwards, and is then spent.
		if q := e.in(t).callback(f, b.in(t).consent(p, "deny")); q.Get("error") != "access_denied" {
			t.Errorf("got %v, want access_denied", q)
		}
	})
	t.Run("allow", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...)
		p := consentPage(t, f, initial)
		if q := e.in(t).callback(f, b.in(t).consent(p, "allow")); q.Get("code") == "" {
			t.Errorf("no code after Allow: %v", q)
		}
		if got := e.srv.Store.Consent("user-paul", "acme-cms", contactsAPI); !sameSet(got, scopes) {
			t.Errorf("remembered consent %v, want %v", got, scopes)
		}
	})
	t.Run("remembered", func(t *testing.T) {
		for _, sc := range [][]string{scopes, {"openid", "read:contacts"}} {
			f := e.flow("acme-cms", sc...)
			p := b.in(t).get(f.authURL())
			if p.kind() != "redirect" {
				t.Fatalf("scopes %v: %s page, want the code without asking again", sc, p.kind())
			}
			if q := e.in(t).callback(f, p); q.Get("code") == "" {
				t.Errorf("scopes %v: no code: %v", sc, q)
			}
		}
	})
	t.Run("prompt=none after consent", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...).with("prompt", "none")
		if q := e.in(t).callback(f, b.in(t).get(f.authURL())); q.Get("code") == "" {
			t.Errorf("prompt=none with remembered consent: %v", q)
		}
	})
	t.Run("new scope asks again", func(t *testing.T) {
		f := e.flow("acme-cms", append(slices.Clone(scopes), "update:contacts")...)
		want := maps.Clone(initial)
		want["update:contacts"] = "Create and update your contacts"
		p := consentPage(t, f, want)
		if q := e.in(t).callback(f, b.in(t).consent(p, "allow")); q.Get("code") == "" {
			t.Errorf("no code: %v", q)
		}
	})
	t.Run("prompt=consent always asks", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...).with("prompt", "consent")
		p := consentPage(t, f, initial)
		if q := e.in(t).callback(f, b.in(t).consent(p, "allow")); q.Get("code") == "" {
			t.Errorf("no code: %v", q)
		}
	})
	t.Run("prompt=consent for a first-party app", func(t *testing.T) {
		f := e.flow("contacts-web", "openid").with("prompt", "consent")
		p := b.in(t).get(f.authURL())
		if p.kind() != "consent" || p.text("client-name") != "Contacts Web" {
			t.Fatalf("%s page for %q, want the consent page for Contacts Web", p.kind(), p.text("client-name"))
		}
		if q := e.in(t).callback(f, b.in(t).consent(p, "allow")); q.Get("code") == "" {
			t.Errorf("no code: %v", q)
		}
	})
	t.Run("another user is asked", func(t *testing.T) {
		f := e.flow("acme-cms", scopes...)
		other := e.loggedIn("mary").in(t)
		p := other.get(f.authURL())
		if p.kind() != "consent" || p.text("user-email") != e.user("mary").Email {
			t.Errorf("%s page for %q: paul's consent must not count for mary", p.kind(), p.text("user-email"))
		}
	})
}

// withForm returns the page's hidden form with kv set ("" values delete).
func withForm(p *page, kv ...string) url.Values {
	v := p.form()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// flipFirst changes the first character of a non-empty token.
func flipFirst(s string) string {
	if s == "" {
		return "x"
	}
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// loginToken fetches the login page of the consent page's request in the same browser: a valid CSRF
// token, but for the login form.
func loginToken(b *browser, consent *page) string {
	b.t.Helper()
	u := *consent.URL
	u.Path = strings.Replace(u.Path, oauth.PathConsent, oauth.PathLogin, 1)
	p := b.get(u.String())
	tok := p.form().Get("csrf_token")
	if p.kind() != "login" || tok == "" || tok == consent.form().Get("csrf_token") {
		b.t.Fatalf("login page of the consent request: %s, token %q", p.kind(), tok)
	}
	return tok
}

// TestCodeAfterConsentRevoked: a code issued before the user withdrew consent must not yield tokens
// afterwards (store.RevokeConsent "revokes the grants it allowed").
func TestCodeAfterConsentRevoked(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.loggedIn("paul")
	f := e.flow("acme-cms", "openid", "offline_access", "read:contacts")
	code := e.code(b, f, "")
	e.srv.Store.RevokeConsent("user-paul", "acme-cms")
	tok, err := e.exchange(f, code)
	if err == nil {
		t.Errorf("the code issued before the consent was revoked still yields tokens (refresh token %v); "+
			"want invalid_grant (oauth/grant_authorization_code.go does not re-check consent as the refresh grant does)",
			tok.RefreshToken != "")
		return
	}
	retrieveError(t, err, "invalid_grant")
}

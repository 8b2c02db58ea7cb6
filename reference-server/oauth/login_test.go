package oauth_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
)

// TestLoginFailuresDoNotEnumerateUsers: a wrong password and an unknown email look the same.
func TestLoginFailuresDoNotEnumerateUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	f := e.flow("contacts-web", "openid")
	p := b.get(f.authURL())
	if name := p.text("client-name"); name != "Contacts Web" {
		t.Errorf("login page names the client %q, want Contacts Web", name)
	}

	type outcome struct {
		status  int
		kind    string
		message string
	}
	attempts := map[string][2]string{
		"wrong password":          {e.user("paul").Email, "not-the-password"},
		"unknown email":           {"nobody@globex.example", "not-the-password"},
		"another user's password": {e.user("paul").Email, e.user("mary").Password},
	}
	var first *outcome
	for name, cred := range attempts {
		r := b.loginAs(p, cred[0], cred[1])
		got := outcome{r.Status, r.kind(), r.text("login-error")}
		if got.kind != "login" || got.message == "" || got.status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s page with error %q, want the login page again with a 401 and a message", name, got.status, got.kind, got.message)
		}
		if first == nil {
			first = &got
		} else if got != *first {
			t.Errorf("%s answers %+v, another failure %+v: the difference tells whether the email exists", name, got, *first)
		}
		if c := b.setCookie("oh_session"); c != nil {
			t.Errorf("%s set a session cookie", name)
		}
		if r.form().Get("req") != p.form().Get("req") {
			t.Errorf("%s: the login page after a failure lost the request", name)
		}
	}
	if first != nil && first.message != "Wrong email or password." {
		t.Errorf("login error %q, want the generic \"Wrong email or password.\"", first.message)
	}
	// The interaction survives the failures.
	e.callback(f, b.login(p, "paul"))
}

// TestLoginCSRF: the login form only answers with the token of the browser that loaded it.
func TestLoginCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	victim, attacker := e.browser(), e.browser()
	f := e.flow("contacts-web", "openid")
	p := victim.get(f.authURL())
	if p.kind() != "login" {
		t.Fatalf("%s page, want login", p.kind())
	}
	paul := e.user("paul")
	loginForm := func(csrf string, omit bool) url.Values {
		v := url.Values{"req": {p.form().Get("req")}, "username": {paul.Email}, "password": {paul.Password}}
		if !omit {
			v.Set("csrf_token", csrf)
		}
		return v
	}
	// The attacker loads the login page of the same request: it gets a token for its own browser.
	attackerPage := attacker.get(e.url(oauth.PathLogin) + "?req=" + url.QueryEscape(p.form().Get("req")))
	attackerToken := attackerPage.form().Get("csrf_token")
	if attackerToken == "" || attackerToken == p.form().Get("csrf_token") {
		t.Fatalf("the other browser's token %q should exist and differ from the victim's", attackerToken)
	}
	cases := []struct {
		name string
		b    *browser
		form url.Values
	}{
		{"missing csrf_token", victim, loginForm("", true)},
		{"empty csrf_token", victim, loginForm("", false)},
		{"wrong csrf_token", victim, loginForm("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)},
		{"another browser's csrf_token", victim, loginForm(attackerToken, false)},
		{"the victim's token from another browser", attacker, loginForm(p.form().Get("csrf_token"), false)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.b.in(t).post(e.url(oauth.PathLogin), c.form)
			if r.Status != http.StatusForbidden || r.kind() != "error" {
				t.Errorf("%d %s page, want 403 and the error page", r.Status, r.kind())
			}
			if r.Header.Get("Location") != "" {
				t.Errorf("redirects to %q", r.Header.Get("Location"))
			}
			if c.b.setCookie("oh_session") != nil {
				t.Error("a session cookie was set")
			}
		})
	}
	// The untouched request still completes with the right token.
	e.callback(f, victim.login(p, "paul"))
}

// TestSessionCookie: the session cookie is HttpOnly and SameSite=Lax, and a new login gets a new
// session id (no session fixation).
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	f := e.flow("contacts-web", "openid")
	e.callback(f, b.login(b.get(f.authURL()), "paul"))
	for _, name := range []string{"oh_session", "oh_browser"} {
		c := b.setCookie(name)
		if c == nil {
			t.Errorf("no %s cookie was set", name)
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Value == "" {
			t.Errorf("%s: HttpOnly %v, SameSite %v, Path %q; want HttpOnly, Lax, /", name, c.HttpOnly, c.SameSite, c.Path)
		}
	}
	firstID := b.setCookie("oh_session").Value

	f = e.flow("contacts-web", "openid").with("prompt", "login")
	e.callback(f, b.login(b.get(f.authURL()), "paul"))
	if b.setCookie("oh_session").Value == firstID {
		t.Error("logging in again kept the old session id")
	}
}

// TestLoginUnknownRequest: the login page needs a live authorization request.
func TestLoginUnknownRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	b := e.browser()
	for _, p := range []*page{
		b.get(e.url(oauth.PathLogin) + "?req=nope"),
		b.get(e.url(oauth.PathLogin)),
		b.post(e.url(oauth.PathLogin), url.Values{"req": {"nope"}, "username": {"paul@globex.example"}}),
		b.get(e.url(oauth.PathConsent) + "?req=nope"),
	} {
		if p.Status != http.StatusBadRequest || p.kind() != "error" {
			t.Errorf("%s: %d %s page, want 400 and the error page", p.URL, p.Status, p.kind())
		}
		checkPageHeaders(t, p)
	}
}

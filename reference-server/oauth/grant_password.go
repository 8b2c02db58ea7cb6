package oauth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"golang.org/x/crypto/bcrypt"
)

// grantPassword is the resource owner password credentials grant (RFC 6749 §4.3), kept for trusted
// first-party applications only: the application sees the user's password, which RFC 9700 §2.4 says
// must not happen with any other. Failures say the same thing whether or not the user exists, and are
// throttled like the login page (throttle.go), with whom they share the per-account lock.
func (p *Provider) grantPassword(r *http.Request, app *tenant.Application, form url.Values) (*TokenResponse, *Error) {
	if !app.FirstParty {
		return nil, unauthorizedClient("the password grant is only for trusted first-party applications")
	}
	username, password := form.Get("username"), form.Get("password")
	if username == "" || password == "" {
		return nil, invalidRequest("username and password are required")
	}
	api, e := p.resolveAudience(form.Get("audience"), form.Get("resource"))
	if e != nil {
		return nil, e
	}
	scopes, e := grantableScopes(app, api, strings.Fields(form.Get("scope")))
	if e != nil {
		return nil, e
	}
	keys := throttleKeys(r, username)
	if p.throttle.locked(keys, p.now()) {
		return nil, invalidGrant("too many failed attempts; wait a minute and try again")
	}
	user := p.Tenant.UserByEmail(username)
	hash := dummyPasswordHash()
	if user != nil {
		hash = []byte(user.PasswordHash)
	}
	var mismatch error
	if err := p.throttle.withSlot(r.Context(), func() {
		mismatch = bcrypt.CompareHashAndPassword(hash, []byte(password))
	}); err != nil {
		return nil, serverError("the request was cancelled")
	}
	if mismatch != nil || user == nil {
		p.throttle.fail(keys, p.now())
		p.log.Info("password grant failed", "client_id", app.ClientID)
		return nil, invalidGrant("wrong username or password")
	}
	p.throttle.succeed(keys[0])
	now := p.now()
	fam := p.Store.NewFamily(&store.Family{ClientID: app.ClientID, UserID: user.ID, Audience: api.Identifier,
		Scopes: scopes, AuthTime: now})
	return p.issue(issuance{
		app: app, api: api, user: user, scopes: scopes, authTime: now,
		familyID: fam.ID, refresh: grantsRefresh(app, api, scopes),
	})
}

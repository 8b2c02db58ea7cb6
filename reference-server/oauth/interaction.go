package oauth

import (
	"net/http"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Form purposes, bound into the CSRF tokens.
const (
	purposeLogin   = "login"
	purposeConsent = "consent"
)

// genericLoginError never says whether the email exists (no user enumeration).
const genericLoginError = "Wrong email or password."

// dummyPasswordHash is checked when the email is unknown, so both failures cost one bcrypt.
// It is made on first use: programs that never serve a login page should not pay for it.
var dummyPasswordHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})

type loginPage struct {
	Title, AppName, Action, ReqID, CSRF, Email, Error string
}

type consentScope struct{ Value, Description string }

type consentPage struct {
	Title, AppName, Email, Action, ReqID, CSRF string
	Scopes                                     []consentScope
}

// pendingFor returns the interaction named by the req parameter, or shows an error page.
func (p *Provider) pendingFor(w http.ResponseWriter, r *http.Request) *authRequest {
	id := r.FormValue("req")
	ar := p.pending.get(id, p.now())
	if ar == nil {
		p.errorPage(w, http.StatusBadRequest, "invalid_request",
			"This login request is unknown or has expired. Go back to the application and start again.")
	}
	return ar
}

func (p *Provider) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	ar := p.pendingFor(w, r)
	if ar == nil {
		return
	}
	p.showLogin(w, r, ar, http.StatusOK, "", "")
}

func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request, ar *authRequest, status int, email, msg string) {
	p.render(w, status, "login.html", loginPage{
		Title: "Log in", AppName: ar.App.Name, Action: p.issuerPath + PathLogin, ReqID: ar.ID,
		CSRF: p.csrfToken(p.browserID(w, r), ar.ID, purposeLogin), Email: email, Error: msg,
	})
}

// handleLogin checks the credentials, starts a session, and moves the interaction on.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ar := p.pendingFor(w, r)
	if ar == nil {
		return
	}
	if !p.checkCSRF(r, ar.ID, purposeLogin) {
		p.errorPage(w, http.StatusForbidden, "invalid_request", "The form has expired or was not sent by this browser. Start again.")
		return
	}
	email := r.PostFormValue("username")
	user := p.Tenant.UserByEmail(email)
	hash := dummyPasswordHash()
	if user != nil {
		hash = []byte(user.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(r.PostFormValue("password"))) != nil || user == nil {
		p.log.Info("login failed", "client_id", ar.App.ClientID)
		p.showLogin(w, r, ar, http.StatusUnauthorized, email, genericLoginError)
		return
	}
	sess := p.startSession(w, r, user.ID)
	ar.UserID, ar.AuthTime = user.ID, sess.AuthTime
	p.pending.update(ar.ID, func(x *authRequest) { x.UserID, x.AuthTime = user.ID, sess.AuthTime })
	p.proceed(w, r, ar)
}

func (p *Provider) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	ar := p.pendingFor(w, r)
	if ar == nil {
		return
	}
	user := p.Tenant.User(ar.UserID)
	if user == nil || !p.sameUser(r, ar) {
		p.redirectTo(w, r, PathLogin, ar)
		return
	}
	page := consentPage{Title: "Authorize " + ar.App.Name, AppName: ar.App.Name, Email: user.Email,
		Action: p.issuerPath + PathConsent, ReqID: ar.ID, CSRF: p.csrfToken(p.browserID(w, r), ar.ID, purposeConsent)}
	for _, s := range ar.Scopes {
		desc := oidcScopeText[s]
		if desc == "" {
			desc = ar.API.ScopeDescription(s)
		}
		page.Scopes = append(page.Scopes, consentScope{Value: s, Description: desc})
	}
	p.render(w, http.StatusOK, "consent.html", page)
}

// handleConsent records Allow (and remembers it) or answers Deny with access_denied.
func (p *Provider) handleConsent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ar := p.pendingFor(w, r)
	if ar == nil {
		return
	}
	if !p.checkCSRF(r, ar.ID, purposeConsent) || !p.sameUser(r, ar) {
		p.errorPage(w, http.StatusForbidden, "invalid_request", "The form has expired or was not sent by this browser. Start again.")
		return
	}
	switch r.PostFormValue("decision") {
	case "allow":
		p.Store.GrantConsent(ar.UserID, ar.App.ClientID, ar.API.Identifier, ar.Scopes)
		ar.Consented = true
		p.issueCode(w, r, ar)
	case "deny":
		p.redirectError(w, r, ar, oerr(0, "access_denied", "the user denied the request"))
	default:
		p.errorPage(w, http.StatusBadRequest, "invalid_request", "Choose Allow or Deny.")
	}
}

// sameUser checks that the browser's session belongs to the user this interaction logged in.
func (p *Provider) sameUser(r *http.Request, ar *authRequest) bool {
	sess := p.session(r)
	return sess != nil && ar.UserID != "" && sess.UserID == ar.UserID
}

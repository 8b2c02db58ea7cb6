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

// Messages on the login page. Neither says whether the email exists (no user enumeration).
const (
	genericLoginError = "Wrong email or password."
	lockedLoginError  = "Too many failed attempts. Wait a minute and try again."
)

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

// interaction opens the sealed request named by the req parameter, or shows an error page.
func (p *Provider) interaction(w http.ResponseWriter, r *http.Request) (*authRequest, string) {
	req := r.FormValue("req")
	ar, err := p.unseal(req)
	if err != nil {
		p.errorPage(w, r, http.StatusBadRequest, "invalid_request",
			"This login request is unknown or has expired. Go back to the application and start again.")
		return nil, ""
	}
	return ar, req
}

func (p *Provider) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	if ar, req := p.interaction(w, r); ar != nil {
		p.showLogin(w, r, req, ar, http.StatusOK, "", "")
	}
}

func (p *Provider) showLogin(w http.ResponseWriter, r *http.Request, req string, ar *authRequest, status int, email, msg string) {
	p.render(w, status, "login.html", loginPage{
		Title: "Log in", AppName: ar.App.Name, Action: p.issuerPath + PathLogin, ReqID: req,
		CSRF: p.csrfToken(p.browserID(w, r), req, purposeLogin), Email: email, Error: msg,
	})
}

// handleLogin checks the credentials, starts a session, and moves the interaction on.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ar, req := p.interaction(w, r)
	if ar == nil {
		return
	}
	if !p.checkCSRF(r, req, purposeLogin) {
		p.errorPage(w, r, http.StatusForbidden, "invalid_request", "The form has expired or was not sent by this browser. Start again.")
		return
	}
	email := r.PostFormValue("username")
	keys := throttleKeys(r, email)
	if p.throttle.locked(keys, p.now()) {
		p.showLogin(w, r, req, ar, http.StatusTooManyRequests, email, lockedLoginError)
		return
	}
	user := p.Tenant.UserByEmail(email)
	hash := dummyPasswordHash()
	if user != nil {
		hash = []byte(user.PasswordHash)
	}
	var mismatch error
	if err := p.throttle.withSlot(r.Context(), func() {
		mismatch = bcrypt.CompareHashAndPassword(hash, []byte(r.PostFormValue("password")))
	}); err != nil {
		return // the client went away
	}
	if mismatch != nil || user == nil {
		p.throttle.fail(keys, p.now())
		p.log.Info("login failed", "client_id", ar.App.ClientID)
		p.showLogin(w, r, req, ar, http.StatusUnauthorized, email, genericLoginError)
		return
	}
	p.throttle.succeed(keys[0])
	sess := p.startSession(w, r, user.ID)
	ar.UserID, ar.AuthTime = user.ID, sess.AuthTime
	p.proceed(w, r, ar, true)
}

func (p *Provider) serveConsentPage(w http.ResponseWriter, r *http.Request) {
	ar, _ := p.interaction(w, r)
	if ar == nil {
		return
	}
	user := p.Tenant.User(ar.UserID)
	if user == nil || !p.sameUser(r, ar) {
		ar.UserID = ""
		p.redirectTo(w, r, PathLogin, ar)
		return
	}
	// The form carries the same sealed request; the CSRF token binds it to this browser.
	req := r.FormValue("req")
	page := consentPage{Title: "Authorize " + ar.App.Name, AppName: ar.App.Name, Email: user.Email,
		Action: p.issuerPath + PathConsent, ReqID: req, CSRF: p.csrfToken(p.browserID(w, r), req, purposeConsent)}
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
	ar, req := p.interaction(w, r)
	if ar == nil {
		return
	}
	if !p.checkCSRF(r, req, purposeConsent) || !p.sameUser(r, ar) {
		p.errorPage(w, r, http.StatusForbidden, "invalid_request", "The form has expired or was not sent by this browser. Start again.")
		return
	}
	switch r.PostFormValue("decision") {
	case "allow":
		p.Store.GrantConsent(ar.UserID, ar.App.ClientID, ar.API.Identifier, ar.Scopes)
		p.respond(w, r, ar)
	case "deny":
		p.redirectError(w, r, ar, oerr(0, "access_denied", "the user denied the request"))
	default:
		p.errorPage(w, r, http.StatusBadRequest, "invalid_request", "Choose Allow or Deny.")
	}
}

// sameUser checks that the browser's session belongs to the user this interaction logged in.
func (p *Provider) sameUser(r *http.Request, ar *authRequest) bool {
	sess := p.session(r)
	return sess != nil && ar.UserID != "" && sess.UserID == ar.UserID
}

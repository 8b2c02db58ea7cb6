package oauth

import (
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// pendingLifetime bounds how long a user may take on the login and consent pages.
const pendingLifetime = 10 * time.Minute

// Limits on what a client may make the server carry through the interaction.
const (
	maxStateLen  = 2048
	maxNonceLen  = 512
	maxMaxAge    = 10 * 365 * 24 * 3600 // larger max_age values mean "no limit" (and would overflow)
	maxAuthParam = 4096                 // any other parameter
)

// authRequest is a validated authorization request waiting for the user to log in or consent. It is
// carried sealed in the req parameter of the login and consent pages (see sealed.go).
type authRequest struct {
	App          *tenant.Application
	API          *tenant.API
	ResponseType string // responseCode or responseIDTokenToken
	Fragment     bool   // answer in the fragment of the redirect URI, not its query
	RedirectURI  string
	State        string
	Nonce        string
	Scopes       []string // granted if the user agrees: requested scopes, offline_access dropped where not allowed
	Challenge    string
	// ChallengeMethod is S256; plain only with the as-accepts-plain-pkce defect.
	ChallengeMethod string
	Prompt          []string
	MaxAge          int // -1 when absent
	Expires         time.Time

	// Filled in once the user has logged in during this request.
	UserID   string
	AuthTime time.Time
}

func (a *authRequest) prompts(v string) bool { return slices.Contains(a.Prompt, v) }

// authorizeParams reads the request's parameters: the query for GET, the form body for POST (OIDC
// Core §3.1.2.1 requires both).
func authorizeParams(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method != http.MethodPost {
		return r.URL.Query(), true
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	return r.PostForm, true
}

// serveAuthorize validates an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) and starts
// the interaction. Until client_id and redirect_uri are known good, errors are shown on a page and
// never redirected (RFC 6749 §4.1.2.1), so the endpoint cannot be used as an open redirector.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q, ok := authorizeParams(w, r)
	if !ok {
		p.errorPage(w, r, http.StatusBadRequest, "invalid_request", "The request body cannot be parsed.")
		return
	}
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			p.errorPage(w, r, http.StatusBadRequest, "invalid_request", "Parameter "+k+" is repeated.")
			return
		}
	}
	noteClient(r, q.Get("client_id"), "")
	notePKCE(r, q.Get("code_challenge") != "")
	noteScope(r, q.Get("scope"))
	noteAuthorization(r, q.Get("response_type"), q.Get("redirect_uri"), q.Get("state"))
	app := p.Tenant.Application(q.Get("client_id"))
	if app == nil {
		p.errorPage(w, r, http.StatusBadRequest, "invalid_client", "Unknown client_id.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !p.redirectAllowed(app, redirectURI) {
		p.errorPage(w, r, http.StatusBadRequest, "invalid_request", "The redirect_uri is not registered for "+app.Name+".")
		return
	}
	// From here errors go back to the client, in the fragment when the response would carry tokens.
	// The state is echoed even when too long to keep.
	ar := &authRequest{App: app, RedirectURI: redirectURI, State: q.Get("state"), Nonce: q.Get("nonce"),
		MaxAge: -1, Expires: p.now().Add(pendingLifetime),
		Fragment: carriesTokens(q.Get("response_type")) || q.Get("response_mode") == "fragment"}
	e := p.validateAuthorize(ar, q)
	switch ar.ResponseType {
	case responseCode:
		noteGrant(r, tenant.GrantAuthorizationCode)
	case responseIDTokenToken:
		noteGrant(r, tenant.GrantImplicit)
	}
	if e != nil {
		p.redirectError(w, r, ar, e)
		return
	}
	p.proceed(w, r, ar, false)
}

func (p *Provider) validateAuthorize(ar *authRequest, q url.Values) *Error {
	for k, v := range q {
		switch {
		case len(v) > 1 && k == "resource":
			return invalidTarget("one resource per request: tokens here have a single audience")
		case len(v) > 1:
			return invalidRequest("parameter %s is repeated", k)
		case k == "state" && len(v[0]) > maxStateLen:
			return invalidRequest("state is longer than %d characters", maxStateLen)
		case k == "nonce" && len(v[0]) > maxNonceLen:
			return invalidRequest("nonce is longer than %d characters", maxNonceLen)
		case k != "state" && len(v[0]) > maxAuthParam:
			return invalidRequest("parameter %s is longer than %d characters", k, maxAuthParam)
		}
	}
	if e := ar.setResponseType(q.Get("response_type"), q.Get("response_mode")); e != nil {
		return e
	}
	switch {
	case q.Has("request"):
		return oerr(0, "request_not_supported", "request objects are not supported")
	case q.Has("request_uri"):
		return oerr(0, "request_uri_not_supported", "request_uri is not supported")
	}
	if ar.implicit() {
		return p.validateImplicit(ar, q)
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return invalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && ar.App.Public():
		return invalidRequest("public clients must use PKCE (code_challenge with S256)")
	case challenge != "" && method == "plain" && p.defect(defects.ASAcceptsPlainPKCE):
	case challenge != "" && method != "S256":
		return invalidRequest("code_challenge_method must be S256; plain is not accepted")
	case challenge != "" && !validVerifier(challenge):
		return invalidRequest("code_challenge must be 43 to 128 unreserved characters")
	}
	ar.Challenge, ar.ChallengeMethod = challenge, method
	return p.validateCommon(ar, q)
}

// validateCommon checks what the code and implicit flows share: prompt, max_age, audience and scope.
func (p *Provider) validateCommon(ar *authRequest, q url.Values) *Error {
	if pr := q.Get("prompt"); pr != "" {
		ar.Prompt = strings.Fields(pr)
		for _, v := range ar.Prompt {
			if v != "none" && v != "login" && v != "consent" {
				return invalidRequest("prompt value %q is not supported", v)
			}
		}
		if ar.prompts("none") && len(ar.Prompt) > 1 {
			return invalidRequest("prompt=none cannot be combined with other values")
		}
	}
	if ma := q.Get("max_age"); ma != "" {
		n, err := strconv.Atoi(ma)
		if err != nil || n < 0 {
			return invalidRequest("max_age must be a non-negative integer")
		}
		ar.MaxAge = min(n, maxMaxAge)
	}
	api, e := p.resolveAudience(q.Get("audience"), q.Get("resource"))
	if e != nil {
		return e
	}
	ar.API = api
	scopes, e := grantableScopes(ar.App, api, strings.Fields(q.Get("scope")))
	if e != nil {
		return e
	}
	ar.Scopes = scopes
	return nil
}

// grantableScopes checks the requested scopes against the API and drops offline_access where the
// API or the client does not allow refresh tokens (the grant then simply comes without one).
func grantableScopes(app *tenant.Application, api *tenant.API, requested []string) ([]string, *Error) {
	var out []string
	for _, s := range requested {
		switch {
		case s == "offline_access" && !(api.AllowOfflineAccess && app.AllowsGrant(tenant.GrantRefreshToken)):
			continue
		case !tenant.IsOIDCScope(s) && !api.HasScope(s):
			return nil, invalidScope("the API %q defines no scope %q", api.Identifier, s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// proceed moves an interaction on: to the login page, to the consent page, or back to the client.
// justLoggedIn is true only right after this request's login form was accepted.
func (p *Provider) proceed(w http.ResponseWriter, r *http.Request, ar *authRequest, justLoggedIn bool) {
	if !justLoggedIn {
		sess := p.session(r)
		switch {
		case sess == nil:
			p.needLogin(w, r, ar, "the user is not logged in")
			return
		case ar.prompts("login") || ar.MaxAge == 0:
			// max_age=0 is prompt=login (OIDC Core §3.1.2.1).
			p.needLogin(w, r, ar, "the request asks for a fresh login")
			return
		case ar.MaxAge > 0 && p.now().Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second:
			p.needLogin(w, r, ar, "the session is older than max_age")
			return
		}
		ar.UserID, ar.AuthTime = sess.UserID, sess.AuthTime
	}
	if p.needsConsent(ar) {
		if ar.prompts("none") {
			p.redirectError(w, r, ar, oerr(0, "consent_required", "the user has not consented to %s", ar.App.Name))
			return
		}
		p.redirectTo(w, r, PathConsent, ar)
		return
	}
	p.respond(w, r, ar)
}

// respond answers an authorization the user has given: a code, or the implicit flow's tokens.
func (p *Provider) respond(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	if ar.implicit() {
		p.issueImplicit(w, r, ar)
		return
	}
	p.issueCode(w, r, ar)
}

// needLogin sends the browser to the login page, or answers login_required for prompt=none.
func (p *Provider) needLogin(w http.ResponseWriter, r *http.Request, ar *authRequest, why string) {
	if ar.prompts("none") {
		p.redirectError(w, r, ar, oerr(0, "login_required", "%s", why))
		return
	}
	p.redirectTo(w, r, PathLogin, ar)
}

// needsConsent: third-party apps need the user's consent to every requested scope; a remembered
// consent covers it unless new scopes are asked; prompt=consent always asks.
func (p *Provider) needsConsent(ar *authRequest) bool {
	if ar.prompts("consent") {
		return true
	}
	if p.defect(defects.ASSkipsConsent) {
		return false
	}
	return !ar.App.FirstParty && !p.consented(ar.UserID, ar.App, ar.API, ar.Scopes)
}

// consented reports whether the user's remembered consent to app covers scopes of api. A consent must
// exist even when no scope is asked: a third-party app learns who the user is from any token.
func (p *Provider) consented(userID string, app *tenant.Application, api *tenant.API, scopes []string) bool {
	return p.Store.Consented(userID, app.ClientID, api.Identifier, scopes)
}

func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	code := tokens.Random(32)
	p.Store.PutCode(code, &store.AuthCode{
		ClientID: ar.App.ClientID, RedirectURI: ar.RedirectURI, UserID: ar.UserID, Audience: ar.API.Identifier,
		Scopes: ar.Scopes, Nonce: ar.Nonce, CodeChallenge: ar.Challenge, CodeChallengeMethod: ar.ChallengeMethod,
		AuthTime: ar.AuthTime, Expires: p.now().Add(CodeLifetime),
	})
	p.redirectClient(w, r, ar, url.Values{"code": {code}})
}

// redirectError sends an error back to the client's redirect URI, with state and iss.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, e *Error) {
	noteError(r, e.Code)
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	p.redirectClient(w, r, ar, v)
}

// redirectClient answers the client with params, state and the RFC 9207 iss parameter.
func (p *Provider) redirectClient(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	if ar.State != "" && !p.defect(defects.ASDropsState) {
		params.Set("state", ar.State)
	}
	if !p.defect(defects.ASOmitsIssParameter) {
		params.Set("iss", p.Issuer)
	}
	sep := "?"
	switch {
	case ar.Fragment: // registered redirect URIs have no fragment (tenant validation)
		sep = "#"
	case strings.Contains(ar.RedirectURI, "?"):
		sep = "&"
	}
	noStore(w)
	http.Redirect(w, r, ar.RedirectURI+sep+params.Encode(), http.StatusSeeOther)
}

// redirectTo sends the browser to one of our own interaction pages.
func (p *Provider) redirectTo(w http.ResponseWriter, r *http.Request, path string, ar *authRequest) {
	noStore(w)
	http.Redirect(w, r, p.issuerPath+path+"?req="+p.seal(ar), http.StatusSeeOther)
}

package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// pendingLifetime bounds how long a user may take on the login and consent pages.
const pendingLifetime = 10 * time.Minute

// authRequest is a validated authorization request waiting for the user to log in or consent.
type authRequest struct {
	ID          string
	App         *tenant.Application
	API         *tenant.API
	RedirectURI string
	State       string
	Nonce       string
	Scopes      []string // granted if the user agrees: requested scopes, offline_access dropped where not allowed
	Challenge   string
	Prompt      []string
	MaxAge      int // -1 when absent
	Expires     time.Time

	// Filled in as the interaction proceeds.
	UserID    string    // who logged in during this request
	AuthTime  time.Time // when
	Consented bool      // the consent page was answered Allow during this request
}

func (a *authRequest) prompts(v string) bool { return slices.Contains(a.Prompt, v) }

// pendingRequests holds authorization requests between the redirects of one interaction.
type pendingRequests struct {
	mu    sync.Mutex
	reqs  map[string]*authRequest
	swept time.Time
}

func newPendingRequests() *pendingRequests { return &pendingRequests{reqs: map[string]*authRequest{}} }

// put stores a copy of r: handlers work on their own copies and change the stored one with update.
func (p *pendingRequests) put(r *authRequest, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.swept) > time.Minute {
		p.swept = now
		for k, v := range p.reqs {
			if now.After(v.Expires) {
				delete(p.reqs, k)
			}
		}
	}
	cp := *r
	p.reqs[r.ID] = &cp
}

// get returns a copy of the live request with this id, or nil.
func (p *pendingRequests) get(id string, now time.Time) *authRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.reqs[id]
	if r == nil || now.After(r.Expires) {
		return nil
	}
	cp := *r
	return &cp
}

func (p *pendingRequests) update(id string, f func(*authRequest)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r := p.reqs[id]; r != nil {
		f(r)
	}
}

func (p *pendingRequests) remove(id string) {
	p.mu.Lock()
	delete(p.reqs, id)
	p.mu.Unlock()
}

// serveAuthorize validates an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) and starts
// the interaction. Until client_id and redirect_uri are known good, errors are shown on a page and
// never redirected (RFC 6749 §4.1.2.1), so the endpoint cannot be used as an open redirector.
func (p *Provider) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "Parameter "+strconv.Quote(k)+" is repeated.")
			return
		}
	}
	app := p.Tenant.Application(q.Get("client_id"))
	if app == nil {
		p.errorPage(w, http.StatusBadRequest, "invalid_client", "Unknown client_id.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" || !app.HasRedirectURI(redirectURI) {
		p.errorPage(w, http.StatusBadRequest, "invalid_request", "The redirect_uri is not registered for "+app.Name+".")
		return
	}
	ar := &authRequest{ID: tokens.Random(24), App: app, RedirectURI: redirectURI, State: q.Get("state"),
		Nonce: q.Get("nonce"), MaxAge: -1, Expires: p.now().Add(pendingLifetime)}
	if e := p.validateAuthorize(ar, q); e != nil {
		p.redirectError(w, r, ar, e)
		return
	}
	p.pending.put(ar, p.now())
	p.proceed(w, r, ar)
}

func (p *Provider) validateAuthorize(ar *authRequest, q url.Values) *Error {
	if rt := q.Get("response_type"); rt != "code" {
		return oerr(0, "unsupported_response_type", "response_type %q is not supported; use code", rt)
	}
	switch {
	case q.Has("request"):
		return oerr(0, "request_not_supported", "request objects are not supported")
	case q.Has("request_uri"):
		return oerr(0, "request_uri_not_supported", "request_uri is not supported")
	case q.Get("response_mode") != "" && q.Get("response_mode") != "query":
		return invalidRequest("response_mode %q is not supported; use query", q.Get("response_mode"))
	}
	if !ar.App.AllowsGrant(tenant.GrantAuthorizationCode) {
		return unauthorizedClient("the client is not allowed the authorization_code grant")
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return invalidRequest("code_challenge_method without code_challenge")
	case challenge == "" && ar.App.Public():
		return invalidRequest("public clients must use PKCE (code_challenge with S256)")
	case challenge != "" && method != "S256":
		return invalidRequest("code_challenge_method must be S256; plain is not accepted")
	case challenge != "" && !validVerifier(challenge):
		return invalidRequest("code_challenge must be 43 to 128 unreserved characters")
	}
	ar.Challenge = challenge
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
		ar.MaxAge = n
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
func (p *Provider) proceed(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	now := p.now()
	sess := p.session(r)
	loggedInHere := ar.UserID != ""
	switch {
	case loggedInHere:
		// The user authenticated during this very request; prompt=login and max_age are satisfied.
	case sess == nil:
		if ar.prompts("none") {
			p.redirectError(w, r, ar, oerr(0, "login_required", "the user is not logged in"))
			return
		}
		p.redirectTo(w, r, PathLogin, ar)
		return
	case ar.prompts("login") || ar.MaxAge == 0 || (ar.MaxAge > 0 && now.Sub(sess.AuthTime) > time.Duration(ar.MaxAge)*time.Second):
		// max_age=0 is prompt=login (OIDC Core §3.1.2.1).
		if ar.prompts("none") {
			p.redirectError(w, r, ar, oerr(0, "login_required", "the session is older than max_age"))
			return
		}
		p.redirectTo(w, r, PathLogin, ar)
		return
	default:
		ar.UserID, ar.AuthTime = sess.UserID, sess.AuthTime
		p.pending.update(ar.ID, func(x *authRequest) { x.UserID, x.AuthTime = sess.UserID, sess.AuthTime })
	}
	if p.needsConsent(ar) {
		if ar.prompts("none") {
			p.redirectError(w, r, ar, oerr(0, "consent_required", "the user has not consented to %s", ar.App.Name))
			return
		}
		p.redirectTo(w, r, PathConsent, ar)
		return
	}
	p.issueCode(w, r, ar)
}

// needsConsent: third-party apps need the user's consent to every requested scope; a remembered
// consent covers it unless new scopes are asked; prompt=consent always asks.
func (p *Provider) needsConsent(ar *authRequest) bool {
	if ar.Consented {
		return false
	}
	if ar.prompts("consent") {
		return true
	}
	if ar.App.FirstParty {
		return false
	}
	return !store.Covers(p.Store.Consent(ar.UserID, ar.App.ClientID, ar.API.Identifier), ar.Scopes)
}

func (p *Provider) issueCode(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	code := tokens.Random(32)
	p.Store.PutCode(code, &store.AuthCode{
		ClientID: ar.App.ClientID, RedirectURI: ar.RedirectURI, UserID: ar.UserID, Audience: ar.API.Identifier,
		Scopes: ar.Scopes, Nonce: ar.Nonce, CodeChallenge: ar.Challenge, CodeChallengeMethod: "S256",
		AuthTime: ar.AuthTime, Expires: p.now().Add(CodeLifetime),
	})
	p.pending.remove(ar.ID)
	p.redirectClient(w, r, ar, url.Values{"code": {code}})
}

// redirectError sends an error back to the client's redirect URI, with state and iss.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, ar *authRequest, e *Error) {
	p.pending.remove(ar.ID)
	v := url.Values{"error": {e.Code}}
	if e.Description != "" {
		v.Set("error_description", e.Description)
	}
	p.redirectClient(w, r, ar, v)
}

// redirectClient answers the client with params, state and the RFC 9207 iss parameter.
func (p *Provider) redirectClient(w http.ResponseWriter, r *http.Request, ar *authRequest, params url.Values) {
	if ar.State != "" {
		params.Set("state", ar.State)
	}
	params.Set("iss", p.Issuer)
	sep := "?"
	if strings.Contains(ar.RedirectURI, "?") {
		sep = "&"
	}
	noStore(w)
	http.Redirect(w, r, ar.RedirectURI+sep+params.Encode(), http.StatusSeeOther)
}

// redirectTo sends the browser to one of our own interaction pages.
func (p *Provider) redirectTo(w http.ResponseWriter, r *http.Request, path string, ar *authRequest) {
	noStore(w)
	http.Redirect(w, r, p.issuerPath+path+"?req="+url.QueryEscape(ar.ID), http.StatusSeeOther)
}

package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// Response types of the authorization endpoint. The implicit flow is kept for legacy SPAs only in
// its OpenID Connect form, response_type=id_token token (OIDC Core §3.2): the ID token's nonce and
// at_hash let the client detect an access token injected into its callback. response_type=token
// alone (RFC 6749 §4.2) has no such check, and RFC 9700 §2.1.2 says not to issue access tokens in
// the authorization response unless injection is prevented, so it is refused.
const (
	responseCode         = "code"
	responseIDTokenToken = "id_token token"
)

// ResponseTypes lists the supported response types, for discovery.
func ResponseTypes() []string { return []string{responseCode, responseIDTokenToken} }

// carriesTokens reports whether a response type issues tokens from the authorization endpoint; its
// responses, errors included, then go in the fragment, which the browser does not send to the
// client's server (OAuth 2.0 Multiple Response Type Encoding Practices §2.1, §5).
func carriesTokens(responseType string) bool {
	for _, v := range strings.Fields(responseType) {
		if v == "token" || v == "id_token" {
			return true
		}
	}
	return false
}

func (a *authRequest) implicit() bool { return a.ResponseType == responseIDTokenToken }

// setResponseType checks response_type (its values in any order, RFC 6749 §3.1.1), response_mode,
// and that the client may use that flow.
func (a *authRequest) setResponseType(responseType, mode string) *Error {
	rt := strings.Join(slices.Sorted(slices.Values(strings.Fields(responseType))), " ")
	if rt != responseCode && rt != responseIDTokenToken {
		return oerr(0, "unsupported_response_type", "response_type %q is not supported; use code (or id_token token for legacy SPAs)", responseType)
	}
	a.ResponseType = rt
	switch {
	case mode == "query" && a.implicit():
		return invalidRequest("response_mode query cannot carry tokens; use fragment")
	case mode != "" && mode != "query" && mode != "fragment":
		return invalidRequest("response_mode %q is not supported; use query or fragment", mode)
	}
	if !allowsResponseType(a.App, rt) {
		if a.implicit() {
			return unauthorizedClient("the implicit flow is only for spa applications allowed the implicit grant")
		}
		return unauthorizedClient("the client is not allowed the authorization_code grant")
	}
	return nil
}

// allowsResponseType: the code flow needs the authorization_code grant, the implicit flow an spa
// application allowed the implicit grant.
func allowsResponseType(app *tenant.Application, responseType string) bool {
	switch responseType {
	case responseCode:
		return app.AllowsGrant(tenant.GrantAuthorizationCode)
	case responseIDTokenToken:
		return app.Type == tenant.SPA && app.AllowsGrant(tenant.GrantImplicit)
	}
	return false
}

// validateImplicit checks an implicit request: a nonce (OIDC Core §3.2.2.1 requires it, it is what
// binds the ID token to this request) and the openid scope; PKCE has no place in it.
func (p *Provider) validateImplicit(ar *authRequest, q url.Values) *Error {
	if ar.Nonce == "" {
		return invalidRequest("nonce is required with response_type id_token token")
	}
	if e := p.validateCommon(ar, q); e != nil {
		return e
	}
	if !slices.Contains(ar.Scopes, "openid") {
		return invalidScope("response_type id_token token needs the openid scope")
	}
	// No refresh token comes from the authorization endpoint (RFC 6749 §4.2.2).
	ar.Scopes = slices.DeleteFunc(ar.Scopes, func(s string) bool { return s == "offline_access" })
	return nil
}

// issueImplicit answers the implicit flow: an access token and an ID token with nonce and at_hash, in
// the fragment. The tokens belong to a grant family, so revoking the user's grant to the client
// (consent withdrawn) denies them as it does code-flow tokens.
func (p *Provider) issueImplicit(w http.ResponseWriter, r *http.Request, ar *authRequest) {
	user := p.Tenant.User(ar.UserID)
	if user == nil {
		p.redirectError(w, r, ar, oerr(0, "login_required", "the user no longer exists"))
		return
	}
	fam := p.Store.NewFamily(&store.Family{ClientID: ar.App.ClientID, UserID: user.ID, Audience: ar.API.Identifier,
		Scopes: ar.Scopes, AuthTime: ar.AuthTime})
	resp, e := p.issue(issuance{app: ar.App, api: ar.API, user: user, scopes: ar.Scopes, authTime: ar.AuthTime,
		nonce: ar.Nonce, familyID: fam.ID})
	if e != nil {
		e.Code = "server_error" // the token endpoint's invalid_grant has no meaning here
		p.redirectError(w, r, ar, e)
		return
	}
	params := url.Values{"access_token": {resp.AccessToken}, "token_type": {resp.TokenType},
		"expires_in": {strconv.FormatInt(resp.ExpiresIn, 10)}, "id_token": {resp.IDToken}}
	if resp.Scope != "" {
		params.Set("scope", resp.Scope)
	}
	p.redirectClient(w, r, ar, params)
}

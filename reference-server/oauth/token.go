package oauth

import (
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// maxTokenRequestBytes bounds a token request body.
const maxTokenRequestBytes = 64 << 10

// grantHandler handles one grant type once the client is authenticated: parse, validate, respond.
type grantHandler func(p *Provider, r *http.Request, app *tenant.Application, form url.Values) (*TokenResponse, *Error)

// grants dispatches on grant_type; method expressions keep the table checked by the compiler.
var grants = map[string]grantHandler{
	tenant.GrantAuthorizationCode: (*Provider).grantAuthorizationCode,
	tenant.GrantRefreshToken:      (*Provider).grantRefreshToken,
	tenant.GrantClientCredentials: (*Provider).grantClientCredentials,
	tenant.GrantPassword:          (*Provider).grantPassword,
}

// SupportedGrantTypes lists the grant types the token endpoint implements, for discovery.
func SupportedGrantTypes() []string {
	out := make([]string, 0, len(grants))
	for g := range grants {
		out = append(out, g)
	}
	slices.Sort(out)
	return out
}

// TokenResponse is a successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

func (p *Provider) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		replyError(w, r, oerr(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST"))
		return
	}
	form, e := ParseTokenRequest(w, r)
	if e != nil {
		replyError(w, r, e)
		return
	}
	gt := form.Get("grant_type")
	noteGrant(r, gt)
	noteScope(r, form.Get("scope"))
	if gt == tenant.GrantAuthorizationCode {
		notePKCE(r, form.Get("code_verifier") != "")
	}
	app, e := p.authenticate(r, form)
	if e != nil {
		replyError(w, r, e)
		return
	}
	handle, ok := grants[gt]
	if !ok {
		replyError(w, r, oerr(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported", gt))
		return
	}
	if !app.AllowsGrant(gt) {
		replyError(w, r, unauthorizedClient("the client is not allowed the %s grant", gt))
		return
	}
	resp, e := handle(p, r, app, form)
	if e != nil {
		replyError(w, r, e)
		return
	}
	noteScope(r, resp.Scope)
	noStore(w)
	writeJSON(w, http.StatusOK, resp)
}

// ParseTokenRequest reads a token request body (see parseForm) and requires grant_type.
func ParseTokenRequest(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	form, e := parseForm(w, r)
	if e != nil {
		return nil, e
	}
	if form.Get("grant_type") == "" {
		return nil, invalidRequest("grant_type is required")
	}
	return form, nil
}

// parseForm reads the body of a back-channel request: form-encoded, bounded, each parameter at most
// once (RFC 6749 §3.2).
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequestBytes)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("the body cannot be parsed: %v", err)
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return nil, invalidRequest("parameter %q is repeated", k)
		}
	}
	return form, nil
}

// issuance is what a grant decided to issue.
type issuance struct {
	app      *tenant.Application
	api      *tenant.API
	user     *tenant.User // nil when the client acts for itself
	scopes   []string
	authTime time.Time
	nonce    string
	familyID string // the grant family that tracks these tokens; empty for client credentials
	refresh  bool   // issue a (rotated) refresh token
}

// issue mints the access token and, as asked, the ID token and refresh token.
func (p *Provider) issue(is issuance) (*TokenResponse, *Error) {
	now := p.now()
	lifetime := time.Duration(is.api.TokenLifetime)
	if p.defect(defects.ASLongLivedAccessTokens) {
		lifetime *= 10
	}
	fault := p.Faults.ForClient(is.app.ClientID)
	if fault != nil {
		now = now.Add(time.Duration(fault.ClockSkew))
		if fault.AccessTokenLifetime != nil {
			lifetime = time.Duration(*fault.AccessTokenLifetime)
			if lifetime == 0 {
				// "Already expired": beyond any validator's leeway.
				lifetime = -2 * time.Minute
			}
		}
	}
	c := tokens.AccessClaims{
		Issuer:   p.Issuer,
		Audience: is.api.Identifier,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(lifetime).Unix(),
		JTI:      tokens.Random(16),
		ClientID: is.app.ClientID,
		AZP:      is.app.ClientID,
		Scope:    strings.Join(is.scopes, " "),
	}
	if fault != nil && fault.Issuer != "" {
		c.Issuer = fault.Issuer
	}
	var accounts []string
	if is.user != nil {
		c.Subject = is.user.ID
		c.AuthTime = is.authTime.Unix()
		accounts = is.user.Accounts
	} else {
		c.Subject = is.app.ClientID
		c.GrantType = tokens.GrantTypeClientCredentials
	}
	at, err := p.Minter.AccessToken(is.api, &c, accounts)
	if err != nil {
		return nil, serverError("cannot sign the access token")
	}
	if is.familyID != "" {
		if err := p.Store.RecordAccessToken(is.familyID, c.JTI, time.Unix(c.Expiry, 0)); err != nil {
			return nil, invalidGrant("the grant was revoked")
		}
	}
	resp := &TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: max(0, int64(lifetime/time.Second)), Scope: c.Scope}
	if is.refresh {
		rt := tokens.Random(32)
		if err := p.Store.SetRefreshToken(is.familyID, rt, p.Tenant.RefreshTokenLifetime()); err != nil {
			return nil, invalidGrant("the grant was revoked")
		}
		resp.RefreshToken = rt
	}
	if is.user != nil && slices.Contains(is.scopes, "openid") {
		idt, e := p.idToken(is, at, now, fault)
		if e != nil {
			return nil, e
		}
		resp.IDToken = idt
	}
	return resp, nil
}

func (p *Provider) idToken(is issuance, accessToken string, now time.Time, fault *faults.TokenFault) (string, *Error) {
	c := tokens.IDClaims{
		Issuer:   p.Issuer,
		Subject:  is.user.ID,
		Audience: is.app.ClientID,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(tokens.IDTokenLifetime).Unix(),
		AuthTime: is.authTime.Unix(),
		Nonce:    is.nonce,
		AZP:      is.app.ClientID,
		AtHash:   tokens.AtHash(accessToken),
	}
	addProfileClaims(&c, is.user, is.scopes)
	if fault != nil {
		tamperClaims(&c, fault.IDToken)
	}
	s, err := p.Minter.IDToken(&c)
	if err != nil {
		return "", serverError("cannot sign the ID token")
	}
	if fault != nil && fault.IDToken == faults.IDTokenBadSignature {
		s = tamperSignature(s)
	}
	return s, nil
}

// addProfileClaims adds the standard claims the profile and email scopes ask for.
func addProfileClaims(c *tokens.IDClaims, u *tenant.User, scopes []string) {
	if slices.Contains(scopes, "profile") {
		c.Name = u.Name
	}
	if slices.Contains(scopes, "email") {
		verified := true
		c.Email, c.EmailVerified = u.Email, &verified
	}
}

// grantsRefresh reports whether a grant of scopes to app for api comes with a refresh token.
func grantsRefresh(app *tenant.Application, api *tenant.API, scopes []string) bool {
	return slices.Contains(scopes, "offline_access") && api.AllowOfflineAccess && app.AllowsGrant(tenant.GrantRefreshToken)
}

// storeErr maps a store error on a single-use credential to invalid_grant.
func storeErr(err error, what string) *Error {
	switch err {
	case store.ErrReplayed:
		return invalidGrant("the %s was already used; the grant it came from is revoked", what)
	case store.ErrRevoked:
		return invalidGrant("the %s was revoked", what)
	default:
		return invalidGrant("the %s is invalid or expired", what)
	}
}

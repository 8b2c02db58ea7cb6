package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// grantAuthorizationCode redeems a code (RFC 6749 §4.1.3) once, for the client it was issued to,
// with the same redirect_uri and the PKCE verifier of its challenge (RFC 7636 §4.6).
func (p *Provider) grantAuthorizationCode(_ *http.Request, app *tenant.Application, form url.Values) (*TokenResponse, *Error) {
	code := form.Get("code")
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	ac, fam, err := p.Store.RedeemCode(code)
	if err != nil {
		return nil, storeErr(err, "authorization code")
	}
	if p.defect(defects.ASAllowsCodeReplay) {
		p.Store.PutCode(code, ac) // the defect: the code stays redeemable
	}
	// From here the code is spent: any failure also closes the family it opened.
	fail := func(e *Error) (*TokenResponse, *Error) {
		p.Store.RevokeFamily(fam.ID)
		return nil, e
	}
	if ac.ClientID != app.ClientID {
		if !p.defect(defects.ASCodeNotBoundToClient) {
			return fail(invalidGrant("the code was issued to another client"))
		}
		// The defect: whoever holds the code gets the tokens of the client it was issued to.
		if app = p.Tenant.Application(ac.ClientID); app == nil {
			return fail(invalidGrant("the code's client no longer exists"))
		}
	}
	if form.Get("redirect_uri") != ac.RedirectURI {
		return fail(invalidGrant("redirect_uri does not match the authorization request"))
	}
	verifier := form.Get("code_verifier")
	skipPKCE := p.defect(defects.ASSkipsPKCE)
	switch {
	case ac.CodeChallenge == "" && verifier != "" && p.defect(defects.ASAcceptsPKCEDowngrade):
	case ac.CodeChallenge == "" && verifier != "":
		// RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
		return fail(invalidGrant("code_verifier sent, but the authorization request had no code_challenge"))
	case ac.CodeChallenge != "" && skipPKCE:
	case ac.CodeChallengeMethod == "plain" && subtle.ConstantTimeCompare([]byte(verifier), []byte(ac.CodeChallenge)) != 1:
		return fail(invalidGrant("code_verifier does not match the code_challenge"))
	case ac.CodeChallengeMethod == "plain":
	case ac.CodeChallenge != "" && verifier == "":
		return fail(invalidGrant("code_verifier is required"))
	case ac.CodeChallenge != "" && !validVerifier(verifier):
		return fail(invalidGrant("code_verifier must be 43 to 128 unreserved characters"))
	case ac.CodeChallenge != "" && !s256Matches(verifier, ac.CodeChallenge):
		return fail(invalidGrant("code_verifier does not match the code_challenge"))
	}
	if e := sameTarget(form, ac.Audience); e != nil {
		return fail(e)
	}
	api, user := p.Tenant.API(ac.Audience), p.Tenant.User(ac.UserID)
	switch {
	case api == nil || user == nil:
		return fail(invalidGrant("the API or the user of this code no longer exists"))
	case !app.FirstParty && !p.consented(user.ID, app, api, ac.Scopes):
		return fail(invalidGrant("the user's consent to this client was revoked"))
	}
	return p.issue(issuance{
		app: app, api: api, user: user, scopes: ac.Scopes, authTime: ac.AuthTime, nonce: ac.Nonce,
		familyID: fam.ID, refresh: grantsRefresh(app, api, ac.Scopes),
	})
}

// s256Matches checks BASE64URL(SHA256(verifier)) == challenge in constant time.
func s256Matches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	want := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// validVerifier checks RFC 7636 §4.1: 43-128 characters of [A-Z] [a-z] [0-9] - . _ ~.
// A code_challenge has the same alphabet and length limits.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// sameTarget refuses a token request whose audience or resource names another API than the grant's
// (RFC 8707 §2.2: the resource of a code or refresh grant cannot be widened or changed).
func sameTarget(form url.Values, audience string) *Error {
	for _, k := range []string{"audience", "resource"} {
		if v := form.Get(k); v != "" && v != audience {
			return invalidTarget("the grant is for %q, not %q", audience, v)
		}
	}
	return nil
}

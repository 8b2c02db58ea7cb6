package oauth

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// KeyringSource lets a validator in this process read the provider's keys directly.
type KeyringSource struct{ Keys *keys.Keyring }

// Key implements bearer.KeySource.
func (s KeyringSource) Key(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	if k := s.Keys.PublicKey(kid); k != nil {
		return k, nil
	}
	return nil, errors.New("no key with kid " + kid)
}

// accessTokenValidators hold one validator per API: an access token of any API of this tenant is
// checked exactly as that API would check it.
type accessTokenValidators struct {
	p *Provider
	// hmac admits HS256 APIs, verified with their shared secret. Userinfo leaves it off: an HS256 secret
	// is shared with a resource server, which could otherwise mint tokens that userinfo trusts (RFC 8725
	// §3.5). Introspection turns it on: its caller is such a resource server, asking about a token.
	hmac bool
	algs []jose.SignatureAlgorithm
	mu   sync.Mutex
	v    map[string]*bearer.Validator // by API identifier + alg + secret
}

func newAccessTokenValidators(p *Provider, hmac bool) *accessTokenValidators {
	algs := []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}
	if hmac {
		algs = append(algs, jose.HS256)
	}
	return &accessTokenValidators{p: p, hmac: hmac, algs: algs, v: map[string]*bearer.Validator{}}
}

func (u *accessTokenValidators) forAPI(api *tenant.API) *bearer.Validator {
	key := api.Identifier + "\x00" + api.SigningAlg + "\x00" + api.SigningSecret
	u.mu.Lock()
	defer u.mu.Unlock()
	if v := u.v[key]; v != nil {
		return v
	}
	v := &bearer.Validator{Issuer: u.p.Issuer, Audience: api.Identifier,
		Algorithms: []jose.SignatureAlgorithm{jose.SignatureAlgorithm(api.SigningAlg)},
		Keys:       KeyringSource{u.p.Keys}, Denied: u.p.Store.Denied, Now: u.p.now}
	if api.SigningAlg == tenant.HS256 {
		v.HMACSecret = []byte(api.SigningSecret)
	}
	u.v[key] = v
	return v
}

// validate routes the token to its API's validator by its (not yet trusted) audience, then checks it fully.
func (u *accessTokenValidators) validate(ctx context.Context, raw string) (*bearer.Claims, *bearer.Error) {
	tok, err := jwt.ParseSigned(raw, u.algs)
	if err != nil {
		return nil, &bearer.Error{Code: "invalid_token", Description: "malformed token", Status: http.StatusUnauthorized}
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, &bearer.Error{Code: "invalid_token", Description: "malformed claims", Status: http.StatusUnauthorized}
	}
	for _, aud := range c.Audience {
		if api := u.p.Tenant.API(aud); api != nil && (u.hmac || api.SigningAlg != tenant.HS256) {
			claims, err := u.forAPI(api).Validate(ctx, raw)
			if err != nil {
				return nil, bearer.AsError(err)
			}
			return claims, nil
		}
	}
	return nil, &bearer.Error{Code: "invalid_token", Description: "the token is for no API of this issuer", Status: http.StatusUnauthorized}
}

// serveUserInfo answers the claims of the token's user (OIDC Core §5.3), within its scopes.
func (p *Provider) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	raw, e := bearer.ParseAuthorization(r)
	if e != nil {
		bearer.WriteError(w, p.Issuer, e, "")
		return
	}
	claims, e := p.userInfo.validate(r.Context(), raw)
	if e != nil {
		bearer.WriteError(w, p.Issuer, e, "")
		return
	}
	if !claims.HasScope("openid") || claims.GrantType == tokens.GrantTypeClientCredentials {
		bearer.WriteError(w, p.Issuer, &bearer.Error{Code: "insufficient_scope", Status: http.StatusForbidden,
			Description: "userinfo needs a user's token with the openid scope"}, "openid")
		return
	}
	user := p.Tenant.User(claims.Subject)
	if user == nil {
		bearer.WriteError(w, p.Issuer, &bearer.Error{Code: "invalid_token", Status: http.StatusUnauthorized,
			Description: "the token's user no longer exists"}, "")
		return
	}
	out := map[string]any{"sub": user.ID}
	if claims.HasScope("profile") {
		out["name"] = user.Name
	}
	if claims.HasScope("email") {
		out["email"], out["email_verified"] = user.Email, true
	}
	noStore(w)
	writeJSON(w, http.StatusOK, out)
}

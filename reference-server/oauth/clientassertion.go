package oauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// AssertionTypeJWTBearer is the client_assertion_type of private_key_jwt (RFC 7523 §2.2).
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Limits on client assertions.
const (
	// MaxAssertionLifetime: an assertion whose exp is further ahead is refused. It bounds how long a
	// stolen assertion is worth anything and how long its jti stays in the replay cache.
	MaxAssertionLifetime = 5 * time.Minute
	// assertionLeeway is the clock skew tolerated between the client and the server.
	assertionLeeway   = 30 * time.Second
	maxAssertionBytes = 8 << 10
	maxJTILen         = 256
)

// AssertionAlgs are the algorithms accepted on client assertions: asymmetric only (RFC 8725 §3.1).
var AssertionAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// parseAssertionCredentials reads private_key_jwt credentials (RFC 7521 §4.2): the assertion type and
// the assertion, and no other client authentication next to them.
func parseAssertionCredentials(r *http.Request, formID, formSecret, typ, assertion string) (clientCredentials, *Error) {
	switch {
	case r.Header.Get("Authorization") != "" || formSecret != "":
		return clientCredentials{}, invalidRequest("use one client authentication method, not a client assertion and a secret together")
	case typ == "" || assertion == "":
		return clientCredentials{}, invalidRequest("client_assertion and client_assertion_type go together")
	case typ != AssertionTypeJWTBearer:
		return clientCredentials{}, invalidClient("client_assertion_type must be %s", AssertionTypeJWTBearer)
	}
	return clientCredentials{id: formID, assertion: assertion, method: tenant.AuthPrivateKeyJWT}, nil
}

// verifyClientAssertion authenticates a private_key_jwt client (RFC 7523 §3, OIDC Core §9): a JWT
// signed by a key the application registered, with iss = sub = client_id, this server as audience,
// a short life, and a jti used once. It returns the application, and the client_id the assertion
// claimed (for the request log) even when it fails.
func (p *Provider) verifyClientAssertion(raw, formID string) (*tenant.Application, string, *Error) {
	fail := func(id, why string) (*tenant.Application, string, *Error) {
		return nil, id, invalidClient("client authentication failed: %s", why)
	}
	if len(raw) > maxAssertionBytes {
		return fail(formID, "the client assertion is too large")
	}
	tok, err := jwt.ParseSigned(raw, AssertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return fail(formID, "client_assertion must be a compact JWS signed with RS256, PS256, ES256 or EdDSA")
	}
	var c jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return fail(formID, "the assertion's claims are malformed")
	}
	switch {
	case c.Subject == "" || c.Issuer != c.Subject:
		return fail(formID, "iss and sub must both be the client_id")
	case formID != "" && formID != c.Subject:
		return fail(formID, "client_id differs from the assertion's sub")
	}
	// Only now, and only to find the key, is the unverified sub trusted.
	h := tok.Headers[0]
	app := p.Tenant.Application(c.Subject)
	var key *jose.JSONWebKey
	if app != nil && app.TokenEndpointAuthMethod == tenant.AuthPrivateKeyJWT {
		key = app.AssertionKey(h.KeyID)
	}
	if key == nil || (key.Algorithm != "" && key.Algorithm != h.Algorithm) {
		return fail(c.Subject, "no key registered for this client verifies the assertion (check kid and alg)")
	}
	c = jwt.Claims{}
	if err := tok.Claims(key.Key, &c); err != nil {
		return fail(app.ClientID, "the assertion's signature does not verify")
	}
	if why := p.checkAssertionClaims(&c, app.ClientID); why != "" {
		return fail(app.ClientID, why)
	}
	until := c.Expiry.Time().Add(assertionLeeway)
	switch err := p.Store.UseAssertion(app.ClientID, c.ID, until); {
	case errors.Is(err, store.ErrReplayed):
		return fail(app.ClientID, "the assertion was already used (its jti is single use)")
	case err != nil:
		return fail(app.ClientID, "too many assertions in flight; retry later")
	}
	return app, app.ClientID, nil
}

// checkAssertionClaims checks the verified claims; it returns why they are refused, or "".
func (p *Provider) checkAssertionClaims(c *jwt.Claims, clientID string) string {
	now := p.now()
	switch {
	case c.Issuer != clientID || c.Subject != clientID:
		return "iss and sub must both be the client_id"
	case !c.Audience.Contains(p.URL(PathToken)) && !c.Audience.Contains(p.Issuer):
		// RFC 7523 §3 item 3: the server must be the audience; OIDC Core §9 names the token endpoint.
		return "aud must contain the token endpoint URL or the issuer"
	case c.Expiry == nil:
		return "exp is required"
	case !now.Before(c.Expiry.Time().Add(assertionLeeway)):
		return "the assertion has expired"
	case c.Expiry.Time().After(now.Add(MaxAssertionLifetime + assertionLeeway)):
		return "exp is more than 5 minutes ahead: long-lived assertions are refused"
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(assertionLeeway)):
		return "the assertion is not valid yet (nbf)"
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(assertionLeeway)):
		return "the assertion was issued in the future (iat)"
	case c.IssuedAt != nil && c.IssuedAt.Time().After(c.Expiry.Time()):
		return "iat is after exp"
	case c.ID == "":
		return "jti is required: each assertion is single use"
	case len(c.ID) > maxJTILen:
		return "jti is too long"
	}
	return ""
}

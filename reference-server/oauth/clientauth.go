package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"net/http"
	"net/url"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// clientCredentials is what a request presented to authenticate its client (RFC 6749 §2.3).
type clientCredentials struct {
	id, secret string
	assertion  string // the client_assertion JWT of private_key_jwt
	method     string // tenant.AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT or AuthNone
}

// parseClientCredentials reads the client's credentials from the Authorization header or the body,
// refusing requests that use more than one method (RFC 6749 §2.3).
func parseClientCredentials(r *http.Request, form url.Values) (clientCredentials, *Error) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	assertionType, assertion := form.Get("client_assertion_type"), form.Get("client_assertion")
	if assertionType != "" || assertion != "" {
		return parseAssertionCredentials(r, formID, formSecret, assertionType, assertion)
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, _, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return clientCredentials{}, invalidRequest("the Authorization header of a token request must use Basic")
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			e := invalidClient("the Basic credentials are malformed")
			e.basic = true
			return clientCredentials{}, e
		}
		// RFC 6749 §2.3.1: both halves are form-urlencoded before being joined.
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			e := invalidClient("the Basic credentials are not form-urlencoded")
			e.basic = true
			return clientCredentials{}, e
		}
		if formSecret != "" {
			return clientCredentials{}, invalidRequest("use one client authentication method, not Basic and client_secret together")
		}
		if formID != "" && formID != uid {
			return clientCredentials{}, invalidRequest("client_id in the body differs from the Basic credentials")
		}
		return clientCredentials{id: uid, secret: usecret, method: tenant.AuthClientSecretBasic}, nil
	}
	switch {
	case formID == "":
		return clientCredentials{}, invalidClient("client authentication is required")
	case formSecret != "":
		return clientCredentials{id: formID, secret: formSecret, method: tenant.AuthClientSecretPost}, nil
	default:
		return clientCredentials{id: formID, method: tenant.AuthNone}, nil
	}
}

// dummySecretHash is compared against when the client is unknown or uses the wrong method, so that
// every failure takes the same path and says the same thing.
var dummySecretHash = sha256.Sum256([]byte("no such client"))

// authenticateClient checks the credentials against the registered application. Failures are
// all "client authentication failed": the endpoint does not reveal which clients exist or how they
// authenticate.
func (p *Provider) authenticateClient(c *clientCredentials) (*tenant.Application, *Error) {
	if c.method == tenant.AuthPrivateKeyJWT {
		app, claimed, e := p.verifyClientAssertion(c.assertion, c.id)
		c.id = claimed
		return app, e
	}
	app := p.Tenant.Application(c.id)
	ok := app != nil && app.TokenEndpointAuthMethod == c.method
	switch {
	case c.method == tenant.AuthNone:
		// A public client has no secret to check.
	case ok:
		ok = secretMatches(p.Tenant.SecretDigest(app.ClientID), c.secret) || p.defect(defects.ASAcceptsWrongSecret)
	default:
		secretMatches(dummySecretHash[:], c.secret)
	}
	if !ok {
		e := invalidClient("client authentication failed")
		e.basic = c.method == tenant.AuthClientSecretBasic
		return nil, e
	}
	return app, nil
}

// authenticate reads and checks the client authentication of a back-channel request (token,
// introspection, revocation), and notes in the request log who the client claimed to be and how.
func (p *Provider) authenticate(r *http.Request, form url.Values) (*tenant.Application, *Error) {
	creds, e := parseClientCredentials(r, form)
	if e != nil {
		return nil, e
	}
	app, e := p.authenticateClient(&creds)
	noteClient(r, creds.id, creds.method)
	return app, e
}

// secretMatches compares the secret's SHA-256 with the stored digest in constant time.
func secretMatches(digest []byte, secret string) bool {
	got := sha256.Sum256([]byte(secret))
	return len(digest) == len(got) && subtle.ConstantTimeCompare(digest, got[:]) == 1
}

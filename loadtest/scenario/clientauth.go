package scenario

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Client authentication methods (RFC 6749 §2.3.1, RFC 7523 §2.2, OIDC Core §9).
const (
	AuthBasic     = "client_secret_basic"
	AuthPost      = "client_secret_post"
	AuthJWT       = "private_key_jwt"
	AuthSecretJWT = "client_secret_jwt"
	AuthNone      = "none"
)

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionLifetime is short: servers cache each jti until exp (the reference server 30 s more,
	// and at most 1000 per client), so the lifetime bounds the rate one client can sustain.
	assertionLifetime = 10 * time.Second
)

// clientAuth authenticates one client at the token or introspection endpoint.
type clientAuth struct {
	clientID string
	method   string
	basic    string // the whole Authorization header value for client_secret_basic
	secret   string
	signer   jose.Signer // private_key_jwt, client_secret_jwt
	alg      string      // of the assertions
	audience string      // of assertions: the token endpoint
}

func newClientAuth(c target.Client, audience string) (*clientAuth, error) {
	a := &clientAuth{clientID: c.ClientID, method: c.AuthMethod, secret: c.ClientSecret, audience: audience}
	if a.method == "" {
		a.method = AuthBasic // RFC 7591 §2's default
	}
	switch a.method {
	case AuthBasic:
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret)) // RFC 6749 §2.3.1
		a.basic = r.Header.Get("Authorization")
	case AuthPost, AuthNone:
	case AuthJWT:
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON([]byte(c.PrivateKey)); err != nil {
			return nil, fmt.Errorf("the private key of %s: %w", c.ClientID, err)
		}
		if k.IsPublic() || k.Algorithm == "" {
			return nil, fmt.Errorf("the private key of %s must be a private JWK with alg", c.ClientID)
		}
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return nil, fmt.Errorf("a signer for %s: %w", c.ClientID, err)
		}
		a.signer, a.alg = s, k.Algorithm
	case AuthSecretJWT: // RFC 7523 §2.2 with OIDC Core §9: the assertion is an HMAC with the secret
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(c.ClientSecret)}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return nil, fmt.Errorf("a signer for %s: %w", c.ClientID, err)
		}
		a.signer, a.alg = s, string(jose.HS256)
	default:
		return nil, fmt.Errorf("client %s: unknown authentication method %q", c.ClientID, a.method)
	}
	return a, nil
}

// perRequest reports whether each request needs fresh credentials (a single-use assertion).
func (a *clientAuth) perRequest() bool { return a.method == AuthJWT || a.method == AuthSecretJWT }

// apply adds the credentials to a request's form and header.
func (a *clientAuth) apply(form url.Values, h http.Header) error {
	switch a.method {
	case AuthBasic:
		h.Set("Authorization", a.basic)
	case AuthPost:
		form.Set("client_id", a.clientID)
		form.Set("client_secret", a.secret)
	case AuthNone:
		form.Set("client_id", a.clientID)
	case AuthJWT, AuthSecretJWT:
		jws, err := a.assertion(time.Now())
		if err != nil {
			return err
		}
		form.Set("client_id", a.clientID)
		form.Set("client_assertion_type", assertionType)
		form.Set("client_assertion", jws)
	}
	return nil
}

// assertion signs a client assertion (RFC 7523 §3) with a jti of its own: the server keeps a replay
// cache, so each request must carry a new one.
func (a *clientAuth) assertion(now time.Time) (string, error) {
	claims, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
		JTI string `json:"jti"`
	}{a.clientID, a.clientID, a.audience, now.Unix(), now.Add(assertionLifetime).Unix(), rand.Text()})
	if err != nil {
		return "", err
	}
	jws, err := a.signer.Sign(claims)
	if err != nil {
		return "", fmt.Errorf("sign a client assertion for %s: %w", a.clientID, err)
	}
	return jws.CompactSerialize()
}

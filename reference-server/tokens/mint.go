// Package tokens mints the authorization server's tokens: RFC 9068 JWT access tokens, OpenID Connect
// ID tokens, and the opaque random strings used for codes and refresh tokens.
package tokens

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// Header "typ" values.
const (
	TypeAccessToken = "at+jwt" // RFC 9068 §2.1
	TypeIDToken     = "JWT"
)

// IDTokenLifetime bounds how long an ID token may be presented.
const IDTokenLifetime = time.Hour

// GrantTypeClientCredentials is the gty claim of client-credentials tokens: how an API tells an
// application acting for itself from an application acting for a user.
const GrantTypeClientCredentials = "client-credentials"

// AccessClaims are the claims of an access token (RFC 9068 §2.2). Times are Unix seconds.
type AccessClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	JTI       string `json:"jti"`
	ClientID  string `json:"client_id"`
	AZP       string `json:"azp"`
	Scope     string `json:"scope"`
	GrantType string `json:"gty,omitempty"`
	AuthTime  int64  `json:"auth_time,omitempty"`
}

// IDClaims are the claims of an ID token (OIDC Core §2).
type IDClaims struct {
	Issuer        string `json:"iss"`
	Subject       string `json:"sub"`
	Audience      string `json:"aud"`
	Expiry        int64  `json:"exp"`
	IssuedAt      int64  `json:"iat"`
	AuthTime      int64  `json:"auth_time"`
	Nonce         string `json:"nonce,omitempty"`
	AZP           string `json:"azp"`
	AtHash        string `json:"at_hash,omitempty"`
	Name          string `json:"name,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
}

// Minter signs tokens for one issuer.
type Minter struct {
	Issuer       string
	Keys         *keys.Keyring
	AccountClaim string

	hsSigners sync.Map // API identifier + secret -> jose.Signer
}

// AccessToken signs c with the API's algorithm. accounts, when not empty, are added under the
// tenant's namespaced account claim.
func (m *Minter) AccessToken(api *tenant.API, c *AccessClaims, accounts []string) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("tokens: marshal claims: %w", err)
	}
	if len(accounts) > 0 {
		payload, err = appendClaim(payload, m.AccountClaim, accounts)
		if err != nil {
			return "", err
		}
	}
	alg := jose.SignatureAlgorithm(api.SigningAlg)
	if alg == jose.HS256 {
		s, err := m.hsSigner(api)
		if err != nil {
			return "", err
		}
		return keys.SignCompact(s, payload)
	}
	return m.Keys.Sign(alg, TypeAccessToken, payload)
}

// IDToken signs c with the RS256 key: the algorithm every OIDC relying party must accept.
func (m *Minter) IDToken(c *IDClaims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("tokens: marshal id token: %w", err)
	}
	return m.Keys.Sign(jose.RS256, TypeIDToken, payload)
}

func (m *Minter) hsSigner(api *tenant.API) (jose.Signer, error) {
	key := api.Identifier + "\x00" + api.SigningSecret
	if s, ok := m.hsSigners.Load(key); ok {
		return s.(jose.Signer), nil
	}
	// go-jose writes a kid only for asymmetric keys: set it as a header.
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte(api.SigningSecret)},
		(&jose.SignerOptions{}).WithType(TypeAccessToken).WithHeader("kid", HSKeyID(api.Identifier, api.SigningSecret)))
	if err != nil {
		return nil, fmt.Errorf("tokens: hs256 signer: %w", err)
	}
	m.hsSigners.Store(key, s)
	return s, nil
}

// HSKeyID is the kid of an API's HS256 access tokens (RFC 9068 tokens name their key). It is derived
// from the API identifier and the shared secret, so it changes when the secret is rotated, and reveals
// nothing about the secret: the first 64 bits of SHA-256(identifier NUL secret), in hex.
func HSKeyID(apiIdentifier, secret string) string {
	sum := sha256.Sum256([]byte(apiIdentifier + "\x00" + secret))
	return "hs256-" + hex.EncodeToString(sum[:8])
}

// appendClaim adds "name": value to a marshalled JSON object without a map round trip.
func appendClaim(obj []byte, name string, value any) ([]byte, error) {
	k, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	v, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	obj = bytes.TrimSuffix(obj, []byte("}"))
	obj = append(obj, ',')
	obj = append(obj, k...)
	obj = append(obj, ':')
	obj = append(obj, v...)
	return append(obj, '}'), nil
}

// AtHash computes the ID token's at_hash for an RS256/ES256/PS256 signature: the left half of the
// SHA-256 of the access token, base64url (OIDC Core §3.1.3.6).
func AtHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// Random returns n random bytes, base64url-encoded: for codes, refresh tokens, jtis and session ids.
func Random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+): it crashes the program instead.
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 of an opaque token, the form in which the server stores it.
func Hash(token string) [32]byte { return sha256.Sum256([]byte(token)) }

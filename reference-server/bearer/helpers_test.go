package bearer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

const (
	testIssuer   = "https://as.example/"
	testAudience = "https://api.example"
	accountClaim = "https://contacts.example/accounts"
)

// testNow is the validators' fixed clock, so forged tokens never age.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var b64 = base64.RawURLEncoding

// staticKeys is a KeySource over a fixed set of JWKs.
type staticKeys map[string]jose.JSONWebKey

func (s staticKeys) Key(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	k, ok := s[kid]
	if !ok {
		return nil, errors.New("no key with kid " + kid)
	}
	return &k, nil
}

// keyringSource publishes every key of the shared test keyring.
func keyringSource(t testing.TB) staticKeys {
	t.Helper()
	kr := servertest.Keys(t)
	src := staticKeys{}
	for _, alg := range keys.Asymmetric {
		k := kr.Active(alg)
		src[k.KID] = k.Public()
	}
	return src
}

func newValidator(t testing.TB, algs ...jose.SignatureAlgorithm) *bearer.Validator {
	t.Helper()
	if len(algs) == 0 {
		algs = []jose.SignatureAlgorithm{jose.RS256}
	}
	return &bearer.Validator{Issuer: testIssuer, Audience: testAudience, Algorithms: algs,
		Keys: keyringSource(t), Now: func() time.Time { return testNow }}
}

// baseClaims are the claims of a valid user token at testNow.
func baseClaims() map[string]any {
	return map[string]any{
		"iss":        testIssuer,
		"sub":        "user-sam",
		"aud":        testAudience,
		"iat":        testNow.Unix(),
		"nbf":        testNow.Unix(),
		"exp":        testNow.Add(time.Hour).Unix(),
		"jti":        "jti-1",
		"client_id":  "acme-cms",
		"scope":      "read:contacts update:contacts",
		accountClaim: []string{"globex", "initech"},
	}
}

// forgeOpts describes a token the test signs itself.
type forgeOpts struct {
	alg    jose.SignatureAlgorithm
	key    any    // private key or HMAC secret
	kid    string // "" for none
	typ    string // "" for none
	claims map[string]any
}

// rsaOpts signs with the keyring's active RS256 key.
func rsaOpts(t testing.TB) forgeOpts {
	k := servertest.Keys(t).Active(jose.RS256)
	return forgeOpts{alg: jose.RS256, key: k.Private, kid: k.KID, typ: "at+jwt", claims: baseClaims()}
}

func forge(t testing.TB, o forgeOpts) string {
	t.Helper()
	key := o.key
	if o.kid != "" {
		key = jose.JSONWebKey{Key: o.key, KeyID: o.kid}
	}
	opts := &jose.SignerOptions{}
	if o.typ != "" {
		opts = opts.WithType(jose.ContentType(o.typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: o.alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload, err := json.Marshal(o.claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forgeRaw builds a compact token by hand from a header, a payload and a signature.
func forgeRaw(header, payload map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	return b64.EncodeToString(h) + "." + b64.EncodeToString(p) + "." + b64.EncodeToString(sig)
}

// hmacWith signs header.payload with HS256 under an arbitrary secret (for RS/HS confusion).
func hmacWith(t testing.TB, secret []byte, kid string, claims map[string]any) string {
	t.Helper()
	// go-jose writes no kid for symmetric keys: set it by hand, as an attacker copying it from the
	// JWKS would.
	opts := (&jose.SignerOptions{}).WithType("at+jwt")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(claims)
	jws, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantInvalidToken asserts err is an RFC 6750 invalid_token error.
func wantInvalidToken(t testing.TB, err error) {
	t.Helper()
	var e *bearer.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *bearer.Error", err, err)
	}
	if e.Code != "invalid_token" || e.Status != http.StatusUnauthorized || e.Description == "" {
		t.Errorf("error = %+v, want invalid_token / 401 with a description", e)
	}
}

// segments splits a compact token into its three parts.
func segments(tok string) (header, payload, sig string) {
	p := strings.SplitN(tok, ".", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return p[0], p[1], p[2]
}

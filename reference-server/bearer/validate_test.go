package bearer_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

func TestValidateAcceptsAValidToken(t *testing.T) {
	v := newValidator(t)
	c, err := v.Validate(context.Background(), forge(t, rsaOpts(t)))
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.Subject != "user-sam" || c.Issuer != testIssuer || c.JTI != "jti-1" || c.ClientID != "acme-cms" {
		t.Errorf("claims = %+v", c)
	}
	if !c.HasScope("read:contacts") || !c.HasScope("update:contacts") || c.HasScope("read") || c.HasScope("") {
		t.Errorf("HasScope wrong for scope %q", c.Scope)
	}
	if got := c.Strings(accountClaim); !slices.Equal(got, []string{"globex", "initech"}) {
		t.Errorf("Strings(account claim) = %v", got)
	}
	if got := c.Strings("sub"); !slices.Equal(got, []string{"user-sam"}) {
		t.Errorf("Strings(sub) = %v", got)
	}
	if c.Strings("exp") != nil || c.Strings("missing") != nil {
		t.Error("Strings of a number or a missing claim is not nil")
	}
}

func TestValidateAcceptsVariants(t *testing.T) {
	kr := servertest.Keys(t)
	cases := []struct {
		name  string
		algs  []jose.SignatureAlgorithm
		build func(t *testing.T) string
	}{
		{"typ application/at+jwt", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.typ = "application/at+jwt"
			return forge(t, o)
		}},
		{"aud as an array containing the API", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.claims["aud"] = []string{"https://other.example", testAudience}
			return forge(t, o)
		}},
		{"no nbf", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			delete(o.claims, "nbf")
			return forge(t, o)
		}},
		{"ES256 when allowed", []jose.SignatureAlgorithm{jose.RS256, jose.ES256}, func(t *testing.T) string {
			k := kr.Active(jose.ES256)
			return forge(t, forgeOpts{alg: jose.ES256, key: k.Private, kid: k.KID, typ: "at+jwt", claims: baseClaims()})
		}},
		{"EdDSA when allowed", []jose.SignatureAlgorithm{jose.EdDSA}, func(t *testing.T) string {
			k := kr.Active(jose.EdDSA)
			return forge(t, forgeOpts{alg: jose.EdDSA, key: k.Private, kid: k.KID, typ: "at+jwt", claims: baseClaims()})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := newValidator(t, tc.algs...).Validate(context.Background(), tc.build(t)); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

func publicPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestValidateRefuses(t *testing.T) {
	kr := servertest.Keys(t)
	rsKey := kr.Active(jose.RS256)
	rsPEM := publicPEM(t, rsKey.Private.Public())
	rsJWK, err := json.Marshal(rsKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	withClaim := func(name string, value any) func(t *testing.T) string {
		return func(t *testing.T) string {
			o := rsaOpts(t)
			if value == nil {
				delete(o.claims, name)
			} else {
				o.claims[name] = value
			}
			return forge(t, o)
		}
	}
	const beyond = 31 * time.Second // DefaultLeeway is 30 s
	cases := []struct {
		name  string
		why   string                    // the refusal's description must mention it
		v     func(v *bearer.Validator) // adjusts the validator; nil keeps RS256 only
		build func(t *testing.T) string
	}{
		{"expired beyond leeway", "expired", nil, withClaim("exp", testNow.Add(-beyond).Unix())},
		{"not yet valid beyond leeway", "not valid before", nil, withClaim("nbf", testNow.Add(beyond).Unix())},
		{"issued in the future", "issued in the future", nil, withClaim("iat", testNow.Add(beyond).Unix())},
		{"wrong audience", "aud", nil, withClaim("aud", "https://other.example")},
		{"audience array without the API", "aud", nil, withClaim("aud", []string{"https://a.example", "https://b.example"})},
		{"audience prefix", "aud", nil, withClaim("aud", testAudience+"/admin")},
		{"no audience", "aud", nil, withClaim("aud", nil)},
		{"wrong issuer", "iss", nil, withClaim("iss", "https://evil.example/")},
		{"issuer without trailing slash", "iss", nil, withClaim("iss", strings.TrimSuffix(testIssuer, "/"))},
		{"missing exp", "no exp", nil, withClaim("exp", nil)},
		{"missing sub", "no sub", nil, withClaim("sub", nil)},
		{"empty sub", "no sub", nil, withClaim("sub", "")},
		{"exp as a string", "NumericDate", nil, withClaim("exp", "soon")},
		{"tampered payload (claim changed)", "signature", nil, func(t *testing.T) string {
			h, _, s := segments(forge(t, rsaOpts(t)))
			c := baseClaims()
			c["sub"] = "admin"
			p, _ := json.Marshal(c)
			return h + "." + b64.EncodeToString(p) + "." + s
		}},
		{"tampered payload (one byte flipped)", "signature", nil, func(t *testing.T) string {
			h, p, s := segments(forge(t, rsaOpts(t)))
			raw, _ := b64.DecodeString(p)
			raw[len(raw)/2] ^= 0x01
			return h + "." + b64.EncodeToString(raw) + "." + s
		}},
		{"tampered signature", "signature", nil, func(t *testing.T) string {
			h, p, s := segments(forge(t, rsaOpts(t)))
			raw, _ := b64.DecodeString(s)
			raw[10] ^= 0x80
			return h + "." + p + "." + b64.EncodeToString(raw)
		}},
		{"signature removed", "signature", nil, func(t *testing.T) string {
			h, p, _ := segments(forge(t, rsaOpts(t)))
			return h + "." + p + "."
		}},
		{"alg none", "none", func(v *bearer.Validator) {
			v.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.HS256}
			v.HMACSecret = []byte("0123456789abcdef0123456789abcdef")
		}, func(t *testing.T) string {
			return forgeRaw(map[string]any{"alg": "none", "typ": "at+jwt"}, baseClaims(), nil)
		}},
		{"alg None with a kid", "None", nil, func(t *testing.T) string {
			return forgeRaw(map[string]any{"alg": "None", "typ": "at+jwt", "kid": rsKey.KID}, baseClaims(), nil)
		}},
		{"HS256 keyed with the RSA public key PEM", "HS256", nil, func(t *testing.T) string {
			return hmacWith(t, rsPEM, rsKey.KID, baseClaims())
		}},
		{"HS256 keyed with the RSA public JWK JSON", "HS256", nil, func(t *testing.T) string {
			return hmacWith(t, rsJWK, rsKey.KID, baseClaims())
		}},
		{"HS256 keyed with the JWKS document", "HS256", nil, func(t *testing.T) string {
			return hmacWith(t, kr.JWKS(), rsKey.KID, baseClaims())
		}},
		{"HS256 keyed with the PEM, HS256 allowed with another secret", "signature", func(v *bearer.Validator) {
			v.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.HS256}
			v.HMACSecret = []byte("0123456789abcdef0123456789abcdef")
		}, func(t *testing.T) string {
			return hmacWith(t, rsPEM, rsKey.KID, baseClaims())
		}},
		{"HS256 keyed with the PEM, HS256 allowed without a secret", "no shared secret", func(v *bearer.Validator) {
			v.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.HS256}
		}, func(t *testing.T) string {
			return hmacWith(t, rsPEM, rsKey.KID, baseClaims())
		}},
		{"ES256 not in the allow-list", "ES256", nil, func(t *testing.T) string {
			k := kr.Active(jose.ES256)
			return forge(t, forgeOpts{alg: jose.ES256, key: k.Private, kid: k.KID, typ: "at+jwt", claims: baseClaims()})
		}},
		{"unknown kid", "rotated-away", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.kid = "rotated-away"
			return forge(t, o)
		}},
		{"no kid", "no kid", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.kid = ""
			return forge(t, o)
		}},
		{"another RSA key under the RS256 kid", "signature", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.key = kr.Active(jose.PS256).Private // RSA too, but not the published RS256 key
			return forge(t, o)
		}},
		{"typ JWT (an ID token)", "typ", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.typ = "JWT"
			return forge(t, o)
		}},
		{"no typ", "typ", nil, func(t *testing.T) string {
			o := rsaOpts(t)
			o.typ = ""
			return forge(t, o)
		}},
		{"JWK alg differs from the header alg", "is for PS256", func(v *bearer.Validator) {
			v.Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.PS256}
			pub := rsKey.Public()
			pub.Algorithm = string(jose.PS256)
			v.Keys = staticKeys{rsKey.KID: pub}
		}, func(t *testing.T) string { return forge(t, rsaOpts(t)) }},
		{"denied jti", "revoked", func(v *bearer.Validator) {
			v.Denied = func(jti string) bool { return jti == "jti-1" }
		}, func(t *testing.T) string { return forge(t, rsaOpts(t)) }},
		{"no key source", "no key source", func(v *bearer.Validator) { v.Keys = nil }, func(t *testing.T) string { return forge(t, rsaOpts(t)) }},
		{"empty string", "malformed", nil, func(*testing.T) string { return "" }},
		{"not a JWT", "malformed", nil, func(*testing.T) string { return "opaque-refresh-token" }},
		{"JWE-shaped", "malformed", nil, func(*testing.T) string { return "a.b.c.d.e" }},
		{"JSON serialization", "malformed", nil, func(t *testing.T) string {
			h, p, s := segments(forge(t, rsaOpts(t)))
			return `{"payload":"` + p + `","protected":"` + h + `","signature":"` + s + `"}`
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t)
			if tc.v != nil {
				tc.v(v)
			}
			c, err := v.Validate(context.Background(), tc.build(t))
			if err == nil {
				t.Fatalf("accepted, claims %+v", c)
			}
			if c != nil {
				t.Errorf("claims returned with an error: %+v", c)
			}
			if e := bearer.AsError(err); !strings.Contains(e.Description, tc.why) {
				t.Errorf("refused for the wrong reason: %q does not mention %q", e.Description, tc.why)
			}
			wantInvalidToken(t, err)
		})
	}
}

// A denylist only sees tokens that carry a jti; the validator must not call it for others.
// RFC 9068 §2.2 makes iat, jti and client_id REQUIRED. A token without a jti could not be revoked
// through the denylist at all, so it is refused before the denylist is asked.
func TestValidateRequiresRFC9068Claims(t *testing.T) {
	for _, claim := range []string{"iat", "jti", "client_id"} {
		t.Run(claim, func(t *testing.T) {
			v := newValidator(t)
			v.Denied = func(jti string) bool {
				if jti == "" {
					t.Error("Denied called with an empty jti")
				}
				return false
			}
			o := rsaOpts(t)
			delete(o.claims, claim)
			_, err := v.Validate(context.Background(), forge(t, o))
			if e := bearer.AsError(err); err == nil || e.Code != "invalid_token" || !strings.Contains(e.Description, "RFC 9068") {
				t.Errorf("token without %s: err = %v, want invalid_token naming RFC 9068", claim, err)
			}
		})
	}
}

func TestLeeway(t *testing.T) {
	cases := []struct {
		name   string
		leeway time.Duration
		claim  string
		offset time.Duration // from testNow
		ok     bool
	}{
		{"default: expired 29s ago", 0, "exp", -29 * time.Second, true},
		{"default: expired 31s ago", 0, "exp", -31 * time.Second, false},
		{"default: nbf in 29s", 0, "nbf", 29 * time.Second, true},
		{"default: nbf in 31s", 0, "nbf", 31 * time.Second, false},
		{"default: iat in 29s", 0, "iat", 29 * time.Second, true},
		{"default: iat in 31s", 0, "iat", 31 * time.Second, false},
		{"5s: expired 6s ago", 5 * time.Second, "exp", -6 * time.Second, false},
		{"5s: expired 4s ago", 5 * time.Second, "exp", -4 * time.Second, true},
		{"45s: expired 44s ago", 45 * time.Second, "exp", -44 * time.Second, true},
		{"10m capped at 60s: expired 59s ago", 10 * time.Minute, "exp", -59 * time.Second, true},
		{"10m capped at 60s: expired 61s ago", 10 * time.Minute, "exp", -61 * time.Second, false},
		{"10m capped at 60s: expired 9m ago", 10 * time.Minute, "exp", -9 * time.Minute, false},
		{"10m capped at 60s: nbf in 61s", 10 * time.Minute, "nbf", 61 * time.Second, false},
		{"10m capped at 60s: iat in 2m", 10 * time.Minute, "iat", 2 * time.Minute, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newValidator(t)
			v.Leeway = tc.leeway
			o := rsaOpts(t)
			o.claims[tc.claim] = testNow.Add(tc.offset).Unix()
			_, err := v.Validate(context.Background(), forge(t, o))
			switch {
			case tc.ok && err != nil:
				t.Errorf("refused: %v", err)
			case !tc.ok && err == nil:
				t.Error("accepted")
			case !tc.ok:
				wantInvalidToken(t, err)
			}
		})
	}
	if bearer.MaxLeeway != time.Minute || bearer.DefaultLeeway != 30*time.Second {
		t.Errorf("MaxLeeway = %v, DefaultLeeway = %v", bearer.MaxLeeway, bearer.DefaultLeeway)
	}
}

func TestValidateUsesTheRealClockByDefault(t *testing.T) {
	v := newValidator(t)
	v.Now = nil
	// baseClaims expire at testNow+1h; against the real clock the token is either valid or expired,
	// and the verdict must follow time.Now.
	_, err := v.Validate(context.Background(), forge(t, rsaOpts(t)))
	expired := time.Now().After(testNow.Add(time.Hour + bearer.DefaultLeeway))
	if expired != (err != nil) {
		t.Errorf("real-clock validation: err = %v, token expired = %v", err, expired)
	}
}

func TestAsError(t *testing.T) {
	e := &bearer.Error{Code: "insufficient_scope", Status: 403, Description: "x"}
	if bearer.AsError(e) != e {
		t.Error("AsError did not return the *Error itself")
	}
	got := bearer.AsError(context.DeadlineExceeded)
	if got.Code != "invalid_token" || got.Status != 401 || !strings.Contains(got.Description, "deadline") {
		t.Errorf("AsError(other) = %+v", got)
	}
	if e.Error() != "insufficient_scope: x" {
		t.Errorf("Error() = %q", e.Error())
	}
}

// ListClaim is decoded in the validation pass: a string, an array of strings, or absent; any other
// shape makes the token invalid rather than silently empty.
func TestValidateListClaim(t *testing.T) {
	const claim = "https://contacts.example/accounts"
	cases := []struct {
		name  string
		value any // nil: claim absent
		want  []string
		ok    bool
	}{
		{"array", []string{"globex", "initech"}, []string{"globex", "initech"}, true},
		{"string", "globex", []string{"globex"}, true},
		{"absent", nil, nil, true},
		{"number", 42, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newValidator(t)
			v.ListClaim = claim
			o := rsaOpts(t)
			delete(o.claims, claim)
			if c.value != nil {
				o.claims[claim] = c.value
			}
			got, err := v.Validate(context.Background(), forge(t, o))
			if (err == nil) != c.ok {
				t.Fatalf("err = %v, want ok=%v", err, c.ok)
			}
			if err == nil && !slices.Equal(got.List(), c.want) {
				t.Errorf("List() = %v, want %v", got.List(), c.want)
			}
		})
	}
}

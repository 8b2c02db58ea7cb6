package bearer

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// Insecure lists checks a Validator may be told to skip. It exists only for the reference server's
// defect switches, which make the contacts API deliberately vulnerable so that the conformance suite
// can prove it catches each weakness. Real resource servers leave Validator.Insecure nil.
type Insecure struct {
	SkipAudience bool
	SkipIssuer   bool
	IgnoreExpiry bool // exp and nbf
	AcceptNone   bool // alg: none, no signature
	// AcceptHSWithPublicKey verifies an HS256 token with the PEM of the RSA/EC public key named by its
	// kid as the HMAC secret: the classic algorithm-confusion bug (RFC 8725 §2.1).
	AcceptHSWithPublicKey bool
}

func (i Insecure) any() bool {
	return i.SkipAudience || i.SkipIssuer || i.IgnoreExpiry || i.AcceptNone || i.AcceptHSWithPublicKey
}

// validateInsecurely handles the tokens that only a defect lets through; ok is false when the token is
// not one of them and must go through the normal path.
func (v *Validator) validateInsecurely(ctx context.Context, token string, ins Insecure) (c *Claims, ok bool, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false, nil
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, false, nil
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(hb, &h) != nil {
		return nil, false, nil
	}
	var payload []byte
	switch {
	case ins.AcceptNone && strings.EqualFold(h.Alg, "none"):
		if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, true, invalidToken("malformed payload")
		}
	case ins.AcceptHSWithPublicKey && h.Alg == string(jose.HS256) && len(v.HMACSecret) == 0 && v.Keys != nil:
		k, err := v.Keys.Key(ctx, h.Kid)
		if err != nil {
			return nil, true, invalidToken("no key with kid %q", h.Kid)
		}
		der, err := x509.MarshalPKIXPublicKey(k.Key)
		if err != nil {
			return nil, true, invalidToken("key %q has no PEM form", h.Kid)
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			return nil, true, invalidToken("malformed token: %v", err)
		}
		if payload, err = jws.Verify(secret); err != nil {
			return nil, true, invalidToken("signature does not verify: %v", err)
		}
	default:
		return nil, false, nil
	}
	if c, err = v.decode(payload); err != nil {
		return nil, true, invalidToken("the claims are malformed: %v", err)
	}
	if err := v.checkClaims(c, ins); err != nil {
		return nil, true, err
	}
	return c, true, nil
}

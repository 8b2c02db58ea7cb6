package bearer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// TestJWKSCacheVerifiesEitherBackend: through the JWKS cache (which verifies with OpenSSL when it is
// enabled), tokens the keyring signs (with OpenSSL when enabled) and tokens go-jose signs in Go both
// validate, a changed signature does not, and a key of another algorithm is refused.
func TestJWKSCacheVerifiesEitherBackend(t *testing.T) {
	t.Logf("backend %q, fallback reason %q", osslcrypto.Backend(), osslcrypto.FallbackReason())
	kr := servertest.Keys(t)
	v := newValidator(t, keys.Asymmetric...)
	v.Keys = &bearer.JWKSCache{URL: newJWKSServer(t, kr.JWKS()).URL}
	payload, err := json.Marshal(baseClaims())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, alg := range keys.Asymmetric {
		t.Run(string(alg), func(t *testing.T) {
			k := kr.Active(alg)
			byKeyring, err := kr.Sign(alg, "at+jwt", payload)
			if err != nil {
				t.Fatal(err)
			}
			inGo := forge(t, forgeOpts{alg: alg, key: k.Private, kid: k.KID, typ: "at+jwt", claims: baseClaims()})
			for name, tok := range map[string]string{"keyring": byKeyring, "go": inGo} {
				if _, err := v.Validate(ctx, tok); err != nil {
					t.Errorf("signed by the %s: %v", name, err)
				}
				h, p, sig := segments(tok)
				changed := []byte(sig)
				if i := len(changed) / 2; changed[i] == 'A' {
					changed[i] = 'B'
				} else {
					changed[i] = 'A'
				}
				_, err := v.Validate(ctx, h+"."+p+"."+string(changed))
				wantInvalidToken(t, err)
				if err != nil && !strings.Contains(err.Error(), "signature does not verify") {
					t.Errorf("signed by the %s, signature changed: %v", name, err)
				}
			}
			// A token naming another algorithm's key is refused before any signature is checked.
			for _, other := range keys.Asymmetric {
				if other == alg {
					continue
				}
				o := kr.Active(other)
				tok := forge(t, forgeOpts{alg: alg, key: k.Private, kid: o.KID, typ: "at+jwt", claims: baseClaims()})
				_, err := v.Validate(ctx, tok)
				wantInvalidToken(t, err)
				if err != nil && !strings.Contains(err.Error(), "is for") {
					t.Errorf("%s token with the %s key's kid: %v", alg, other, err)
				}
			}
		})
	}
}

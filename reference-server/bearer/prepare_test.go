package bearer

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
)

// TestPrepare: with OpenSSL enabled, the cache verifies RSA and ECDSA keys with OpenSSL and Ed25519
// in Go; a key OpenSSL does not take stays with Go.
func TestPrepare(t *testing.T) {
	jwks := map[string]jose.JSONWebKey{}
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		k, err := keys.NewKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		jwks[string(alg)] = k.Public()
	}
	// A 512-bit RSA modulus: crypto/rsa refuses such keys, so osslcrypto does too; it stays with Go,
	// whose rules then apply.
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	jwks["weak"] = jose.JSONWebKey{Key: &rsa.PublicKey{N: new(big.Int).Rsh(weak.N, 512), E: 65537}}
	got := prepare(jwks)
	for kid, want := range map[string]bool{"RS256": true, "ES256": false, "EdDSA": false, "weak": false} {
		c := got[kid]
		if !samePublic(c.jwk.Key, jwks[kid].Key) {
			t.Errorf("%s: the published key changed", kid)
		}
		_, isOpenSSL := c.verify.(*osslcrypto.Verifier)
		if want = want && osslcrypto.Enabled(); isOpenSSL != want {
			t.Errorf("%s verifies with a %T; OpenSSL enabled: %v", kid, c.verify, osslcrypto.Enabled())
		}
		if !isOpenSSL && !samePublic(c.verify, jwks[kid].Key) {
			t.Errorf("%s: verifies in Go with another key", kid)
		}
	}
}

func samePublic(a, b any) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}

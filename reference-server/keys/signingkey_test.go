package keys

import (
	"crypto"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
)

// smallRing has an RS256 and an ES256 key: enough for the backend choice, quicker than Generate.
func smallRing(t *testing.T) *Keyring {
	t.Helper()
	var ks []*Key
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		k, err := NewKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
	}
	kr, err := FromKeys(ks...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// verifyBoth checks tok with the Go public key and, when OpenSSL loads, with OpenSSL's.
func verifyBoth(t *testing.T, kr *Keyring, alg jose.SignatureAlgorithm, tok string) {
	t.Helper()
	pub := kr.Active(alg).Private.Public()
	verifiers := map[string]any{"go": pub}
	if alg != jose.EdDSA {
		if v, err := osslcrypto.NewVerifier(pub); err == nil {
			verifiers["openssl"] = v
		}
	}
	for name, key := range verifiers {
		jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jws.Verify(key); err != nil {
			t.Errorf("%s token does not verify with %s: %v", alg, name, err)
		}
		bad := tok[:len(tok)-10] + strings.Repeat("A", 10)
		if bad == tok {
			bad = tok[:len(tok)-10] + strings.Repeat("B", 10)
		}
		if jws, err := jose.ParseSignedCompact(bad, []jose.SignatureAlgorithm{alg}); err == nil {
			if _, err := jws.Verify(key); err == nil {
				t.Errorf("%s token with a changed signature verifies with %s", alg, name)
			}
		}
	}
}

// TestSigningKeyBackend: RSA and ECDSA keys sign through OpenSSL when it is enabled, converted once
// per key whatever the typ; Ed25519 stays Go; rotating a key out drops its copy.
func TestSigningKeyBackend(t *testing.T) {
	t.Logf("backend %q, fallback reason %q", osslcrypto.Backend(), osslcrypto.FallbackReason())
	kr := smallRing(t)
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		k := kr.Active(alg)
		for _, typ := range []string{"at+jwt", "JWT", "at+jwt"} {
			tok, err := kr.Sign(alg, typ, []byte(`{"sub":"s"}`))
			if err != nil {
				t.Fatal(err)
			}
			verifyBoth(t, kr, alg, tok)
		}
		key, ok := kr.signingKeys.Load(k.KID)
		if !ok {
			t.Fatalf("%s: no signing key cached", alg)
		}
		_, isOpenSSL := key.(*osslcrypto.Signer)
		if want := osslcrypto.Enabled() && alg == jose.RS256; isOpenSSL != want { // RSA only: see osslcrypto.SigningKey
			t.Errorf("%s signs with a %T; OpenSSL enabled: %v", alg, key, osslcrypto.Enabled())
		}
		if s, ok := key.(crypto.Signer); !isOpenSSL && (!ok || !samePublic(s.Public(), k.Private.Public())) {
			t.Errorf("%s: the Go signing key is not the keyring's", alg)
		}
		if again, err := kr.signingKey(k); err != nil {
			t.Error(err)
		} else if p, ok := key.(*osslcrypto.Signer); ok && again != any(p) {
			t.Errorf("%s: converted twice", alg)
		}
	}
	old := kr.Active(jose.ES256)
	if _, err := kr.Rotate(jose.ES256, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := kr.signingKeys.Load(old.KID); ok {
		t.Error("the rotated-out key's signing key is still cached")
	}
	tok, err := kr.Sign(jose.ES256, "at+jwt", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	verifyBoth(t, kr, jose.ES256, tok)
}

// TestEnvSwitchForcesGo runs this package's test binary again with OAUTH_HARNESS_CRYPTO=go: the
// choice is made once per process, so a child process is the honest way to see it.
func TestEnvSwitchForcesGo(t *testing.T) {
	if os.Getenv("KEYS_TEST_CHILD") == "1" {
		if osslcrypto.Backend() != "go" || osslcrypto.FallbackReason() != osslcrypto.EnvVar+"=go" {
			t.Fatalf("child: backend %q, reason %q", osslcrypto.Backend(), osslcrypto.FallbackReason())
		}
		kr := smallRing(t)
		for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
			tok, err := kr.Sign(alg, "at+jwt", []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			verifyBoth(t, kr, alg, tok)
			key, _ := kr.signingKeys.Load(kr.Active(alg).KID)
			if s, ok := key.(crypto.Signer); !ok || !samePublic(s.Public(), kr.Active(alg).Private.Public()) {
				t.Errorf("child: %s signs with a %T, not the Go key", alg, key)
			}
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestEnvSwitchForcesGo$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KEYS_TEST_CHILD=1", osslcrypto.EnvVar+"=go")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func samePublic(a, b crypto.PublicKey) bool {
	x, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && x.Equal(b)
}

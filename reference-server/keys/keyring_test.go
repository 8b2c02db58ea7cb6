package keys_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

var b64 = base64.RawURLEncoding

func pad(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }

// rfc7638 computes the JWK thumbprint by hand from the required members in lexicographic order
// (RFC 7638 §3.2; RFC 8037 §2 for OKP), independently of go-jose.
func rfc7638(t *testing.T, pub any) string {
	t.Helper()
	var canon string
	switch k := pub.(type) {
	case *rsa.PublicKey:
		e := big.NewInt(int64(k.E)).Bytes()
		canon = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64.EncodeToString(e), b64.EncodeToString(k.N.Bytes()))
	case *ecdsa.PublicKey:
		raw, err := k.Bytes() // 0x04 || X || Y
		if err != nil {
			t.Fatal(err)
		}
		size := (len(raw) - 1) / 2
		canon = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`,
			b64.EncodeToString(pad(raw[1:1+size], size)), b64.EncodeToString(raw[1+size:]))
	case ed25519.PublicKey:
		canon = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, b64.EncodeToString(k))
	default:
		t.Fatalf("unexpected key type %T", pub)
	}
	sum := sha256.Sum256([]byte(canon))
	return b64.EncodeToString(sum[:])
}

func TestGenerate(t *testing.T) {
	kr := servertest.Keys(t)
	if got := kr.Algorithms(); len(got) != 4 {
		t.Fatalf("Algorithms() = %v, want RS256 PS256 ES256 EdDSA", got)
	}
	kids := map[string]jose.SignatureAlgorithm{}
	for _, alg := range keys.Asymmetric {
		t.Run(string(alg), func(t *testing.T) {
			k := kr.Active(alg)
			if k == nil {
				t.Fatalf("no active %s key", alg)
			}
			if k.Alg != alg {
				t.Errorf("Active(%s).Alg = %s", alg, k.Alg)
			}
			if prev, dup := kids[k.KID]; dup {
				t.Errorf("kid %s shared by %s and %s", k.KID, prev, alg)
			}
			kids[k.KID] = alg
			if want := rfc7638(t, k.Private.Public()); k.KID != want {
				t.Errorf("kid = %s, want the RFC 7638 thumbprint %s", k.KID, want)
			}
			if pk := kr.PublicKey(k.KID); pk == nil || pk.Algorithm != string(alg) || pk.Use != "sig" || !pk.IsPublic() {
				t.Errorf("PublicKey(%s) = %+v", k.KID, pk)
			}
		})
	}
	if kr.Active(jose.HS256) != nil || kr.PublicKey("no-such-kid") != nil {
		t.Error("keyring returned a key it should not have")
	}
	if rsaKey, ok := kr.Active(jose.RS256).Private.(*rsa.PrivateKey); !ok || rsaKey.N.BitLen() != 2048 {
		t.Error("RS256 key is not a 2048-bit RSA key")
	}
}

func TestJWKSHasOnlyPublicKeys(t *testing.T) {
	kr := servertest.Keys(t)
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(kr.JWKS(), &raw); err != nil {
		t.Fatalf("JWKS is not JSON: %v", err)
	}
	if len(raw.Keys) != 4 {
		t.Fatalf("JWKS has %d keys, want 4", len(raw.Keys))
	}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("published key %v has private member %q", k["kid"], private)
			}
		}
		for _, member := range []string{"kid", "alg", "kty"} {
			if s, _ := k[member].(string); s == "" {
				t.Errorf("published key lacks %q: %v", member, k)
			}
		}
		if k["use"] != "sig" {
			t.Errorf("published key %v has use %v, want sig", k["kid"], k["use"])
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(kr.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || kr.PublicKey(k.KeyID) == nil {
			t.Errorf("key %s: public=%v, known=%v", k.KeyID, k.IsPublic(), kr.PublicKey(k.KeyID) != nil)
		}
	}
}

func TestSign(t *testing.T) {
	kr := servertest.Keys(t)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(kr.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"sub":"user-paul","n":1}`)
	for _, alg := range keys.Asymmetric {
		t.Run(string(alg), func(t *testing.T) {
			tok, err := kr.Sign(alg, "at+jwt", payload)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(tok, ".") != 2 {
				t.Fatalf("not a compact JWS: %q", tok)
			}
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Header
			if h.Algorithm != string(alg) || h.KeyID != kr.Active(alg).KID || h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
				t.Errorf("header alg=%s kid=%s typ=%v", h.Algorithm, h.KeyID, h.ExtraHeaders[jose.HeaderType])
			}
			if h.JSONWebKey != nil {
				t.Error("the header embeds a jwk")
			}
			published := set.Key(h.KeyID)
			if len(published) != 1 {
				t.Fatalf("kid %s not in the JWKS", h.KeyID)
			}
			got, err := jws.Verify(published[0].Key)
			if err != nil {
				t.Fatalf("does not verify with the published key: %v", err)
			}
			if string(got) != string(payload) {
				t.Errorf("payload = %s", got)
			}
			// The same typ again uses the cached signer; another typ gets its own header.
			idTok, err := kr.Sign(alg, "JWT", payload)
			if err != nil {
				t.Fatal(err)
			}
			jws2, err := jose.ParseSignedCompact(idTok, []jose.SignatureAlgorithm{alg})
			if err != nil {
				t.Fatal(err)
			}
			if typ := jws2.Signatures[0].Header.ExtraHeaders[jose.HeaderType]; typ != "JWT" {
				t.Errorf("typ = %v after signing with another typ, want JWT", typ)
			}
			// Another algorithm's key must not verify it.
			for _, other := range keys.Asymmetric {
				if other == alg {
					continue
				}
				if _, err := jws.Verify(kr.Active(other).Private.Public()); err == nil {
					t.Errorf("%s token verified with the %s key", alg, other)
				}
			}
		})
	}
	if _, err := kr.Sign(jose.HS256, "at+jwt", payload); err == nil {
		t.Error("Sign with HS256 (no keyring key) succeeded")
	}
}

func TestFromKeysRotation(t *testing.T) {
	oldKey, err := keys.NewKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	newKey, err := keys.NewKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.FromKeys(oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	if kr.Active(jose.ES256) != newKey {
		t.Error("the last key given is not the active one")
	}
	if kr.PublicKey(oldKey.KID) == nil || kr.PublicKey(newKey.KID) == nil {
		t.Error("a rotated-out key is no longer published")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(kr.JWKS(), &set); err != nil || len(set.Keys) != 2 {
		t.Errorf("JWKS = %s (%v), want both keys", kr.JWKS(), err)
	}
	if got := kr.Algorithms(); len(got) != 1 || got[0] != jose.ES256 {
		t.Errorf("Algorithms() = %v", got)
	}
}

func TestNewKeyRejectsSymmetricAlgorithms(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.HS256, "none", ""} {
		if k, err := keys.NewKey(alg); err == nil {
			t.Errorf("NewKey(%q) = %+v, want an error", alg, k)
		}
	}
}

func TestConcurrentSign(t *testing.T) {
	kr := servertest.Keys(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			alg := keys.Asymmetric[i%len(keys.Asymmetric)]
			typ := []string{"at+jwt", "JWT"}[i%2]
			for range 5 {
				if _, err := kr.Sign(alg, typ, []byte(`{}`)); err != nil {
					t.Error(err)
					return
				}
				_ = kr.JWKS()
			}
		}()
	}
	wg.Wait()
}

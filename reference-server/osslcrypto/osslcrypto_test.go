package osslcrypto

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// testKeys are generated once: RSA keys take a while.
var testKeys = sync.OnceValues(func() (map[jose.SignatureAlgorithm]crypto.Signer, error) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	m := map[jose.SignatureAlgorithm]crypto.Signer{}
	for _, alg := range rsaAlgs {
		m[alg] = rk
	}
	for alg, c := range map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()} {
		if m[alg], err = ecdsa.GenerateKey(c, rand.Reader); err != nil {
			return nil, err
		}
	}
	return m, nil
})

func keyFor(tb testing.TB, alg jose.SignatureAlgorithm) crypto.Signer {
	tb.Helper()
	m, err := testKeys()
	if err != nil {
		tb.Fatal(err)
	}
	return m[alg]
}

// requireOpenSSL skips when libcrypto cannot be loaded (the CGO_ENABLED=0 build, or a machine
// without it); the Go fallback is tested without it.
func requireOpenSSL(tb testing.TB) {
	tb.Helper()
	if err := opensslLoaded(); err != nil {
		tb.Skipf("no OpenSSL here: %v", err)
	}
}

// allAlgs starts with the algorithms the reference server signs with; the others come along.
var allAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.RS384, jose.RS512, jose.PS384, jose.PS512, jose.ES384, jose.ES512}

func jwsSign(t *testing.T, key any, alg jose.SignatureAlgorithm, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: string(alg)}}, nil)
	if err != nil {
		t.Fatalf("%s signer: %v", alg, err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatalf("%s sign: %v", alg, err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func jwsVerify(token string, alg jose.SignatureAlgorithm, key any) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, err
	}
	return jws.Verify(key)
}

// tamper flips one bit of the signature, or of the payload.
func tamper(token string, inPayload bool) string {
	parts := strings.Split(token, ".")
	i := 2
	if inPayload {
		i = 1
	}
	b := []byte(parts[i])
	// Flip a middle character: the last one may carry only padding bits.
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	parts[i] = string(b)
	return strings.Join(parts, ".")
}

// TestCrossVerify: what OpenSSL signs, Go verifies, and the other way round, through go-jose as the
// server uses it; a changed signature or payload is refused by both.
func TestCrossVerify(t *testing.T) {
	requireOpenSSL(t)
	payload := []byte(`{"iss":"https://issuer.example","sub":"s","n":1}`)
	for _, alg := range allAlgs {
		t.Run(string(alg), func(t *testing.T) {
			priv := keyFor(t, alg)
			ossl, err := NewSigner(priv)
			if err != nil {
				t.Fatal(err)
			}
			ver, err := NewVerifier(priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			verifiers := map[string]any{"go": priv.Public(), "openssl": ver}
			for signerName, key := range map[string]any{"go": priv, "openssl": ossl} {
				tok := jwsSign(t, key, alg, payload)
				if !strings.Contains(tok, ".") || strings.Count(tok, ".") != 2 {
					t.Fatalf("not a compact JWS: %s", tok)
				}
				for verName, vk := range verifiers {
					got, err := jwsVerify(tok, alg, vk)
					if err != nil {
						t.Errorf("signed by %s, verified by %s: %v", signerName, verName, err)
					} else if !bytes.Equal(got, payload) {
						t.Errorf("signed by %s, verified by %s: payload %q", signerName, verName, got)
					}
					for _, inPayload := range []bool{false, true} {
						if _, err := jwsVerify(tamper(tok, inPayload), alg, vk); err == nil {
							t.Errorf("signed by %s, verified by %s: tampered token (payload %v) accepted", signerName, verName, inPayload)
						}
					}
				}
			}
		})
	}
}

// TestSignerHeader: go-jose writes alg and kid for an opaque signer as for a plain key.
func TestSignerHeader(t *testing.T) {
	requireOpenSSL(t)
	s, err := NewSigner(keyFor(t, jose.ES256))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(jwsSign(t, s, jose.ES256, []byte("{}")), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if h := jws.Signatures[0].Header; h.Algorithm != "ES256" || h.KeyID != "k1" {
		t.Errorf("header alg %q kid %q, want ES256 k1", h.Algorithm, h.KeyID)
	}
	if n := len(jws.Signatures[0].Signature); n != 64 {
		t.Errorf("ES256 signature is %d bytes, want 64 (r||s)", n)
	}
}

// TestWrongAlgorithm: a key verifies only its own algorithms, as go-jose's do.
func TestWrongAlgorithm(t *testing.T) {
	requireOpenSSL(t)
	payload := []byte("p")
	rsaV, err := NewVerifier(keyFor(t, jose.RS256).Public())
	if err != nil {
		t.Fatal(err)
	}
	ecV, err := NewVerifier(keyFor(t, jose.ES256).Public())
	if err != nil {
		t.Fatal(err)
	}
	ecS, err := NewSigner(keyFor(t, jose.ES256))
	if err != nil {
		t.Fatal(err)
	}
	esSig, err := ecS.SignPayload(payload, jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"ES256 with an RSA key", rsaV.VerifyPayload(payload, esSig, jose.ES256)},
		{"RS256 with an EC key", ecV.VerifyPayload(payload, esSig, jose.RS256)},
		{"ES384 with a P-256 key", ecV.VerifyPayload(payload, esSig, jose.ES384)},
		{"HS256", ecV.VerifyPayload(payload, esSig, jose.HS256)},
		{"ES256 signature too short", ecV.VerifyPayload(payload, esSig[:63], jose.ES256)},
		{"ES256 signature too long", ecV.VerifyPayload(payload, append(esSig[:64:64], 0), jose.ES256)},
		{"ES256 signature all zero", ecV.VerifyPayload(payload, make([]byte, 64), jose.ES256)},
	} {
		if c.err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if err := ecV.VerifyPayload(payload, esSig, jose.ES256); err != nil {
		t.Errorf("the right algorithm: %v", err)
	}
	if _, err := ecS.SignPayload(payload, jose.RS256); err == nil {
		t.Error("an EC key signed RS256")
	}
	if algs := ecS.Algs(); len(algs) != 1 || algs[0] != jose.ES256 {
		t.Errorf("Algs of a P-256 key: %v", algs)
	}
	rsaS, err := NewSigner(keyFor(t, jose.RS256))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := rsaS.SignPayload(payload, jose.RS256)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{sig[:len(sig)-1], append(sig[:len(sig):len(sig)], 0), nil} {
		if rsaV.VerifyPayload(payload, bad, jose.RS256) == nil {
			t.Errorf("RSA signature of %d bytes accepted", len(bad))
		}
	}
	if rsaV.VerifyPayload(payload, sig, jose.PS256) == nil {
		t.Error("an RS256 signature verified as PS256")
	}
}

// TestPSSSaltLength: PS256 signatures carry a 32-byte salt (RFC 7518 §3.5): Go verifies them
// insisting on exactly that length.
func TestPSSSaltLength(t *testing.T) {
	requireOpenSSL(t)
	priv := keyFor(t, jose.PS256).(*rsa.PrivateKey)
	s, err := NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte("payload")
	sig, err := s.SignPayload(payload, jose.PS256)
	if err != nil {
		t.Fatal(err)
	}
	d := digest(crypto.SHA256, payload)
	if err := rsa.VerifyPSS(&priv.PublicKey, crypto.SHA256, d, sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Errorf("salt is not 32 bytes: %v", err)
	}
}

// TestRSAKeyWithoutCRT: a key without precomputed CRT values still converts and signs.
func TestRSAKeyWithoutCRT(t *testing.T) {
	requireOpenSSL(t)
	k := keyFor(t, jose.RS256).(*rsa.PrivateKey)
	bare := &rsa.PrivateKey{PublicKey: k.PublicKey, D: k.D, Primes: k.Primes}
	s, err := NewSigner(bare)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwsVerify(jwsSign(t, s, jose.RS256, []byte("x")), jose.RS256, &k.PublicKey); err != nil {
		t.Error(err)
	}
}

func TestUnsupportedKeys(t *testing.T) {
	requireOpenSSL(t)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(ed); err == nil {
		t.Error("NewSigner took an Ed25519 key")
	}
	if _, err := NewVerifier(ed.Public()); err == nil {
		t.Error("NewVerifier took an Ed25519 key")
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(p224); err == nil {
		t.Error("NewSigner took a P-224 key (no JWS algorithm)")
	}
	small := &rsa.PublicKey{N: new(big.Int).Lsh(big.NewInt(1), 511), E: 65537}
	if _, err := NewVerifier(small); err == nil || !strings.Contains(err.Error(), "512-bit") {
		t.Errorf("NewVerifier of a 512-bit key: %v", err)
	}
}

// TestConcurrentSigning shares one Signer and one Verifier between goroutines, as the server does
// (run with -race).
func TestConcurrentSigning(t *testing.T) {
	requireOpenSSL(t)
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256} {
		t.Run(string(alg), func(t *testing.T) {
			priv := keyFor(t, alg)
			s, err := NewSigner(priv)
			if err != nil {
				t.Fatal(err)
			}
			v, err := NewVerifier(priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: s}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for g := range 8 {
				wg.Go(func() {
					for i := range 25 {
						payload := fmt.Appendf(nil, `{"g":%d,"i":%d}`, g, i)
						jws, err := js.Sign(payload)
						if err == nil {
							var tok string
							if tok, err = jws.CompactSerialize(); err == nil {
								for _, key := range []any{priv.Public(), v} {
									var got []byte
									if got, err = jwsVerify(tok, alg, key); err == nil && !bytes.Equal(got, payload) {
										err = fmt.Errorf("payload %q, want %q", got, payload)
									}
									if err != nil {
										break
									}
								}
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestECDSASignatureForms(t *testing.T) {
	type sigValue struct{ R, S *big.Int }
	cases := []struct{ r, s *big.Int }{
		{big.NewInt(1), big.NewInt(2)},
		{new(big.Int).SetBytes(bytes.Repeat([]byte{0xff}, 32)), big.NewInt(0x80)},                          // high bits: a 0 byte in DER
		{new(big.Int).SetBytes(append([]byte{0, 0, 1}, bytes.Repeat([]byte{7}, 29)...)), big.NewInt(0x7f)}, // short r
	}
	for i := range 20 {
		r, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 256))
		s, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(8*(i+13))))
		cases = append(cases, struct{ r, s *big.Int }{r, s})
	}
	for _, c := range cases {
		jws := make([]byte, 64)
		c.r.FillBytes(jws[:32])
		c.s.FillBytes(jws[32:])
		der, err := jwsToDER(jws)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := asn1.Marshal(sigValue{c.r, c.s})
		if !bytes.Equal(der, want) {
			t.Errorf("jwsToDER(%x) = %x, want %x", jws, der, want)
		}
		back, err := derToJWS(der, 32)
		if err != nil || !bytes.Equal(back, jws) {
			t.Errorf("derToJWS(%x) = %x, %v; want %x", der, back, err, jws)
		}
	}
	// P-521: the sequence needs a long-form length.
	jws := bytes.Repeat([]byte{0x01, 0xff}, 66)
	der, err := jwsToDER(jws)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := derToJWS(der, 66); err != nil || !bytes.Equal(back, jws) {
		t.Errorf("P-521 round trip: %x, %v", back, err)
	}
	for _, bad := range [][]byte{nil, {0x30, 0}, {0x30, 3, 2, 1, 1}, append(der, 0)} {
		if _, err := derToJWS(bad, 32); err == nil {
			t.Errorf("derToJWS(%x) accepted", bad)
		}
	}
	if _, err := derToJWS(der, 32); err == nil {
		t.Error("derToJWS accepted 66-byte integers for a 32-byte curve")
	}
}

// withLoader resets the package's choice for one test and loads libcrypto with load.
func withLoader(t *testing.T, load func() (string, error)) {
	mu.Lock()
	savedLib, savedChosen, savedLoader := lib, chosen, loader
	lib, chosen, loader = nil, nil, load
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		lib, chosen, loader = savedLib, savedChosen, savedLoader
		mu.Unlock()
	})
}

// TestFallback: a machine without libcrypto signs in Go, and says why.
func TestFallback(t *testing.T) {
	t.Setenv(EnvVar, "")
	withLoader(t, func() (string, error) { return "", errors.New("libcrypto.so.3: cannot open shared object file") })
	if Enabled() || Backend() != "go" {
		t.Errorf("Enabled %v, Backend %q; want false, go", Enabled(), Backend())
	}
	if r := FallbackReason(); !strings.Contains(r, "libcrypto.so.3") {
		t.Errorf("FallbackReason %q does not say what failed", r)
	}
	checkGoKeys(t)
	if _, err := NewSigner(keyFor(t, jose.RS256)); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("NewSigner without OpenSSL: %v", err)
	}
	if _, err := NewVerifier(keyFor(t, jose.ES256).Public()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("NewVerifier without OpenSSL: %v", err)
	}
}

// TestEnvSwitch: OAUTH_HARNESS_CRYPTO=go keeps Go without even loading libcrypto.
func TestEnvSwitch(t *testing.T) {
	t.Setenv(EnvVar, "go")
	loaded := false
	withLoader(t, func() (string, error) { loaded = true; return "3.9.9", nil })
	if Enabled() || Backend() != "go" || FallbackReason() != EnvVar+"=go" {
		t.Errorf("Enabled %v, Backend %q, reason %q", Enabled(), Backend(), FallbackReason())
	}
	if loaded {
		t.Error("libcrypto was loaded although Go was forced")
	}
	checkGoKeys(t)
}

// TestChoice: with OpenSSL, RSA keys become OpenSSL keys; ECDSA and Ed25519 stay Go (faster in the server).
func TestChoice(t *testing.T) {
	requireOpenSSL(t)
	t.Setenv(EnvVar, "")
	withLoader(t, loadLibcrypto) // already loaded by requireOpenSSL: openssl.Init is once per process
	if !Enabled() || !strings.HasPrefix(Backend(), "openssl ") || FallbackReason() != "" {
		t.Fatalf("Enabled %v, Backend %q, reason %q", Enabled(), Backend(), FallbackReason())
	}
	t.Logf("backend: %s", Backend())
	priv := keyFor(t, jose.RS256)
	if k, err := SigningKey(priv); err != nil {
		t.Error(err)
	} else if _, ok := k.(*Signer); !ok {
		t.Errorf("RS256 signing key is %T", k)
	}
	if k, err := VerificationKey(priv.Public()); err != nil {
		t.Error(err)
	} else if _, ok := k.(*Verifier); !ok {
		t.Errorf("RS256 verification key is %T", k)
	}
	ec := keyFor(t, jose.ES256)
	if k, err := SigningKey(ec); err != nil || !isSame(k, ec) {
		t.Errorf("ES256 signing key: %T, %v; want the Go key", k, err)
	}
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	if k, err := SigningKey(ed); err != nil || !isSame(k, ed) {
		t.Errorf("Ed25519 signing key: %T, %v", k, err)
	}
}

// checkGoKeys: SigningKey and VerificationKey hand the Go keys back unchanged, and they work.
func checkGoKeys(t *testing.T) {
	t.Helper()
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256} {
		priv := keyFor(t, alg)
		sk, err := SigningKey(priv)
		if err != nil || !isSame(sk, priv) {
			t.Errorf("%s signing key: %T, %v; want the Go key", alg, sk, err)
		}
		vk, err := VerificationKey(priv.Public())
		if err != nil || !isSame(vk, priv.Public()) {
			t.Errorf("%s verification key: %T, %v; want the Go key", alg, vk, err)
		}
		if _, err := jwsVerify(jwsSign(t, sk, alg, []byte("x")), alg, vk); err != nil {
			t.Errorf("%s in Go: %v", alg, err)
		}
	}
}

func isSame(a, b any) bool {
	switch x := a.(type) {
	case interface{ Equal(crypto.PrivateKey) bool }:
		return x.Equal(b)
	case interface{ Equal(crypto.PublicKey) bool }:
		return x.Equal(b)
	}
	return false
}

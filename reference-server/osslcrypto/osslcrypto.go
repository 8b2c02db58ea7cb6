// Package osslcrypto signs and verifies JWS signatures (RS256/384/512, PS256/384/512,
// ES256/384/512) with OpenSSL's libcrypto, loaded at run time, for go-jose: a *Signer is a
// jose.OpaqueSigner and a *Verifier a jose.OpaqueVerifier, so go-jose still builds and parses the
// JWS and only the signature operation moves. RSA-2048 signing is about three times faster in
// OpenSSL 3 than in crypto/rsa, and it is most of the cost of issuing an RS256 token.
//
// OpenSSL is used when libcrypto (libcrypto.so.3) can be loaded, the binary was built with cgo, and
// the environment variable OAUTH_HARNESS_CRYPTO is not "go"; otherwise everything stays in Go (the
// static CGO_ENABLED=0 build always does). SigningKey and VerificationKey make that choice for a
// key; Backend names the result.
package osslcrypto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	_ "crypto/sha256" // the hashes of the supported algorithms
	_ "crypto/sha512"
)

// EnvVar names the environment variable that forces the Go implementation when set to "go" (to
// compare the two, or to rule OpenSSL out while debugging). It is read once, on first use.
const EnvVar = "OAUTH_HARNESS_CRYPTO"

// ErrUnavailable is returned (wrapped, with the reason) when OpenSSL cannot be used.
var ErrUnavailable = errors.New("osslcrypto: OpenSSL is not available")

// library is the outcome of loading libcrypto, done at most once per process.
type library struct {
	version string // "3.0.19"; empty when not loaded
	err     error
}

// choice is the backend SigningKey and VerificationKey use.
type choice struct {
	openssl bool
	backend string // "openssl 3.0.19" or "go"
	reason  string // why Go, when it is
}

var (
	mu     sync.Mutex
	lib    *library
	chosen *choice
	// loader loads libcrypto; tests replace it to simulate a machine without OpenSSL.
	loader = loadLibcrypto
)

// load loads libcrypto on first call and returns the outcome of that attempt ever after.
func load() *library {
	mu.Lock()
	defer mu.Unlock()
	return loadLocked()
}

func loadLocked() *library {
	if lib == nil {
		v, err := loader()
		lib = &library{version: v, err: err}
	}
	return lib
}

// current makes the backend choice on first call.
func current() *choice {
	mu.Lock()
	defer mu.Unlock()
	if chosen != nil {
		return chosen
	}
	chosen = &choice{backend: "go"}
	if v := os.Getenv(EnvVar); strings.EqualFold(v, "go") {
		// Not even loaded: a libcrypto that misbehaves on load is one thing this switch rules out.
		chosen.reason = EnvVar + "=" + v
	} else if l := loadLocked(); l.err != nil {
		chosen.reason = l.err.Error()
	} else {
		chosen.openssl = true
		chosen.backend = "openssl " + l.version
	}
	return chosen
}

// Backend names the implementation SigningKey and VerificationKey choose for RSA and ECDSA keys:
// "openssl 3.0.19" (the loaded library's version) or "go". For the server's start-up log and the
// load-test report.
func Backend() string { return current().backend }

// Enabled reports whether RSA signatures go through OpenSSL.
func Enabled() bool { return current().openssl }

// FallbackReason says why the Go implementation is in use ("" when OpenSSL is).
func FallbackReason() string { return current().reason }

// SigningKey returns what to give go-jose as the signing key for priv: a *Signer when OpenSSL is
// enabled and priv is an RSA key, else priv itself. Convert once per key: the conversion copies the
// key into OpenSSL. ECDSA stays in Go although Signer supports it: measured in the server, Go's
// P-256 was 4% cheaper per token and 9% per validation than the OpenSSL path (the raw signature
// is faster in OpenSSL, but crossing cgo and the cache misses cost more than it saves).
func SigningKey(priv crypto.Signer) (any, error) {
	switch priv.(type) {
	case *rsa.PrivateKey:
		if Enabled() {
			s, err := NewSigner(priv)
			if err != nil {
				return nil, err
			}
			return s, nil
		}
	}
	return priv, nil
}

// VerificationKey returns what to give go-jose to verify with pub: a *Verifier when OpenSSL is
// enabled and pub is an RSA key, else pub itself (ECDSA: see SigningKey).
func VerificationKey(pub crypto.PublicKey) (any, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		if Enabled() {
			v, err := NewVerifier(pub)
			if err != nil {
				return nil, err
			}
			return v, nil
		}
	}
	return pub, nil
}

// opensslLoaded returns nil when libcrypto is loaded (loading it if need be), whatever EnvVar says:
// NewSigner and NewVerifier ask for OpenSSL explicitly.
func opensslLoaded() error {
	if l := load(); l.err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, l.err)
	}
	return nil
}

type keyKind int

const (
	kindRSAPKCS1 keyKind = iota
	kindRSAPSS
	kindECDSA
)

// spec is what an algorithm needs from a key.
type spec struct {
	kind  keyKind
	hash  crypto.Hash
	curve string // ECDSA: the curve's name
	size  int    // ECDSA: bytes of r and of s in a JWS signature (RFC 7518 §3.4)
}

var specs = map[jose.SignatureAlgorithm]spec{
	jose.RS256: {kind: kindRSAPKCS1, hash: crypto.SHA256},
	jose.RS384: {kind: kindRSAPKCS1, hash: crypto.SHA384},
	jose.RS512: {kind: kindRSAPKCS1, hash: crypto.SHA512},
	jose.PS256: {kind: kindRSAPSS, hash: crypto.SHA256},
	jose.PS384: {kind: kindRSAPSS, hash: crypto.SHA384},
	jose.PS512: {kind: kindRSAPSS, hash: crypto.SHA512},
	jose.ES256: {kind: kindECDSA, hash: crypto.SHA256, curve: "P-256", size: 32},
	jose.ES384: {kind: kindECDSA, hash: crypto.SHA384, curve: "P-384", size: 48},
	jose.ES512: {kind: kindECDSA, hash: crypto.SHA512, curve: "P-521", size: 66},
}

var rsaAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512}

// ecdsaAlg is the one algorithm for a curve.
func ecdsaAlg(curve string) (jose.SignatureAlgorithm, bool) {
	for alg, s := range specs {
		if s.kind == kindECDSA && s.curve == curve {
			return alg, true
		}
	}
	return "", false
}

func digest(h crypto.Hash, payload []byte) []byte {
	d := h.New()
	d.Write(payload)
	return d.Sum(nil)
}

// privateOps is a private key held by OpenSSL: digest in, signature out (ASN.1 DER for ECDSA).
type privateOps interface {
	sign(s spec, digest []byte) ([]byte, error)
}

// publicOps is a public key held by OpenSSL.
type publicOps interface {
	verify(s spec, digest, sig []byte) error
}

// Signer is a jose.OpaqueSigner backed by an OpenSSL copy of an RSA or ECDSA private key. It is
// safe for concurrent use: each signature gets its own OpenSSL context, and OpenSSL 3 allows a key
// to be shared by concurrent operations that do not modify it.
type Signer struct {
	pub  jose.JSONWebKey
	algs []jose.SignatureAlgorithm
	ops  privateOps
}

// NewSigner copies priv (*rsa.PrivateKey, or *ecdsa.PrivateKey on P-256, P-384 or P-521) into
// OpenSSL. It loads libcrypto if need be and ignores EnvVar (tests and benchmarks compare the two
// implementations); the error wraps ErrUnavailable when OpenSSL cannot be loaded.
func NewSigner(priv crypto.Signer) (*Signer, error) {
	if err := opensslLoaded(); err != nil {
		return nil, err
	}
	s := &Signer{pub: jose.JSONWebKey{Key: priv.Public()}}
	var err error
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if err = checkRSASize(k.N.BitLen()); err != nil {
			return nil, err
		}
		s.algs = rsaAlgs
		s.ops, err = newRSAPrivate(k)
	case *ecdsa.PrivateKey:
		alg, ok := ecdsaAlg(k.Curve.Params().Name)
		if !ok {
			return nil, fmt.Errorf("osslcrypto: no JWS algorithm for ECDSA curve %s", k.Curve.Params().Name)
		}
		s.pub.Algorithm = string(alg)
		s.algs = []jose.SignatureAlgorithm{alg}
		s.ops, err = newECDSAPrivate(k)
	default:
		return nil, fmt.Errorf("osslcrypto: cannot sign with a %T key in OpenSSL", priv)
	}
	if err != nil {
		return nil, fmt.Errorf("osslcrypto: copy the private key into OpenSSL: %w", err)
	}
	return s, nil
}

// checkRSASize refuses what crypto/rsa refuses (below 1024 bits), so that both implementations
// accept the same keys.
func checkRSASize(bits int) error {
	if bits < 1024 {
		return fmt.Errorf("osslcrypto: %d-bit RSA key is insecure (fewer than 1024 bits)", bits)
	}
	return nil
}

// Public implements jose.OpaqueSigner.
func (s *Signer) Public() *jose.JSONWebKey {
	k := s.pub
	return &k
}

// Algs implements jose.OpaqueSigner: RS* and PS* for RSA, the curve's ES* for ECDSA.
func (s *Signer) Algs() []jose.SignatureAlgorithm { return slices.Clone(s.algs) }

// SignPayload implements jose.OpaqueSigner. ECDSA signatures come as JWS wants them, r||s, each
// left-padded to the curve size; PSS uses a salt as long as the hash (RFC 7518 §3.5).
func (s *Signer) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if !slices.Contains(s.algs, alg) {
		return nil, fmt.Errorf("osslcrypto: this key cannot sign %s", alg)
	}
	sp := specs[alg]
	sig, err := s.ops.sign(sp, digest(sp.hash, payload))
	if err != nil {
		return nil, fmt.Errorf("osslcrypto: %s sign: %w", alg, err)
	}
	if sp.kind == kindECDSA {
		if sig, err = derToJWS(sig, sp.size); err != nil {
			return nil, fmt.Errorf("osslcrypto: %s sign: %w", alg, err)
		}
	}
	return sig, nil
}

// Verifier is a jose.OpaqueVerifier backed by an OpenSSL copy of an RSA or ECDSA public key. It is
// safe for concurrent use.
type Verifier struct {
	curve string // ECDSA: the key's curve; empty for RSA
	ops   publicOps
}

// NewVerifier copies pub (*rsa.PublicKey, or *ecdsa.PublicKey on P-256, P-384 or P-521) into
// OpenSSL. Like NewSigner, it ignores EnvVar.
func NewVerifier(pub crypto.PublicKey) (*Verifier, error) {
	if err := opensslLoaded(); err != nil {
		return nil, err
	}
	v := &Verifier{}
	var err error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if err = checkRSASize(k.N.BitLen()); err != nil {
			return nil, err
		}
		v.ops, err = newRSAPublic(k)
	case *ecdsa.PublicKey:
		v.curve = k.Curve.Params().Name
		if _, ok := ecdsaAlg(v.curve); !ok {
			return nil, fmt.Errorf("osslcrypto: no JWS algorithm for ECDSA curve %s", v.curve)
		}
		v.ops, err = newECDSAPublic(k)
	default:
		return nil, fmt.Errorf("osslcrypto: cannot verify with a %T key in OpenSSL", pub)
	}
	if err != nil {
		return nil, fmt.Errorf("osslcrypto: copy the public key into OpenSSL: %w", err)
	}
	return v, nil
}

// VerifyPayload implements jose.OpaqueVerifier. It accepts what go-jose accepts with the same key:
// the algorithm must fit the key (and an ECDSA key's curve), ES* signatures are r||s of exactly
// twice the curve size, and PS* salts of any length verify (go-jose verifies with
// rsa.PSSSaltLengthAuto).
func (v *Verifier) VerifyPayload(payload, signature []byte, alg jose.SignatureAlgorithm) error {
	sp, ok := specs[alg]
	switch {
	case !ok:
		return fmt.Errorf("osslcrypto: cannot verify %s", alg)
	case (sp.kind == kindECDSA) != (v.curve != ""), sp.kind == kindECDSA && sp.curve != v.curve:
		key := "an RSA key"
		if v.curve != "" {
			key = "a " + v.curve + " ECDSA key"
		}
		return fmt.Errorf("osslcrypto: %s signatures do not come from %s", alg, key)
	}
	sig := signature
	if sp.kind == kindECDSA {
		if len(signature) != 2*sp.size {
			return fmt.Errorf("osslcrypto: %s signature is %d bytes, want %d", alg, len(signature), 2*sp.size)
		}
		var err error
		if sig, err = jwsToDER(signature); err != nil {
			return fmt.Errorf("osslcrypto: %s signature: %w", alg, err)
		}
	}
	if err := v.ops.verify(sp, digest(sp.hash, payload), sig); err != nil {
		return fmt.Errorf("osslcrypto: %s signature does not verify", alg)
	}
	return nil
}

// derToJWS turns an ASN.1 ECDSA-Sig-Value (OpenSSL's form) into r||s of size bytes each.
func derToJWS(der []byte, size int) ([]byte, error) {
	var r, s []byte
	in, seq := cryptobyte.String(der), cryptobyte.String(nil)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1Integer(&r) || !seq.ReadASN1Integer(&s) || !seq.Empty() {
		return nil, errors.New("malformed ECDSA signature from OpenSSL")
	}
	r, s = trimZero(r), trimZero(s)
	if len(r) > size || len(s) > size {
		return nil, errors.New("ECDSA signature from OpenSSL is too long for the curve")
	}
	out := make([]byte, 2*size)
	copy(out[size-len(r):size], r)
	copy(out[2*size-len(s):], s)
	return out, nil
}

// trimZero drops the single 0 byte cryptobyte returns for the integer zero.
func trimZero(b []byte) []byte {
	if len(b) == 1 && b[0] == 0 {
		return nil
	}
	return b
}

// jwsToDER turns r||s into an ASN.1 ECDSA-Sig-Value for OpenSSL.
func jwsToDER(sig []byte) ([]byte, error) {
	half := len(sig) / 2
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		addUnsigned(b, sig[:half])
		addUnsigned(b, sig[half:])
	})
	return b.Bytes()
}

// addUnsigned appends a big-endian unsigned integer as a minimal DER INTEGER.
func addUnsigned(b *cryptobyte.Builder, n []byte) {
	for len(n) > 0 && n[0] == 0 {
		n = n[1:]
	}
	b.AddASN1(asn1.INTEGER, func(b *cryptobyte.Builder) {
		if len(n) == 0 || n[0]&0x80 != 0 {
			b.AddUint8(0)
		}
		b.AddBytes(n)
	})
}

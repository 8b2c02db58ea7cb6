//go:build cgo && unix

package osslcrypto

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-fips/openssl/v2"
	"github.com/golang-fips/openssl/v2/bbig"
)

// libcryptoNames are tried in order. openssl.Init takes effect once per process, even when it
// fails, so a name is only given to it after CheckVersion has found the file loadable.
var libcryptoNames = []string{
	"libcrypto.so.3",    // Linux, OpenSSL 3 (Debian/Ubuntu package libssl3, RHEL openssl-libs)
	"libcrypto.3.dylib", // macOS (Homebrew openssl@3, when on the loader path)
	"libcrypto.so",      // a development symlink, whatever version it names
}

// loadLibcrypto loads the first libcrypto found and returns its version ("3.0.19").
func loadLibcrypto() (version string, err error) {
	name := ""
	for _, n := range libcryptoNames {
		if ok, _ := openssl.CheckVersion(n); ok {
			name = n
			break
		}
	}
	if name == "" {
		return "", fmt.Errorf("no libcrypto found (tried %s)", strings.Join(libcryptoNames, ", "))
	}
	if err := openssl.Init(name); err != nil {
		return "", fmt.Errorf("load %s: %w", name, err)
	}
	// "OpenSSL 3.0.19 27 Jan 2026": the second word is the version.
	text := openssl.VersionText()
	if f := strings.Fields(text); len(f) >= 2 {
		return f[1], nil
	}
	return text, nil
}

type rsaPrivate struct{ k *openssl.PrivateKeyRSA }

func newRSAPrivate(k *rsa.PrivateKey) (privateOps, error) {
	if len(k.Primes) != 2 {
		return nil, fmt.Errorf("RSA key with %d primes: only two are supported", len(k.Primes))
	}
	p, q := k.Primes[0], k.Primes[1]
	dp, dq, qinv := k.Precomputed.Dp, k.Precomputed.Dq, k.Precomputed.Qinv
	if dp == nil || dq == nil || qinv == nil {
		// Without the CRT values OpenSSL signs about four times slower; compute them here rather
		// than call k.Precompute, which would modify a key others may be reading.
		one := big.NewInt(1)
		dp = new(big.Int).Mod(k.D, new(big.Int).Sub(p, one))
		dq = new(big.Int).Mod(k.D, new(big.Int).Sub(q, one))
		if qinv = new(big.Int).ModInverse(q, p); qinv == nil {
			return nil, errors.New("RSA key: q has no inverse mod p")
		}
	}
	ok, err := openssl.NewPrivateKeyRSA(bbig.Enc(k.N), bbig.Enc(big.NewInt(int64(k.E))), bbig.Enc(k.D),
		bbig.Enc(p), bbig.Enc(q), bbig.Enc(dp), bbig.Enc(dq), bbig.Enc(qinv))
	if err != nil {
		return nil, err
	}
	return rsaPrivate{ok}, nil
}

func (r rsaPrivate) sign(s spec, digest []byte) ([]byte, error) {
	if s.kind == kindRSAPSS {
		return openssl.SignRSAPSS(r.k, s.hash, digest, s.hash.Size())
	}
	return openssl.SignRSAPKCS1v15(r.k, s.hash, digest)
}

type rsaPublic struct{ k *openssl.PublicKeyRSA }

func newRSAPublic(k *rsa.PublicKey) (publicOps, error) {
	ok, err := openssl.NewPublicKeyRSA(bbig.Enc(k.N), bbig.Enc(big.NewInt(int64(k.E))))
	if err != nil {
		return nil, err
	}
	return rsaPublic{ok}, nil
}

func (r rsaPublic) verify(s spec, digest, sig []byte) error {
	if s.kind == kindRSAPSS {
		// Salt length 0 is "auto-detect" when verifying, as rsa.PSSSaltLengthAuto in go-jose.
		return openssl.VerifyRSAPSS(r.k, s.hash, digest, sig, 0)
	}
	return openssl.VerifyRSAPKCS1v15(r.k, s.hash, digest, sig)
}

type ecdsaPrivate struct{ k *openssl.PrivateKeyECDSA }

func newECDSAPrivate(k *ecdsa.PrivateKey) (privateOps, error) {
	x, y, err := ecdsaPoint(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	d, err := k.Bytes()
	if err != nil {
		return nil, err
	}
	ok, err := openssl.NewPrivateKeyECDSA(k.Curve.Params().Name, x, y, bbig.Enc(new(big.Int).SetBytes(d)))
	if err != nil {
		return nil, err
	}
	return ecdsaPrivate{ok}, nil
}

func (e ecdsaPrivate) sign(_ spec, digest []byte) ([]byte, error) {
	return openssl.SignMarshalECDSA(e.k, digest)
}

type ecdsaPublic struct{ k *openssl.PublicKeyECDSA }

func newECDSAPublic(k *ecdsa.PublicKey) (publicOps, error) {
	x, y, err := ecdsaPoint(k)
	if err != nil {
		return nil, err
	}
	ok, err := openssl.NewPublicKeyECDSA(k.Curve.Params().Name, x, y)
	if err != nil {
		return nil, err
	}
	return ecdsaPublic{ok}, nil
}

func (e ecdsaPublic) verify(_ spec, digest, sig []byte) error {
	if !openssl.VerifyECDSA(e.k, digest, sig) {
		return errors.New("ECDSA signature does not verify")
	}
	return nil
}

// ecdsaPoint returns the public point through PublicKey.Bytes, which also checks it is on the curve
// (the X and Y fields are deprecated).
func ecdsaPoint(k *ecdsa.PublicKey) (x, y openssl.BigInt, err error) {
	b, err := k.Bytes()
	if err != nil {
		return nil, nil, err
	}
	n := (len(b) - 1) / 2 // 0x04 || X || Y
	return bbig.Enc(new(big.Int).SetBytes(b[1 : 1+n])), bbig.Enc(new(big.Int).SetBytes(b[1+n:])), nil
}

package osslcrypto

// Go and OpenSSL side by side in one binary, so that the ratio holds on a busy machine:
//
//	go test -run '^$' -bench . -count 5 ./reference-server/osslcrypto/
//
// Raw* is the signature operation alone (hash included), what go-jose delegates to the key; JWS* is
// what the server pays per token: go-jose signing and serializing, or parsing and verifying. Besides
// ns/op (wall time), single-goroutine benchmarks report cpu-ns/op, the CPU time of their thread
// (Linux), which other processes on the machine disturb much less.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"runtime"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

var benchAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256}

// benchPayload is about the size of an access token's claims.
var benchPayload = []byte(`{"iss":"https://localhost/t/acme","sub":"acme-sync@clients","aud":"https://api.example",` +
	`"exp":1900000000,"iat":1800000000,"jti":"` + strings.Repeat("j", 22) + `","client_id":"acme-sync",` +
	`"azp":"acme-sync","scope":"contacts:read contacts:write","gty":"client-credentials"}`)

// goSign is what go-jose does with a Go key.
func goSign(priv crypto.Signer, alg jose.SignatureAlgorithm, payload []byte) ([]byte, error) {
	sp := specs[alg]
	d := digest(sp.hash, payload)
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if sp.kind == kindRSAPSS {
			return rsa.SignPSS(rand.Reader, k, sp.hash, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(nil, k, sp.hash, d)
	default:
		r, s, err := ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), d)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 2*sp.size)
		r.FillBytes(out[:sp.size])
		s.FillBytes(out[sp.size:])
		return out, nil
	}
}

// goVerify is what go-jose does with a Go key.
func goVerify(pub crypto.PublicKey, alg jose.SignatureAlgorithm, payload, sig []byte) bool {
	sp := specs[alg]
	d := digest(sp.hash, payload)
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if sp.kind == kindRSAPSS {
			return rsa.VerifyPSS(k, sp.hash, d, sig, nil) == nil
		}
		return rsa.VerifyPKCS1v15(k, sp.hash, d, sig) == nil
	default:
		r := new(big.Int).SetBytes(sig[:sp.size])
		s := new(big.Int).SetBytes(sig[sp.size:])
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), d, r, s)
	}
}

// benchBackends runs f for Go and for OpenSSL (when it loads) with the keys of alg.
func benchBackends(b *testing.B, f func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, ossl *Signer, ver *Verifier)) {
	for _, alg := range benchAlgs {
		b.Run(string(alg)+"/go", func(b *testing.B) { f(b, alg, keyFor(b, alg), nil, nil) })
		b.Run(string(alg)+"/openssl", func(b *testing.B) {
			requireOpenSSL(b)
			priv := keyFor(b, alg)
			s, err := NewSigner(priv)
			if err != nil {
				b.Fatal(err)
			}
			v, err := NewVerifier(priv.Public())
			if err != nil {
				b.Fatal(err)
			}
			f(b, alg, priv, s, v)
		})
	}
}

// loop runs f b.N times on one locked thread and reports that thread's CPU time per call.
func loop(b *testing.B, f func() error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	if end := threadCPU(); end > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
	}
}

func BenchmarkRawSign(b *testing.B) {
	benchBackends(b, func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, s *Signer, _ *Verifier) {
		loop(b, func() (err error) {
			if s != nil {
				_, err = s.SignPayload(benchPayload, alg)
			} else {
				_, err = goSign(priv, alg, benchPayload)
			}
			return err
		})
	})
}

func BenchmarkRawVerify(b *testing.B) {
	benchBackends(b, func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, _ *Signer, v *Verifier) {
		sig, err := goSign(priv, alg, benchPayload)
		if err != nil {
			b.Fatal(err)
		}
		loop(b, func() error {
			if v != nil {
				return v.VerifyPayload(benchPayload, sig, alg)
			}
			if !goVerify(priv.Public(), alg, benchPayload, sig) {
				return errors.New("signature does not verify")
			}
			return nil
		})
	})
}

func jwsSigner(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, s *Signer) jose.Signer {
	var key any = priv
	if s != nil {
		key = s
	}
	js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: "k1", Algorithm: string(alg)}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		b.Fatal(err)
	}
	return js
}

func jwsSignOnce(js jose.Signer) (string, error) {
	jws, err := js.Sign(benchPayload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func BenchmarkJWSSign(b *testing.B) {
	benchBackends(b, func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, s *Signer, _ *Verifier) {
		js := jwsSigner(b, alg, priv, s)
		b.ReportAllocs()
		loop(b, func() error {
			_, err := jwsSignOnce(js)
			return err
		})
	})
}

func BenchmarkJWSVerify(b *testing.B) {
	benchBackends(b, func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, _ *Signer, v *Verifier) {
		tok, err := jwsSignOnce(jwsSigner(b, alg, priv, nil))
		if err != nil {
			b.Fatal(err)
		}
		var key any = priv.Public()
		if v != nil {
			key = v
		}
		b.ReportAllocs()
		loop(b, func() error {
			_, err := jwsVerify(tok, alg, key)
			return err
		})
	})
}

// BenchmarkParallelSign signs from every core at once with one shared key: ns/op falls with the
// core count unless something inside serializes, and proc-cpu-ns/op (the whole process's CPU time)
// stays near the single-goroutine cpu-ns/op unless threads spin or bounce on shared state.
func BenchmarkParallelSign(b *testing.B) {
	benchBackends(b, func(b *testing.B, alg jose.SignatureAlgorithm, priv crypto.Signer, s *Signer, _ *Verifier) {
		js := jwsSigner(b, alg, priv, s)
		start := processCPU()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := jwsSignOnce(js); err != nil {
					b.Error(err)
					return
				}
			}
		})
		if end := processCPU(); end > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "proc-cpu-ns/op")
		}
	})
}

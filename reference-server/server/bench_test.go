package server_test

// Benchmarks of the two hot paths, each beside the bare cryptographic cost of the same algorithm on
// the same machine, so a result reads as a ratio to the ceiling:
//
//	go test -run XXX -bench . -benchtime 2s ./reference-server/server/
//
// The handler is called directly (no sockets), so ns/op of these single-goroutine benchmarks is the
// server's CPU per request.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

var benchAlgs = []string{tenant.RS256, tenant.PS256, tenant.ES256, tenant.EdDSA, tenant.HS256}

// startWithAlg starts the default tenant with the contacts API signing with alg.
func startWithAlg(b *testing.B, alg string) *server.Server {
	cfg := servertest.Tenant(b)
	for i := range cfg.APIs {
		if cfg.APIs[i].Identifier == cfg.ContactsAPI {
			cfg.APIs[i].SigningAlg = alg
			cfg.APIs[i].SigningSecret = ""
			if alg == tenant.HS256 {
				cfg.APIs[i].SigningSecret = strings.Repeat("s", 32)
			}
		}
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	return servertest.Start(b, server.Options{Tenant: cfg})
}

func clientCredentialsRequest(b *testing.B) (string, string) {
	secret := servertest.Credentials(b).Clients["acme-sync"]
	return "grant_type=client_credentials", "Basic " + basic("acme-sync", secret)
}

func basic(id, secret string) string {
	r := &http.Request{Header: http.Header{}}
	r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func serve(b *testing.B, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: status %d: %s", r.Method, r.URL.Path, w.Code, w.Body)
	}
	return w
}

// reportProcessCPU adds proc-cpu-ns/op: the process's CPU time per operation since start, garbage
// collection on the other cores included.
func reportProcessCPU(b *testing.B, start int64) {
	if end := processCPU(); end > 0 && start > 0 {
		b.ReportMetric(float64(end-start)/float64(b.N), "proc-cpu-ns/op")
	}
}

// BenchmarkClientCredentials is the token-issuance hot path: client authentication, client grant,
// claims, signature, JSON response.
func BenchmarkClientCredentials(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			s := startWithAlg(b, alg)
			h := s.Handler()
			body, auth := clientCredentialsRequest(b)
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, oauth.PathToken, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Authorization", auth)
				serve(b, h, r)
			}
			reportProcessCPU(b, start)
		})
	}
}

// BenchmarkAPIValidation is the validation hot path: the contacts API checks a token and answers.
func BenchmarkAPIValidation(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			s := startWithAlg(b, alg)
			h := s.Handler()
			body, auth := clientCredentialsRequest(b)
			r := httptest.NewRequest(http.MethodPost, oauth.PathToken, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", auth)
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(serve(b, h, r).Body.Bytes(), &tok); err != nil {
				b.Fatal(err)
			}
			// The first call fetches the JWKS over loopback; the loop measures the cached path.
			get := func() *http.Request {
				r := httptest.NewRequest(http.MethodGet, "/api/accounts/globex/contacts", nil)
				r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				return r
			}
			serve(b, h, get())
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				serve(b, h, get())
			}
			reportProcessCPU(b, start)
		})
	}
}

// bareSigner signs a SHA-256 digest (or message, for EdDSA/HMAC) with the raw primitive.
type bareSigner struct {
	sign   func(msg []byte) []byte
	verify func(msg, sig []byte) bool
}

func bare(b *testing.B, alg string) bareSigner {
	kr := servertest.Keys(b)
	digest := func(m []byte) []byte { d := sha256.Sum256(m); return d[:] }
	switch alg {
	case tenant.RS256, tenant.PS256:
		key := kr.Active(jose.SignatureAlgorithm(alg)).Private.(*rsa.PrivateKey)
		if alg == tenant.PS256 {
			opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
			return bareSigner{
				sign:   func(m []byte) []byte { s, _ := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest(m), opts); return s },
				verify: func(m, s []byte) bool { return rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, digest(m), s, opts) == nil },
			}
		}
		return bareSigner{
			sign:   func(m []byte) []byte { s, _ := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest(m)); return s },
			verify: func(m, s []byte) bool { return rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest(m), s) == nil },
		}
	case tenant.ES256:
		key := kr.Active(jose.ES256).Private.(*ecdsa.PrivateKey)
		return bareSigner{
			sign:   func(m []byte) []byte { s, _ := ecdsa.SignASN1(rand.Reader, key, digest(m)); return s },
			verify: func(m, s []byte) bool { return ecdsa.VerifyASN1(&key.PublicKey, digest(m), s) },
		}
	case tenant.EdDSA:
		key := kr.Active(jose.EdDSA).Private.(ed25519.PrivateKey)
		pub := key.Public().(ed25519.PublicKey)
		return bareSigner{
			sign:   func(m []byte) []byte { return ed25519.Sign(key, m) },
			verify: func(m, s []byte) bool { return ed25519.Verify(pub, m, s) },
		}
	default:
		key := []byte(strings.Repeat("s", 32))
		mac := func(m []byte) []byte { h := hmac.New(sha256.New, key); h.Write(m); return h.Sum(nil) }
		return bareSigner{sign: mac, verify: func(m, s []byte) bool { return hmac.Equal(mac(m), s) }}
	}
}

// benchMessage is about the size of a signing input of an access token.
var benchMessage = []byte(strings.Repeat("x", 480))

// BenchmarkBareSign is the ceiling for issuance: the signature primitive alone.
func BenchmarkBareSign(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			s := bare(b, alg)
			for b.Loop() {
				if len(s.sign(benchMessage)) == 0 {
					b.Fatal("empty signature")
				}
			}
		})
	}
}

// BenchmarkBareVerify is the ceiling for validation: the verification primitive alone.
func BenchmarkBareVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		b.Run(alg, func(b *testing.B) {
			s := bare(b, alg)
			sig := s.sign(benchMessage)
			for b.Loop() {
				if !s.verify(benchMessage, sig) {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

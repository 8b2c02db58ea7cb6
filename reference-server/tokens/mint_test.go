package tokens_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

const (
	issuer       = "https://as.example"
	accountClaim = "https://contacts.example/accounts"
	hsSecret     = "0123456789abcdef0123456789abcdef-shared"
)

func minter(t *testing.T) *tokens.Minter {
	return &tokens.Minter{Issuer: issuer, Keys: servertest.Keys(t), AccountClaim: accountClaim}
}

func claims(now time.Time) *tokens.AccessClaims {
	return &tokens.AccessClaims{Issuer: issuer, Subject: "user-sam", Audience: "https://api.example",
		Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), JTI: tokens.Random(16), ClientID: "acme-cms",
		AZP: "acme-cms", Scope: "read:contacts update:contacts", AuthTime: now.Unix()}
}

// verify checks a compact JWS the way a third party would, returning its header and claims.
func verify(t *testing.T, tok string, alg jose.SignatureAlgorithm, key any) (jose.Header, map[string]any) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse %s token: %v", alg, err)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		t.Fatalf("%s token does not verify: %v", alg, err)
	}
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, payload)
	}
	return jws.Signatures[0].Header, m
}

func TestAccessTokenPerAlgorithm(t *testing.T) {
	m := minter(t)
	kr := servertest.Keys(t)
	now := time.Now()
	for _, alg := range tenant.SigningAlgs {
		t.Run(alg, func(t *testing.T) {
			api := &tenant.API{Identifier: "https://api.example", SigningAlg: alg}
			var key any
			if alg == tenant.HS256 {
				api.SigningSecret = hsSecret
				key = []byte(hsSecret)
			} else {
				key = kr.Active(jose.SignatureAlgorithm(alg)).Private.Public()
			}
			c := claims(now)
			tok, err := m.AccessToken(api, c, []string{"globex", "initech"})
			if err != nil {
				t.Fatal(err)
			}
			h, got := verify(t, tok, jose.SignatureAlgorithm(alg), key)
			if h.ExtraHeaders[jose.HeaderType] != tokens.TypeAccessToken {
				t.Errorf("typ = %v, want at+jwt", h.ExtraHeaders[jose.HeaderType])
			}
			wantKID := tokens.HSKeyID(api.Identifier, hsSecret)
			if alg != tenant.HS256 {
				wantKID = kr.Active(jose.SignatureAlgorithm(alg)).KID
			}
			if h.KeyID != wantKID || h.KeyID == "" {
				t.Errorf("kid = %q, want %q", h.KeyID, wantKID)
			}
			for name, want := range map[string]any{"iss": issuer, "sub": "user-sam", "aud": "https://api.example",
				"client_id": "acme-cms", "scope": "read:contacts update:contacts", "jti": c.JTI,
				"exp": float64(c.Expiry), "iat": float64(c.IssuedAt)} {
				if got[name] != want {
					t.Errorf("claim %s = %v, want %v", name, got[name], want)
				}
			}
			if _, ok := got["gty"]; ok {
				t.Error("a user token carries gty")
			}
			acc, _ := got[accountClaim].([]any)
			if len(acc) != 2 || acc[0] != "globex" || acc[1] != "initech" {
				t.Errorf("account claim = %v", got[accountClaim])
			}
		})
	}
}

func TestAccessTokenWithoutAccounts(t *testing.T) {
	m := minter(t)
	api := &tenant.API{Identifier: "https://api.example", SigningAlg: tenant.ES256}
	c := claims(time.Now())
	c.Subject, c.GrantType, c.AuthTime = "acme-sync", tokens.GrantTypeClientCredentials, 0
	tok, err := m.AccessToken(api, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, got := verify(t, tok, jose.ES256, servertest.Keys(t).Active(jose.ES256).Private.Public())
	if _, ok := got[accountClaim]; ok {
		t.Error("account claim present without accounts")
	}
	if got["gty"] != "client-credentials" {
		t.Errorf("gty = %v", got["gty"])
	}
	if _, ok := got["auth_time"]; ok {
		t.Error("auth_time present in a client-credentials token")
	}
}

func TestHS256TokensAreBoundToTheAPISecret(t *testing.T) {
	m := minter(t)
	a := &tenant.API{Identifier: "https://a.example", SigningAlg: tenant.HS256, SigningSecret: hsSecret}
	b := &tenant.API{Identifier: "https://b.example", SigningAlg: tenant.HS256, SigningSecret: strings.Repeat("b", 32)}
	tokA, err := m.AccessToken(a, claims(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	tokB, err := m.AccessToken(b, claims(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, tokB, jose.HS256, []byte(b.SigningSecret)) // the cache did not hand b a's signer
	jws, err := jose.ParseSignedCompact(tokA, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jws.Verify([]byte(b.SigningSecret)); err == nil {
		t.Error("API a's token verifies with API b's secret")
	}
	// A rotated secret for the same API must take effect.
	a2 := *a
	a2.SigningSecret = strings.Repeat("r", 40)
	tok2, err := m.AccessToken(&a2, claims(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, tok2, jose.HS256, []byte(a2.SigningSecret))
}

func TestAccountClaimNameIsEscaped(t *testing.T) {
	m := minter(t)
	m.AccountClaim = `https://x.example/"odd"\claim`
	tok, err := m.AccessToken(&tenant.API{SigningAlg: tenant.RS256}, claims(time.Now()), []string{`a"b`})
	if err != nil {
		t.Fatal(err)
	}
	_, got := verify(t, tok, jose.RS256, servertest.Keys(t).Active(jose.RS256).Private.Public())
	if acc, _ := got[m.AccountClaim].([]any); len(acc) != 1 || acc[0] != `a"b` {
		t.Errorf("claim %q = %v", m.AccountClaim, got[m.AccountClaim])
	}
}

func TestIDToken(t *testing.T) {
	m := minter(t)
	yes := true
	c := &tokens.IDClaims{Issuer: issuer, Subject: "user-paul", Audience: "contacts-web", Expiry: time.Now().Add(time.Hour).Unix(),
		IssuedAt: time.Now().Unix(), AuthTime: time.Now().Unix(), Nonce: "n-0S6_WzA2Mj", AZP: "contacts-web",
		AtHash: tokens.AtHash("at"), Email: "paul@globex.example", EmailVerified: &yes}
	tok, err := m.IDToken(c)
	if err != nil {
		t.Fatal(err)
	}
	h, got := verify(t, tok, jose.RS256, servertest.Keys(t).Active(jose.RS256).Private.Public())
	if h.ExtraHeaders[jose.HeaderType] != tokens.TypeIDToken {
		t.Errorf("typ = %v, want JWT", h.ExtraHeaders[jose.HeaderType])
	}
	if got["nonce"] != c.Nonce || got["at_hash"] != c.AtHash || got["email_verified"] != true || got["aud"] != "contacts-web" {
		t.Errorf("claims = %v", got)
	}
}

func TestAtHash(t *testing.T) {
	cases := []struct{ name, token, want string }{
		// OpenID Connect Core 1.0, Appendix A.3 (response_type=id_token token).
		{"OIDC Core example", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y", "77QmUPtjPfzWtF2AnpK9RQ"},
		{"empty token", "", func() string {
			s := sha256.Sum256(nil)
			return base64.RawURLEncoding.EncodeToString(s[:16])
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tokens.AtHash(tc.token); got != tc.want {
				t.Errorf("AtHash(%q) = %q, want %q", tc.token, got, tc.want)
			}
		})
	}
}

func TestRandom(t *testing.T) {
	for _, n := range []int{1, 16, 32, 33} {
		s := tokens.Random(n)
		if len(s) != base64.RawURLEncoding.EncodedLen(n) {
			t.Errorf("Random(%d) has %d characters, want %d", n, len(s), base64.RawURLEncoding.EncodedLen(n))
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != n {
			t.Errorf("Random(%d) = %q is not %d base64url bytes (%v)", n, s, n, err)
		}
	}
	seen := map[string]bool{}
	for range 10000 {
		s := tokens.Random(16)
		if seen[s] {
			t.Fatalf("Random(16) repeated %q", s)
		}
		seen[s] = true
	}
	if tokens.Random(0) != "" {
		t.Error("Random(0) is not empty")
	}
}

func TestHash(t *testing.T) {
	if tokens.Hash("rt") != sha256.Sum256([]byte("rt")) || tokens.Hash("a") == tokens.Hash("b") {
		t.Error("Hash is not SHA-256 of the token")
	}
}

func TestConcurrentMinting(t *testing.T) {
	m := minter(t)
	apis := []*tenant.API{
		{Identifier: "https://a.example", SigningAlg: tenant.HS256, SigningSecret: hsSecret},
		{Identifier: "https://b.example", SigningAlg: tenant.ES256},
		{Identifier: "https://c.example", SigningAlg: tenant.EdDSA},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var toks []string
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := m.AccessToken(apis[i%len(apis)], claims(time.Now()), []string{"globex"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			toks = append(toks, tok)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(toks)
	if len(slices.Compact(toks)) != 12 {
		t.Error("concurrent minting produced duplicate tokens")
	}
}

// RFC 9068 tokens name their key; an HS256 kid identifies the API's secret without revealing it.
func TestHS256TokensHaveAKeyID(t *testing.T) {
	m := minter(t)
	api := &tenant.API{Identifier: "https://billing.example", SigningAlg: tenant.HS256, SigningSecret: hsSecret}
	tok, err := m.AccessToken(api, claims(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := verify(t, tok, jose.HS256, []byte(hsSecret))
	sum := sha256.Sum256([]byte(api.Identifier + "\x00" + hsSecret))
	if want := "hs256-" + hex.EncodeToString(sum[:])[:16]; h.KeyID != want {
		t.Errorf("kid = %q, want %q", h.KeyID, want)
	}
	if strings.Contains(h.KeyID, hsSecret[:8]) {
		t.Errorf("kid %q shows the secret", h.KeyID)
	}
	if h.Algorithm != string(jose.HS256) || h.ExtraHeaders[jose.HeaderType] != tokens.TypeAccessToken {
		t.Errorf("header alg=%q typ=%v", h.Algorithm, h.ExtraHeaders[jose.HeaderType])
	}
	for name, other := range map[string]string{
		"another API, same secret": tokens.HSKeyID("https://other.example", hsSecret),
		"same API, rotated secret": tokens.HSKeyID(api.Identifier, strings.Repeat("r", 40)),
	} {
		if other == h.KeyID {
			t.Errorf("%s: same kid %q", name, other)
		}
	}
}

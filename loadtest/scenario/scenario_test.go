package scenario

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/oauth-harness/oauth-harness/steps/target"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ecJWK makes a private ES256 JWK in JSON, as a profile holds one.
func ecJWK(t testing.TB) (string, *ecdsa.PublicKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := jose.JSONWebKey{Key: k, KeyID: "k1", Algorithm: "ES256"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b), &k.PublicKey
}

// fakeEnv is a profile with one client per authentication method, all granted the API.
func fakeEnv(t testing.TB, tokenURL string) *Env {
	key, _ := ecJWK(t)
	grant := map[string][]string{"Contacts API": {"read:contacts"}}
	p := &target.Profile{Name: "fake", Issuer: "http://127.0.0.1:1", APIBaseURL: "http://127.0.0.1:1/api",
		APIs: map[string]target.API{"Contacts API": {Identifier: "https://api.example", SigningAlg: "RS256",
			Scopes: map[string]string{"read:contacts": "Read"}}},
		Clients: map[string]target.Client{
			"Basic":   {ClientID: "basic-id", ClientSecret: "s e/cret", AuthMethod: AuthBasic, Grants: grant},
			"Post":    {ClientID: "post-id", ClientSecret: "post-secret", AuthMethod: AuthPost, Grants: grant},
			"Signer":  {ClientID: "jwt-id", PrivateKey: key, AuthMethod: AuthJWT, Grants: grant},
			"NoGrant": {ClientID: "other", ClientSecret: "x", AuthMethod: AuthBasic},
		},
		Users: map[string]target.User{"paul": {Username: "p", Password: "p", Accounts: []string{"globex"}}},
	}
	return &Env{Profile: p, Endpoints: Endpoints{Token: tokenURL, JWKS: "http://127.0.0.1:1/jwks"}, Client: http.DefaultClient}
}

func TestClientCredentialsTargetsEveryClientWithItsMethod(t *testing.T) {
	env := fakeEnv(t, "http://127.0.0.1:1/token")
	sc, err := New(context.Background(), env, ClientCredentials, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	jtis := map[string]bool{}
	for range 9 {
		var tg vegeta.Target
		if err := sc.Targeter(&tg); err != nil {
			t.Fatal(err)
		}
		req, err := tg.Request()
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodPost || req.URL.String() != env.Endpoints.Token ||
			req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Fatalf("request %s %s %v", req.Method, req.URL, req.Header)
		}
		form, _ := url.ParseQuery(string(tg.Body))
		if form.Get("grant_type") != "client_credentials" || form.Get("resource") != "https://api.example" { // RFC 8707, the default dialect
			t.Errorf("form %v", form)
		}
		switch {
		case req.Header.Get("Authorization") != "":
			id, secret, ok := req.BasicAuth()
			if !ok || id != "basic-id" || secret != url.QueryEscape("s e/cret") {
				t.Errorf("basic credentials %q %q: want the form-encoded id and secret (RFC 6749 §2.3.1)", id, secret)
			}
			seen[AuthBasic]++
		case form.Get("client_secret") != "":
			if form.Get("client_id") != "post-id" || form.Get("client_secret") != "post-secret" {
				t.Errorf("post credentials %v", form)
			}
			seen[AuthPost]++
		default:
			if form.Get("client_assertion_type") != assertionType {
				t.Fatalf("no client authentication in %v", form)
			}
			tok, err := jwt.ParseSigned(form.Get("client_assertion"), []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatal(err)
			}
			var c jwt.Claims
			_ = tok.UnsafeClaimsWithoutVerification(&c)
			if c.Issuer != "jwt-id" || c.Subject != "jwt-id" || !c.Audience.Contains(env.Endpoints.Token) || c.ID == "" ||
				c.Expiry.Time().Sub(c.IssuedAt.Time()) > 5*time.Minute {
				t.Errorf("assertion claims %+v", c)
			}
			if jtis[c.ID] {
				t.Errorf("jti %s reused: the server's replay cache would refuse it", c.ID)
			}
			jtis[c.ID] = true
			seen[AuthJWT]++
		}
	}
	if seen[AuthBasic] != 3 || seen[AuthPost] != 3 || seen[AuthJWT] != 3 {
		t.Errorf("methods used %v, want each client in turn", seen)
	}
	if len(sc.Crypto) != 2 || sc.Crypto[1].Alg != "ES256" || !sc.Crypto[1].Verify {
		t.Errorf("crypto %v: want an RS256 sign and a third of an ES256 verify", sc.Crypto)
	}
}

func TestAssertionVerifiesWithThePublicKey(t *testing.T) {
	key, pub := ecJWK(t)
	a, err := newClientAuth(target.Client{ClientID: "c", PrivateKey: key, AuthMethod: AuthJWT}, "http://as/token")
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.assertion(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(s, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	if err := tok.Claims(pub, &c); err != nil {
		t.Fatalf("the assertion does not verify: %v", err)
	}
	if tok.Headers[0].KeyID != "k1" {
		t.Errorf("kid %q", tok.Headers[0].KeyID)
	}
}

// client_secret_jwt: a fresh HS256 assertion per request, keyed with the client's secret.
func TestSecretJWTAssertionVerifiesWithTheSecret(t *testing.T) {
	secret := "a-client-secret-of-at-least-32-bytes"
	a, err := newClientAuth(target.Client{ClientID: "c", ClientSecret: secret, AuthMethod: AuthSecretJWT}, "http://as/token")
	if err != nil {
		t.Fatal(err)
	}
	if !a.perRequest() {
		t.Error("client_secret_jwt assertions are single-use: each request needs its own")
	}
	form := url.Values{}
	if err := a.apply(form, http.Header{}); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(form.Get("client_assertion"), []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.Claims
	if err := tok.Claims([]byte(secret), &c); err != nil {
		t.Fatalf("the assertion does not verify with the secret: %v", err)
	}
	if c.Issuer != "c" || c.Subject != "c" || !c.Audience.Contains("http://as/token") || c.ID == "" {
		t.Errorf("claims %+v", c)
	}
	if form.Get("client_assertion_type") != assertionType || form.Get("client_id") != "c" {
		t.Errorf("form %v", form)
	}
}

func TestBadClientKeysAreRefused(t *testing.T) {
	for _, c := range []target.Client{
		{ClientID: "a", AuthMethod: AuthJWT, PrivateKey: "{"},
		{ClientID: "b", AuthMethod: AuthJWT, PrivateKey: `{"kty":"EC","crv":"P-256","x":"z38qxA6kjc0O4-SkQcU0jcQYZc73knZRPxDPIzcb6VE","y":"0abzSD67pG1XzZEMFTiYn84G6hEYSB_EBL6uOl-OV5g"}`},
		{ClientID: "c", AuthMethod: "tls_client_auth"},
	} {
		if _, err := newClientAuth(c, "x"); err == nil {
			t.Errorf("%s accepted", c.ClientID)
		}
	}
}

func TestUnknownScenarioAndMissingGrants(t *testing.T) {
	env := fakeEnv(t, "http://127.0.0.1:1/token")
	if _, err := New(context.Background(), env, "nope", Options{}); err == nil || !strings.Contains(err.Error(), "client-credentials") {
		t.Errorf("unknown scenario: %v", err)
	}
	if _, err := New(context.Background(), env, ClientCredentials, Options{API: "Billing"}); err == nil {
		t.Error("an unknown API was accepted")
	}
	env.Profile.Capabilities = []string{target.CapClientCredentials}
	if _, err := New(context.Background(), env, Introspect, Options{}); err == nil || !strings.Contains(err.Error(), "introspection") {
		t.Errorf("missing capability: %v", err)
	}
}

// rotatingServer is a token endpoint that rotates refresh tokens and remembers every token spent.
type rotatingServer struct {
	mu     sync.Mutex
	live   map[string]bool // issued and not yet spent
	reused []string
	n      int
}

func (s *rotatingServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	rt := r.PostForm.Get("refresh_token")
	s.mu.Lock()
	if !s.live[rt] {
		s.reused = append(s.reused, rt)
		s.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
		return
	}
	delete(s.live, rt)
	s.n++
	next := rand.Text()
	s.live[next] = true
	s.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "at", "refresh_token": next})
}

func TestRefreshRotationNeverReusesAToken(t *testing.T) {
	srv := &rotatingServer{live: map[string]bool{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	pool := newRefreshPool(16)
	for range 16 {
		tok := rand.Text()
		srv.live[tok] = true
		pool.give(tok)
	}
	auth, _ := newClientAuth(target.Client{ClientID: "c", ClientSecret: "s"}, ts.URL)
	sc := refreshScenario(ts.URL, auth, pool)
	// Many concurrent workers over a small pool: each token is in flight once, then replaced.
	atk := vegeta.NewAttacker(vegeta.Workers(8), vegeta.MaxWorkers(8))
	var failed, ok int
	for r := range atk.Attack(sc.Targeter, vegeta.ConstantPacer{Freq: 400, Per: time.Second}, time.Second, "refresh") {
		sc.Observe(r)
		if r.Code != http.StatusOK || r.Error != "" {
			failed++
		} else {
			ok++
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.reused) > 0 || failed > 0 {
		t.Fatalf("%d tokens presented twice, %d failures", len(srv.reused), failed)
	}
	// The pool holds 16 tokens: anything above that went through rotation.
	if srv.n != ok || ok <= 16 {
		t.Errorf("%d refreshes served, %d results: want the same, and more than the pool", srv.n, ok)
	}
}

func TestRefreshPoolRefusesASeenToken(t *testing.T) {
	p := newRefreshPool(2)
	if p.give("a") || p.give("b") {
		t.Fatal("fresh tokens refused")
	}
	tok, err := p.take(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !p.give(tok) {
		t.Error("a spent token was taken back")
	}
	if !p.give("b") {
		t.Error("a pooled token was taken twice")
	}
	if p.give("c") {
		t.Error("a new token was reported as seen")
	}
	_, _ = p.take(time.Millisecond)
	_, _ = p.take(time.Millisecond)
	if _, err := p.take(time.Millisecond); err == nil {
		t.Error("an empty pool handed out a token")
	}
}

func TestCodePoolDropsExpiredCodes(t *testing.T) {
	var p codePool
	now := time.Now()
	p.add(mintedCode{code: "old", at: now.Add(-time.Minute)}, mintedCode{code: "new", at: now})
	c, err := p.take(now)
	if err != nil || c.code != "new" {
		t.Fatalf("take = %v, %v", c, err)
	}
	if _, err := p.take(now); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("empty pool: %v", err)
	}
	p.add(mintedCode{code: "a", at: now.Add(-30 * time.Second)}, mintedCode{code: "b", at: now})
	p.prune(now, 20*time.Second)
	if p.len() != 1 {
		t.Errorf("%d codes after pruning, want the fresh one", p.len())
	}
}

func TestMixSchedule(t *testing.T) {
	mix := map[string]int{API: 3, JWKS: 1, Refresh: 0}
	s := schedule(mix)
	if len(s) != 4 || strings.Count(strings.Join(s, ","), API) != 3 {
		t.Fatalf("schedule %v", s)
	}
	for _, bad := range []string{"api", "api=x", "nope=1", "mixed=2", "api=0", "api=-1"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	m, err := ParseMix(" api=5, jwks=1 ,")
	if err != nil || m[API] != 5 || m[JWKS] != 1 {
		t.Errorf("ParseMix = %v, %v", m, err)
	}
}

func TestSelectors(t *testing.T) {
	for _, s := range []string{"#username", "input[name=email]", `[name="pw"]`} {
		if _, err := selector(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := selector("form > input:first-child"); err == nil {
		t.Error("a complex selector was accepted")
	}
}

func TestCodeFrom(t *testing.T) {
	u, _ := url.Parse("https://app/cb?code=c1&state=s1&iss=x")
	if c, err := codeFrom(u, "s1"); err != nil || c != "c1" {
		t.Errorf("codeFrom = %q, %v", c, err)
	}
	for _, raw := range []string{"https://app/cb?code=c1&state=other", "https://app/cb?error=login_required&state=s1", "https://app/cb?state=s1"} {
		u, _ := url.Parse(raw)
		if _, err := codeFrom(u, "s1"); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}

func TestClientsOption(t *testing.T) {
	env := fakeEnv(t, "http://127.0.0.1:1/token")
	sc, err := New(context.Background(), env, ClientCredentials, Options{Clients: []string{"post-id"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var tg vegeta.Target
		_ = sc.Targeter(&tg)
		if form, _ := url.ParseQuery(string(tg.Body)); form.Get("client_id") != "post-id" {
			t.Errorf("form %v: want only the chosen client", form)
		}
	}
	if _, err := New(context.Background(), env, ClientCredentials, Options{Clients: []string{"nobody"}}); err == nil {
		t.Error("an unknown client was accepted")
	}
}

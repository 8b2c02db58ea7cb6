package oauth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const bot = "acme-reports-bot"

// TestPrivateKeyJWTWithOAuth2Client: a real client (x/oauth2 clientcredentials) authenticates with a
// client assertion signed by the bot's key, and the token works at the contacts API.
func TestPrivateKeyJWTWithOAuth2Client(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	for _, aud := range []string{e.url(oauth.PathToken), e.issuer} {
		t.Run("aud "+aud, func(t *testing.T) {
			cc := clientcredentials.Config{ClientID: bot, TokenURL: e.url(oauth.PathToken), AuthStyle: oauth2.AuthStyleInParams,
				EndpointParams: withAssertion(url.Values{}, e.assertion(t, bot, map[string]any{"aud": aud}))}
			tok, err := cc.Token(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			c := decodeJWT(t, tok.AccessToken).Claims
			if c["sub"] != bot || c["client_id"] != bot || c["scope"] != "read:contacts" || c["gty"] != "client-credentials" {
				t.Errorf("claims %v", c)
			}
			if got := e.apiGet(t, tok.AccessToken, "/accounts/globex/contacts"); got != http.StatusOK {
				t.Errorf("the bot's token is refused by the API: %d", got)
			}
		})
	}
}

// TestClientAssertionChecks: each rule of RFC 7523 §3 and OIDC Core §9, broken one at a time.
func TestClientAssertionChecks(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	now := clock.Now()
	otherEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	botKey, err := e.creds.ClientKey(bot)
	if err != nil {
		t.Fatal(err)
	}
	// A key the bot never registered, under the registered kid.
	impostor := jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: otherEC, KeyID: botKey.KeyID}}
	hs := jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: []byte(strings.Repeat("k", 32)), KeyID: botKey.KeyID}}
	replayed := e.assertion(t, bot, nil)
	if r := e.token(withAssertion(url.Values{"grant_type": {"client_credentials"}}, replayed)); r.Status != http.StatusOK {
		t.Fatalf("first use of an assertion: %d %s", r.Status, r.Raw)
	}
	good := func(set map[string]any) string { return e.assertion(t, bot, set) }
	cases := []struct {
		name      string
		assertion string
		form      url.Values // more parameters
		opts      []reqOpt
		status    int
		code      string
	}{
		{"valid", good(nil), nil, nil, 200, ""},
		{"aud an array with the token endpoint", good(map[string]any{"aud": []string{"https://other.example", e.url(oauth.PathToken)}}), nil, nil, 200, ""},
		{"exp just under five minutes", good(map[string]any{"exp": now.Add(4*time.Minute + 50*time.Second).Unix()}), nil, nil, 200, ""},
		{"matching client_id in the body", good(nil), url.Values{"client_id": {bot}}, nil, 200, ""},
		{"no iat, no nbf", good(map[string]any{"iat": nil}), nil, nil, 200, ""},
		{"replayed jti", replayed, nil, nil, 401, "invalid_client"},
		{"aud another server", good(map[string]any{"aud": "https://other.example/token"}), nil, nil, 401, "invalid_client"},
		{"aud the introspection endpoint", good(map[string]any{"aud": e.url(oauth.PathIntrospect)}), nil, nil, 401, "invalid_client"},
		{"no aud", good(map[string]any{"aud": nil}), nil, nil, 401, "invalid_client"},
		{"iss differs from sub", good(map[string]any{"iss": "acme-sync"}), nil, nil, 401, "invalid_client"},
		{"sub another client", good(map[string]any{"sub": "acme-sync", "iss": "acme-sync"}), nil, nil, 401, "invalid_client"},
		{"no sub", good(map[string]any{"sub": nil}), nil, nil, 401, "invalid_client"},
		{"no exp", good(map[string]any{"exp": nil}), nil, nil, 401, "invalid_client"},
		{"expired", good(map[string]any{"exp": now.Add(-time.Minute).Unix(), "iat": now.Add(-2 * time.Minute).Unix()}), nil, nil, 401, "invalid_client"},
		{"exp ten minutes ahead (long-lived)", good(map[string]any{"exp": now.Add(10 * time.Minute).Unix()}), nil, nil, 401, "invalid_client"},
		{"exp a year ahead", good(map[string]any{"exp": now.Add(365 * 24 * time.Hour).Unix()}), nil, nil, 401, "invalid_client"},
		{"nbf in the future", good(map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}), nil, nil, 401, "invalid_client"},
		{"iat in the future", good(map[string]any{"iat": now.Add(2 * time.Minute).Unix()}), nil, nil, 401, "invalid_client"},
		{"exp not a number", good(map[string]any{"exp": "soon"}), nil, nil, 401, "invalid_client"},
		{"no jti", good(map[string]any{"jti": nil}), nil, nil, 401, "invalid_client"},
		{"jti too long", good(map[string]any{"jti": strings.Repeat("j", 300)}), nil, nil, 401, "invalid_client"},
		{"signed by another key under the bot's kid", e.signAssertion(t, impostor, bot, nil), nil, nil, 401, "invalid_client"},
		{"HS256 (symmetric algorithms refused)", e.signAssertion(t, hs, bot, nil), nil, nil, 401, "invalid_client"},
		{"alg none", unsignedJWT(t, bot, e.url(oauth.PathToken)), nil, nil, 401, "invalid_client"},
		{"unknown kid", e.signAssertion(t, jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: otherEC, KeyID: "nope"}}, bot, nil), nil, nil, 401, "invalid_client"},
		{"not a JWT", "not-a-jwt", nil, nil, 401, "invalid_client"},
		{"too large", good(map[string]any{"pad": strings.Repeat("p", 9000)}), nil, nil, 401, "invalid_client"},
		{"another client_id in the body", good(nil), url.Values{"client_id": {"acme-sync"}}, nil, 401, "invalid_client"},
		{"wrong assertion type", good(nil), url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}}, nil, 401, "invalid_client"},
		{"assertion and client_secret", good(nil), url.Values{"client_secret": {"x"}}, nil, 400, "invalid_request"},
		{"assertion and Basic", good(nil), nil, []reqOpt{basicAuth("acme-sync", e.creds.Clients["acme-sync"])}, 400, "invalid_request"},
		{"assertion without its type", good(nil), url.Values{"client_assertion_type": {""}}, nil, 400, "invalid_request"},
		{"a secret client presenting an assertion", e.signAssertion(t, impostor, "acme-sync", nil), nil, nil, 401, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := withAssertion(url.Values{"grant_type": {"client_credentials"}}, c.assertion)
			for k, v := range c.form {
				if v[0] == "" {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			r := e.in(t).token(form, c.opts...)
			if c.status == 200 {
				if r.Status != 200 || r.str("access_token") == "" {
					t.Errorf("%d %s, want a token", r.Status, r.Raw)
				}
				return
			}
			expectError(t, r, c.status, c.code)
		})
	}
	t.Run("the bot cannot use a secret", func(t *testing.T) {
		r := e.in(t).token(url.Values{"grant_type": {"client_credentials"}}, basicAuth(bot, "anything"))
		expectError(t, r, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("a used jti is free again once the assertion expired", func(t *testing.T) {
		jti := randomString()
		first := e.token(withAssertion(url.Values{"grant_type": {"client_credentials"}}, good(map[string]any{"jti": jti})))
		clock.Advance(3 * time.Minute)
		later := e.token(withAssertion(url.Values{"grant_type": {"client_credentials"}}, e.assertion(t, bot, map[string]any{"jti": jti})))
		if first.Status != 200 || later.Status != 200 {
			t.Errorf("jti reused after the first assertion expired: %d then %d %s", first.Status, later.Status, later.Raw)
		}
	})
}

// unsignedJWT is an alg=none token (RFC 7519 §6): it must never authenticate anyone.
func unsignedJWT(t testing.TB, clientID, aud string) string {
	t.Helper()
	header := `{"alg":"none","typ":"JWT"}`
	claims := `{"iss":"` + clientID + `","sub":"` + clientID + `","aud":"` + aud + `","jti":"` + randomString() +
		`","exp":` + itoa(time.Now().Add(time.Minute).Unix()) + `}`
	return b64(header) + "." + b64(claims) + "."
}

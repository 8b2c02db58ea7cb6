package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// FuzzClientAssertion feeds client assertions to the token endpoint two ways: as raw strings (the
// parser must never panic, and must refuse anything the bot's key did not sign), and as claim sets
// signed with the bot's real key, so that the claim checks themselves are explored. Whenever a
// token is issued, an independent reading of the claims must agree that they were acceptable.
func FuzzClientAssertion(f *testing.F) {
	srv := servertest.Start(f, server.Options{})
	h := srv.Handler()
	creds := servertest.Credentials(f)
	key, err := creds.ClientKey(bot)
	if err != nil {
		f.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, nil)
	if err != nil {
		f.Fatal(err)
	}
	pub := key.Public()
	tokenURL := srv.IssuerURL() + oauth.PathToken
	now := time.Now().Unix()
	claims := func(kv ...any) string {
		m := map[string]any{"iss": bot, "sub": bot, "aud": tokenURL, "jti": randomString(), "iat": now, "exp": now + 120}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	sign := func(payload []byte) string {
		jws, err := signer.Sign(payload)
		if err != nil {
			return ""
		}
		s, _ := jws.CompactSerialize()
		return s
	}
	for _, c := range []string{
		claims(), claims("aud", []string{"x", srv.IssuerURL()}), claims("exp", now+3600), claims("exp", 1e300),
		claims("exp", -1), claims("nbf", now+600), claims("jti", ""), claims("iss", "acme-sync"), claims("aud", nil), claims("aud", "https://other.example"),
		claims("iat", now+600), claims("jti", strings.Repeat("j", 257)), claims("exp", now-120),
		`{"iss":"x","iss":"` + bot + `","sub":"` + bot + `","aud":"` + tokenURL + `","exp":` + itoa(now+60) + `,"jti":"d"}`,
		`{"exp":"` + itoa(now+60) + `"}`, `[]`, `null`, ``,
	} {
		f.Add(sign([]byte(c)), []byte(c))
	}
	f.Add("eyJhbGciOiJub25lIn0.e30.", []byte("{}"))
	f.Add(strings.Repeat("a.", 5000), []byte(`{"iss":`))

	post := func(t *testing.T, assertion string) (int, map[string]any) {
		form := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {oauth.AssertionTypeJWTBearer},
			"client_assertion": {assertion}}
		req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var reply map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
			t.Fatalf("status %d with a body that is not JSON: %q", rec.Code, rec.Body)
		}
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code == http.StatusUnauthorized && reply["error"] == "invalid_client":
		case rec.Code == http.StatusBadRequest && reply["error"] == "invalid_request":
		default:
			t.Fatalf("status %d %v, want 200, 401 invalid_client or 400 invalid_request", rec.Code, reply)
		}
		return rec.Code, reply
	}
	f.Fuzz(func(t *testing.T, raw string, payload []byte) {
		if status, _ := post(t, raw); status == http.StatusOK {
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatalf("a token for an assertion go-jose cannot parse: %q", raw)
			}
			got, err := jws.Verify(pub)
			if err != nil {
				t.Fatalf("a token for an assertion the bot's key did not sign: %q", raw)
			}
			payload = got // and check its claims below
		} else if raw = sign(payload); raw == "" {
			return
		} else if status, _ := post(t, raw); status != http.StatusOK {
			return
		}
		if why := refuseClaims(payload, tokenURL, srv.IssuerURL(), time.Now()); why != "" {
			t.Errorf("a token for an assertion that should fail (%s): %s", why, payload)
		}
	})
}

// refuseClaims reads assertion claims independently of the server and says why they must be refused,
// or "" when they are acceptable: iss = sub = bot, the server as audience, exp within five minutes
// (with 30 s of skew either way), a jti, nbf and iat not in the future.
func refuseClaims(payload []byte, tokenURL, issuer string, now time.Time) string {
	// Member names are matched exactly, as JWT claim names are (encoding/json folds case on structs).
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return "not a JSON object of claims"
	}
	str := func(k string) string {
		var s string
		_ = json.Unmarshal(m[k], &s)
		return s
	}
	num := func(k string) *float64 {
		var f float64
		if _, ok := m[k]; !ok || json.Unmarshal(m[k], &f) != nil {
			return nil
		}
		return &f
	}
	aud := []string{str("aud")}
	var list []string
	if json.Unmarshal(m["aud"], &list) == nil {
		aud = list
	}
	skew, n := float64(30), float64(now.Unix())
	exp, nbf, iat := num("exp"), num("nbf"), num("iat")
	switch {
	case str("iss") != bot || str("sub") != bot:
		return "iss/sub"
	case !slices.Contains(aud, tokenURL) && !slices.Contains(aud, issuer):
		return "aud"
	case exp == nil || *exp < n-skew-1 || *exp > n+300+skew+1:
		return "exp"
	case str("jti") == "" || len(str("jti")) > 256:
		return "jti"
	case nbf != nil && *nbf > n+skew+1, iat != nil && *iat > n+skew+1:
		return "nbf/iat"
	}
	return ""
}

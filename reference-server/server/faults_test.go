package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"golang.org/x/oauth2"
)

func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// Faults set through the admin API reach the client under test: 5xx answers on one endpoint for one
// client, already-expired tokens, clock skew and tampered ID tokens.
func TestFaultsThroughTheAdminAPI(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	w := &world{t: t, srv: srv, creds: servertest.Credentials(t).Clients, paul: servertest.NewBrowser(t, srv.Addr())}
	set := func(cfg string) {
		t.Helper()
		var v any
		_ = json.Unmarshal([]byte(cfg), &v)
		if code, body := w.admin(http.MethodPut, "/faults", v); code != 200 {
			t.Fatalf("PUT /admin/faults %s: %d %s", cfg, code, body)
		}
	}

	t.Run("5xx on the token endpoint for one client", func(t *testing.T) {
		w.t = t
		set(`{"rules":[{"path":"/token","client_id":"acme-sync","error_rate":1}]}`)
		if code, body := w.cc("acme-sync", nil); code != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" {
			t.Errorf("acme-sync: %d %v, want 503 temporarily_unavailable", code, body)
		}
		if code, _ := w.token(url.Values{"grant_type": {"client_credentials"}, "client_id": {"contacts-importer"},
			"client_secret": {w.creds["contacts-importer"]}}, "", ""); code != 200 {
			t.Errorf("another client: %d, want 200", code)
		}
	})
	t.Run("already expired access tokens, and the expiry defect", func(t *testing.T) {
		w.t = t
		set(`{"tokens":[{"client_id":"acme-sync","access_token_lifetime":"0s"}]}`)
		_, tok := w.cc("acme-sync", nil)
		at := str(tok, "access_token")
		if exp, _ := claimsOf(t, at)["exp"].(float64); time.Unix(int64(exp), 0).After(time.Now().Add(-time.Minute)) {
			t.Errorf("exp %v is not beyond the leeway in the past", exp)
		}
		if code := w.api(http.MethodGet, "/accounts/globex/contacts", at); code != http.StatusUnauthorized {
			t.Errorf("API with an expired token: %d, want 401", code)
		}
		w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{"api-ignores-expiry"}})
		if code := w.api(http.MethodGet, "/accounts/globex/contacts", at); code != http.StatusOK {
			t.Errorf("API ignoring expiry: %d, want 200", code)
		}
		w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{}})
	})
	t.Run("clock skew", func(t *testing.T) {
		w.t = t
		set(`{"tokens":[{"client_id":"acme-sync","clock_skew":"-1h"}]}`)
		_, tok := w.cc("acme-sync", nil)
		iat, _ := claimsOf(t, str(tok, "access_token"))["iat"].(float64)
		if d := time.Since(time.Unix(int64(iat), 0)); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("iat is %v ago, want about 1h", d)
		}
	})
	for _, how := range []string{"wrong-nonce", "wrong-iss", "wrong-aud", "bad-signature"} {
		t.Run("ID token "+how, func(t *testing.T) {
			w.t = t
			set(`{"tokens":[{"client_id":"contacts-web","id_token":"` + how + `"}]}`)
			v := oauth2.GenerateVerifier()
			a := w.authorize(func(q url.Values) {
				q.Set("nonce", "n-123")
				q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(v))
				q.Set("code_challenge_method", "S256")
			})
			_, tok := w.redeem("contacts-web", a.Redirect.Query().Get("code"), v)
			idt := str(tok, "id_token")
			c := claimsOf(t, idt)
			jws, err := jose.ParseSignedCompact(idt, []jose.SignatureAlgorithm{jose.RS256})
			if err != nil {
				t.Fatal(err)
			}
			_, verr := jws.Verify(servertest.Keys(t).Active(jose.RS256).Private.Public())
			tampered := map[string]bool{
				"wrong-nonce":   c["nonce"] != "n-123",
				"wrong-iss":     c["iss"] != srv.IssuerURL(),
				"wrong-aud":     c["aud"] != "contacts-web",
				"bad-signature": verr != nil,
			}
			for k, v := range tampered {
				if v != (k == how) {
					t.Errorf("%s: %s tampered = %v (claims %v, signature error %v)", how, k, v, c, verr)
				}
			}
		})
	}
	w.t = t
	set(`{}`)
	if code, _ := w.cc("acme-sync", nil); code != 200 {
		t.Errorf("after clearing the faults: %d", code)
	}
}

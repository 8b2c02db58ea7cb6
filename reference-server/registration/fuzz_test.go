package registration_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// FuzzRegister feeds arbitrary client metadata to dynamic registration: it must never panic, must
// answer 201 or an RFC 7591 §3.2.2 error, and a registered client must be third-party.
func FuzzRegister(f *testing.F) {
	srv := servertest.Start(f, server.Options{})
	h := srv.Handler()
	for _, body := range []string{
		`{"redirect_uris":["https://client.example/cb"],"client_name":"Fuzz"}`,
		`{"redirect_uris":["http://127.0.0.1:8080/cb"],"token_endpoint_auth_method":"none"}`,
		`{"redirect_uris":["https://client.example/cb#frag"]}`,
		`{"redirect_uris":[],"grant_types":["client_credentials"]}`,
		`{"redirect_uris":"nope"}`, `[]`, `{`, ``, `null`,
		`{"redirect_uris":["https://x.example/cb"],"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}}`,
	} {
		f.Add(body)
	}
	allowed := map[string]bool{"invalid_redirect_uri": true, "invalid_client_metadata": true, "invalid_request": true}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oidc/register", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d with a body that is not JSON: %q", w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusCreated:
			id, _ := out["client_id"].(string)
			app := srv.Tenant.Application(id)
			if app == nil || app.FirstParty {
				t.Fatalf("registered %q: application %+v, want a third-party app", id, app)
			}
		case http.StatusBadRequest, http.StatusTooManyRequests: // 429: the cap on registered clients
			if code, _ := out["error"].(string); !allowed[code] {
				t.Fatalf("%d with error %q", w.Code, code)
			}
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

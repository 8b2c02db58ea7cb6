package registration_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/registration"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// Open registration holds at most a fixed number of clients: past it, 429 (the client may retry
// once registrations are deleted). Only clients registered here count, and deleted ones stop counting.
func TestRegistrationLimit(t *testing.T) {
	defer registration.SetClientLimit(3)()
	s := servertest.Start(t, server.Options{})
	endpoint := s.IssuerURL() + oauth.PathRegister
	var regs []response
	for i := range 3 {
		r := call(t, http.MethodPost, endpoint, "", webClient())
		if r.Status != http.StatusCreated {
			t.Fatalf("registration %d: %d %s", i, r.Status, r.Raw)
		}
		regs = append(regs, r)
	}
	before := len(s.Tenant.Config().Applications)
	full := call(t, http.MethodPost, endpoint, "", webClient())
	if full.Status != http.StatusTooManyRequests || full.str("error") != "invalid_client_metadata" ||
		full.str("error_description") != "the server holds the maximum number of registered clients" {
		t.Fatalf("registration past the limit: %d %s", full.Status, full.Raw)
	}
	if got := len(s.Tenant.Config().Applications); got != before {
		t.Errorf("a refused registration added %d applications", got-before)
	}

	// Deleted through RFC 7592: a place frees up.
	if got := call(t, http.MethodDelete, regs[0].str("registration_client_uri"), regs[0].str("registration_access_token"), nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", got.Status, got.Raw)
	}
	if r := call(t, http.MethodPost, endpoint, "", webClient()); r.Status != http.StatusCreated {
		t.Fatalf("registration after an RFC 7592 delete: %d %s", r.Status, r.Raw)
	}
	// Deleted through the admin API: likewise.
	if got := adminCall(t, s, http.MethodDelete, "/applications/"+regs[1].str("client_id"), nil); got.Status != http.StatusNoContent {
		t.Fatalf("admin delete: %d %s", got.Status, got.Raw)
	}
	if r := call(t, http.MethodPost, endpoint, "", webClient()); r.Status != http.StatusCreated {
		t.Fatalf("registration after an admin delete: %d %s", r.Status, r.Raw)
	}
	// Applications created by the admin API do not count.
	if got := adminCall(t, s, http.MethodPost, "/applications", map[string]any{"name": "Admin Made", "type": "regular_web",
		"redirect_uris": []string{"https://admin.example/cb"}, "grant_types": []string{"authorization_code"}}); got.Status != http.StatusCreated {
		t.Fatalf("admin create: %d %s", got.Status, got.Raw)
	}
	if r := call(t, http.MethodPost, endpoint, "", webClient()); r.Status != http.StatusTooManyRequests {
		t.Fatalf("registration past the limit again: %d %s", r.Status, r.Raw)
	}
}

// The metadata of one client is bounded; each violation is a 400 naming the member.
func TestMetadataLimits(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	endpoint := s.IssuerURL() + oauth.PathRegister
	long := strings.Repeat("a", 2049)
	uris := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("https://app.example/cb%d", i))
		}
		return out
	}
	mails := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("ops%d@app.example", i))
		}
		return out
	}
	key := func(kid string) map[string]any {
		return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid, "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
	}
	var keys []map[string]any
	for i := range 6 {
		keys = append(keys, key(fmt.Sprint("k", i)))
	}
	base := func() map[string]any { return map[string]any{"redirect_uris": []string{"https://app.example/cb"}} }
	cases := []struct {
		name     string
		change   func(map[string]any)
		code     string
		mentions string
	}{
		{"11 redirect URIs", func(m map[string]any) { m["redirect_uris"] = uris(11) }, "invalid_redirect_uri", "redirect_uris"},
		{"long redirect URI", func(m map[string]any) { m["redirect_uris"] = []string{"https://app.example/" + long} }, "invalid_redirect_uri", "redirect_uris[0]"},
		{"11 contacts", func(m map[string]any) { m["contacts"] = mails(11) }, "invalid_client_metadata", "contacts"},
		{"long contact", func(m map[string]any) { m["contacts"] = []string{"ops@app.example", long} }, "invalid_client_metadata", "contacts[1]"},
		{"long client_uri", func(m map[string]any) { m["client_uri"] = "https://app.example/" + long }, "invalid_client_metadata", "client_uri"},
		{"long software_id", func(m map[string]any) { m["software_id"] = long }, "invalid_client_metadata", "software_id"},
		{"long software_version", func(m map[string]any) { m["software_version"] = long }, "invalid_client_metadata", "software_version"},
		{"long scope", func(m map[string]any) { m["scope"] = long }, "invalid_client_metadata", "scope"},
		{"long grant type", func(m map[string]any) { m["grant_types"] = []string{long} }, "invalid_client_metadata", "grant_types[0]"},
		{"6 keys", func(m map[string]any) {
			m["token_endpoint_auth_method"] = "private_key_jwt"
			m["jwks"] = map[string]any{"keys": keys}
		}, "invalid_client_metadata", "jwks"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.change(m)
			got := call(t, http.MethodPost, endpoint, "", m)
			desc := got.str("error_description")
			bound := strings.Contains(desc, "longer than 2048 bytes") || strings.Contains(desc, "more than")
			if got.Status != http.StatusBadRequest || got.str("error") != tc.code || !strings.Contains(desc, tc.mentions) || !bound {
				t.Errorf("%d %s; want 400 %s naming %s and its bound", got.Status, got.Raw, tc.code, tc.mentions)
			}
		})
	}
	// At the bounds, accepted.
	m := base()
	m["redirect_uris"], m["contacts"] = uris(10), mails(10)
	m["client_uri"] = "https://app.example/" + strings.Repeat("a", 2048-len("https://app.example/"))
	m["token_endpoint_auth_method"], m["jwks"] = "private_key_jwt", map[string]any{"keys": keys[:5]}
	if got := call(t, http.MethodPost, endpoint, "", m); got.Status != http.StatusCreated {
		t.Errorf("metadata at the bounds: %d %s", got.Status, got.Raw)
	}
	// The bounds hold for updates too.
	reg := call(t, http.MethodPost, endpoint, "", base())
	up := base()
	up["client_id"], up["redirect_uris"] = reg.str("client_id"), uris(11)
	if got := call(t, http.MethodPut, reg.str("registration_client_uri"), reg.str("registration_access_token"), up); got.Status != http.StatusBadRequest || got.str("error") != "invalid_redirect_uri" {
		t.Errorf("update with 11 redirect URIs: %d %s", got.Status, got.Raw)
	}
}

// adminCall calls the admin API of s; path is below /admin.
func adminCall(t *testing.T, s *server.Server, method, path string, body any) response {
	t.Helper()
	return call(t, method, s.IssuerURL()+oauth.PathAdmin+path, servertest.AdminToken, body)
}

package registration_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"golang.org/x/oauth2"
)

// response is an HTTP answer with its JSON body decoded.
type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r response) str(k string) string { s, _ := r.Body[k].(string); return s }

// call sends a JSON request (body may be a string of raw JSON) with an optional bearer token.
func call(t *testing.T, method, u, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: %d answer is not a JSON object: %s", method, u, resp.StatusCode, raw)
		}
	}
	return out
}

func webClient() map[string]any {
	return map[string]any{
		"client_name":   "Partner Portal",
		"redirect_uris": []string{"https://portal.partner.example/cb"},
		"grant_types":   []string{"authorization_code", "refresh_token"},
		"scope":         "openid offline_access read:contacts",
		"contacts":      []string{"ops@partner.example"},
		"unknown_thing": "ignored (RFC 7591 section 2)",
	}
}

// discovered reads registration_endpoint from the discovery document, as a client would.
func discovered(t *testing.T, s *server.Server) string {
	t.Helper()
	d := call(t, http.MethodGet, s.IssuerURL()+oauth.PathOIDCDiscovery, "", nil)
	if ep := d.str("registration_endpoint"); ep != s.IssuerURL()+oauth.PathRegister {
		t.Fatalf("discovery registration_endpoint = %q, want %q", ep, s.IssuerURL()+oauth.PathRegister)
	}
	return d.str("registration_endpoint")
}

// A registered client is a third-party regular web app: the user sees the consent page, and the
// code flow, the API and refresh all work with the credentials registration returned.
func TestRegisterThenAuthorize(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := call(t, http.MethodPost, discovered(t, s), "", webClient())
	if reg.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.Status, reg.Raw)
	}
	id, secret := reg.str("client_id"), reg.str("client_secret")
	for _, k := range []string{"client_id", "client_secret", "registration_access_token", "registration_client_uri"} {
		if reg.str(k) == "" {
			t.Errorf("response lacks %s: %s", k, reg.Raw)
		}
	}
	if reg.Body["client_secret_expires_at"] != float64(0) || reg.Body["client_id_issued_at"] == nil {
		t.Errorf("client_secret_expires_at / client_id_issued_at wrong: %s", reg.Raw)
	}
	if reg.str("token_endpoint_auth_method") != "client_secret_basic" || reg.str("application_type") != "web" ||
		reg.Body["unknown_thing"] != nil || reg.str("scope") != "openid offline_access read:contacts" {
		t.Errorf("accepted metadata not as expected: %s", reg.Raw)
	}
	if !strings.Contains(reg.Header.Get("Cache-Control"), "no-store") {
		t.Error("a response with a client secret may be cached")
	}
	app := s.Tenant.Application(id)
	if app == nil || app.FirstParty || app.Type != tenant.RegularWeb || app.ClientSecretSHA256 == "" ||
		strings.Contains(app.ClientSecretSHA256, secret) {
		t.Fatalf("tenant application = %+v", app)
	}

	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: "https://portal.partner.example/cb",
		Scopes:   []string{"openid", "offline_access", "read:contacts"},
		Endpoint: oauth2.Endpoint{AuthURL: s.IssuerURL() + oauth.PathAuthorize, TokenURL: s.IssuerURL() + oauth.PathToken, AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	paul := servertest.Credentials(t).Users["paul"]
	got := servertest.NewBrowser(t, s.Addr()).Authorize(conf.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier)), paul.Email, paul.Password, "allow")
	if !got.LoginShown || !got.ConsentShown {
		t.Fatalf("login shown %v, consent shown %v: a registered client is third party and must get consent", got.LoginShown, got.ConsentShown)
	}
	if got.Redirect == nil || got.Redirect.Query().Get("state") != "st-1" || got.Redirect.Query().Get("code") == "" {
		t.Fatalf("final redirect %v, page %.300s", got.Redirect, got.Page)
	}
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, got.Redirect.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token for offline_access")
	}
	if st := call(t, http.MethodGet, s.APIBaseURL()+"/accounts/globex/contacts", tok.AccessToken, nil); st.Status != http.StatusOK {
		t.Errorf("contacts API with the new client's token: %d %s", st.Status, st.Raw)
	}
	if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
		t.Errorf("refresh: %v", err)
	}
	entries := s.Requests.Entries(func(e *requestlog.Entry) bool { return e.ClientID == id })
	if len(entries) == 0 || entries[0].Path != oauth.PathRegister || entries[0].Status != http.StatusCreated {
		t.Errorf("the request log has no registration entry for %s: %+v", id, entries)
	}
	// Deleting the registration (RFC 7592 §2.3) takes the user's consent and grants along.
	if del := call(t, http.MethodDelete, reg.str("registration_client_uri"), reg.str("registration_access_token"), nil); del.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.Status, del.Raw)
	}
	if s.Tenant.Application(id) != nil || len(s.Store.ListConsents("", id)) != 0 {
		t.Error("the deleted client or its consent is still there")
	}
	if st := call(t, http.MethodGet, s.APIBaseURL()+"/accounts/globex/contacts", tok.AccessToken, nil); st.Status != http.StatusUnauthorized {
		t.Errorf("an access token of the deleted client still works: %d", st.Status)
	}
}

func TestPublicClients(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	cases := []struct {
		name, appType, redirect, wantType string
	}{
		{"native app on loopback", "native", "http://127.0.0.1/callback", tenant.Native},
		{"browser app", "web", "https://spa.partner.example/cb", tenant.SPA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			meta := map[string]any{"redirect_uris": []string{tc.redirect}, "application_type": tc.appType}
			if tc.appType == "web" {
				meta["token_endpoint_auth_method"] = "none"
			}
			reg := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", meta)
			if reg.Status != http.StatusCreated {
				t.Fatalf("%d %s", reg.Status, reg.Raw)
			}
			if reg.Body["client_secret"] != nil || reg.Body["client_secret_expires_at"] != nil || reg.str("token_endpoint_auth_method") != "none" {
				t.Errorf("a public client got secret fields: %s", reg.Raw)
			}
			if app := s.Tenant.Application(reg.str("client_id")); app == nil || app.Type != tc.wantType || !app.Public() || app.FirstParty {
				t.Errorf("tenant application = %+v, want a third-party public %s", app, tc.wantType)
			}
		})
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

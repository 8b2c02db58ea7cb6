package registration_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// RFC 7592: read, update and delete with the registration access token, which is rotated by every
// read and update (the server keeps only its SHA-256, so it cannot return the old one).
func TestReadUpdateDelete(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", webClient())
	if reg.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", reg.Status, reg.Raw)
	}
	uri, rat, id, secret := reg.str("registration_client_uri"), reg.str("registration_access_token"), reg.str("client_id"), reg.str("client_secret")
	if uri != s.IssuerURL()+oauth.PathRegister+"/"+id {
		t.Errorf("registration_client_uri = %q", uri)
	}

	read := call(t, http.MethodGet, uri, rat, nil)
	if read.Status != http.StatusOK || read.str("client_id") != id || read.str("client_name") != "Partner Portal" {
		t.Fatalf("read: %d %s", read.Status, read.Raw)
	}
	if read.Body["client_secret"] != nil {
		t.Error("read returned the client secret, which the server must not have")
	}
	if read.str("registration_access_token") == "" || read.str("registration_access_token") == rat {
		t.Error("read did not issue a new registration access token")
	}
	if again := call(t, http.MethodGet, uri, rat, nil); again.Status != http.StatusUnauthorized {
		t.Errorf("the replaced registration access token still works: %d", again.Status)
	}
	rat = read.str("registration_access_token")

	update := webClient()
	update["client_id"] = id
	update["client_secret"] = secret
	update["client_name"] = "Partner Portal 2"
	update["redirect_uris"] = []string{"https://portal.partner.example/cb2"}
	up := call(t, http.MethodPut, uri, rat, update)
	if up.Status != http.StatusOK || up.str("client_name") != "Partner Portal 2" || up.Body["client_secret"] != nil {
		t.Fatalf("update: %d %s", up.Status, up.Raw)
	}
	app := s.Tenant.Application(id)
	if app.Name != "Partner Portal 2" || !app.HasRedirectURI("https://portal.partner.example/cb2") || app.HasRedirectURI("https://portal.partner.example/cb") {
		t.Errorf("the tenant did not take the update: %+v", app)
	}
	if d := sha256.Sum256([]byte(secret)); app.ClientSecretSHA256 != hex.EncodeToString(d[:]) {
		t.Error("an update without a new auth method changed the secret")
	}
	rat = up.str("registration_access_token")

	// Becoming public drops the secret; becoming confidential again issues a new one, once.
	pub := map[string]any{"client_id": id, "redirect_uris": []string{"https://portal.partner.example/cb2"}, "token_endpoint_auth_method": "none"}
	up = call(t, http.MethodPut, uri, rat, pub)
	if up.Status != http.StatusOK || !s.Tenant.Application(id).Public() || s.Tenant.SecretDigest(id) != nil {
		t.Fatalf("update to public: %d %s", up.Status, up.Raw)
	}
	rat = up.str("registration_access_token")
	pub["token_endpoint_auth_method"] = "client_secret_post"
	up = call(t, http.MethodPut, uri, rat, pub)
	if up.Status != http.StatusOK || up.str("client_secret") == "" || s.Tenant.SecretDigest(id) == nil {
		t.Fatalf("update to confidential: %d %s", up.Status, up.Raw)
	}
	rat = up.str("registration_access_token")

	bad := []struct {
		name   string
		change func(map[string]any)
		want   string
	}{
		{"client_id missing", func(m map[string]any) { delete(m, "client_id") }, "client_id"},
		{"client_id of another client", func(m map[string]any) { m["client_id"] = "acme-cms" }, "client_id"},
		{"chosen client_secret", func(m map[string]any) { m["client_secret"] = "my-own-secret" }, "client_secret"},
		{"registration_access_token sent", func(m map[string]any) { m["registration_access_token"] = rat }, "registration_access_token"},
		{"client_id_issued_at sent", func(m map[string]any) { m["client_id_issued_at"] = 1 }, "client_id_issued_at"},
		{"bad redirect", func(m map[string]any) { m["redirect_uris"] = []string{"http://portal.partner.example/cb"} }, "redirect_uris[0]"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]any{"client_id": id, "redirect_uris": []string{"https://portal.partner.example/cb2"}}
			tc.change(m)
			got := call(t, http.MethodPut, uri, rat, m)
			if got.Status != http.StatusBadRequest || !strings.Contains(got.str("error_description"), tc.want) {
				t.Errorf("%d %s; want 400 naming %s", got.Status, got.Raw, tc.want)
			}
		})
	}
	if s.Tenant.Application(id).TokenEndpointAuthMethod != "client_secret_post" {
		t.Error("a refused update changed the client")
	}

	for _, tok := range []string{"", "wrong", reg.str("registration_access_token")} {
		if got := call(t, http.MethodDelete, uri, tok, nil); got.Status != http.StatusUnauthorized || got.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("delete with token %q: %d, want 401 with a challenge", tok, got.Status)
		}
	}
	// Another client's token does not open this one.
	other := call(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", webClient())
	if got := call(t, http.MethodGet, uri, other.str("registration_access_token"), nil); got.Status != http.StatusUnauthorized {
		t.Errorf("another client's token read this client: %d", got.Status)
	}
	if got := call(t, http.MethodDelete, uri, rat, nil); got.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", got.Status, got.Raw)
	}
	if s.Tenant.Application(id) != nil {
		t.Error("the client survived its deletion")
	}
	if got := call(t, http.MethodGet, uri, rat, nil); got.Status != http.StatusUnauthorized {
		t.Errorf("read after delete: %d, want 401", got.Status)
	}
}

// RFC 7591 §3.2.2: each bad registration gets its error code, with a description naming the member.
func TestRegistrationErrors(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	endpoint := s.IssuerURL() + oauth.PathRegister
	jwk := `{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	cases := []struct {
		name, body, contentType string
		code, mentions          string
	}{
		{"no redirect_uris", `{"client_name":"x"}`, "", "invalid_redirect_uri", "redirect_uris"},
		{"http off loopback", `{"redirect_uris":["http://app.example/cb"]}`, "", "invalid_redirect_uri", "redirect_uris[0]"},
		{"fragment", `{"redirect_uris":["https://app.example/cb#x"]}`, "", "invalid_redirect_uri", "fragment"},
		{"private-use scheme", `{"redirect_uris":["com.example.app:/cb"],"application_type":"native"}`, "", "invalid_redirect_uri", "redirect_uris[0]"},
		{"relative", `{"redirect_uris":["/cb"]}`, "", "invalid_redirect_uri", "redirect_uris[0]"},
		{"client_credentials", `{"redirect_uris":["https://app.example/cb"],"grant_types":["client_credentials"]}`, "", "invalid_client_metadata", "grant_types[0]"},
		{"password", `{"redirect_uris":["https://app.example/cb"],"grant_types":["authorization_code","password"]}`, "", "invalid_client_metadata", "grant_types[1]"},
		{"refresh only", `{"redirect_uris":["https://app.example/cb"],"grant_types":["refresh_token"]}`, "", "invalid_client_metadata", "authorization_code"},
		{"implicit response type", `{"redirect_uris":["https://app.example/cb"],"response_types":["token"]}`, "", "invalid_client_metadata", "response_types"},
		{"unknown auth method", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_jwt"}`, "", "invalid_client_metadata", "token_endpoint_auth_method"},
		{"native with a secret", `{"redirect_uris":["http://127.0.0.1/cb"],"application_type":"native","token_endpoint_auth_method":"client_secret_basic"}`, "", "invalid_client_metadata", "token_endpoint_auth_method"},
		{"bad application_type", `{"redirect_uris":["https://app.example/cb"],"application_type":"desktop"}`, "", "invalid_client_metadata", "application_type"},
		{"private_key_jwt without keys", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}`, "", "invalid_client_metadata", "jwks"},
		{"keys for a secret client", `{"redirect_uris":["https://app.example/cb"],"jwks":{"keys":[` + jwk + `]}}`, "", "invalid_client_metadata", "jwks"},
		{"jwks_uri", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://app.example/jwks"}`, "", "invalid_client_metadata", "jwks_uri"},
		{"unknown scope", `{"redirect_uris":["https://app.example/cb"],"scope":"openid delete:everything"}`, "", "invalid_client_metadata", "scope"},
		{"bad logo_uri", `{"redirect_uris":["https://app.example/cb"],"logo_uri":"javascript:alert(1)"}`, "", "invalid_client_metadata", "logo_uri"},
		{"wrong JSON type", `{"redirect_uris":"https://app.example/cb"}`, "", "invalid_client_metadata", "redirect_uris"},
		{"not JSON", `redirect_uris=https://app.example/cb`, "", "invalid_client_metadata", "JSON"},
		{"form content type", `{"redirect_uris":["https://app.example/cb"]}`, "application/x-www-form-urlencoded", "invalid_client_metadata", "application/json"},
	}
	before := len(s.Tenant.Config().Applications)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(tc.body))
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			req.Header.Set("Content-Type", ct)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = jsonDecode(resp, &body)
			if resp.StatusCode != http.StatusBadRequest || body.Error != tc.code || !strings.Contains(body.Description, tc.mentions) {
				t.Errorf("%d %q %q; want 400 %s mentioning %q", resp.StatusCode, body.Error, body.Description, tc.code, tc.mentions)
			}
		})
	}
	if got := len(s.Tenant.Config().Applications); got != before {
		t.Errorf("refused registrations added %d applications", got-before)
	}
	// A good private_key_jwt registration, for contrast with the refusals above.
	ok := call(t, http.MethodPost, endpoint, "", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[`+jwk+`]}}`)
	if ok.Status != http.StatusCreated || ok.Body["client_secret"] != nil {
		t.Errorf("private_key_jwt registration: %d %s", ok.Status, ok.Raw)
	}
	if app := s.Tenant.Application(ok.str("client_id")); app == nil || app.AssertionKey("k1") == nil {
		t.Errorf("the registered keys are not in the tenant: %+v", app)
	}
}

// RFC 7591 §3: with an initial access token configured, only its holders may register.
func TestInitialAccessToken(t *testing.T) {
	const iat = "initial-token-for-partners"
	s := servertest.Start(t, server.Options{RegistrationToken: iat})
	endpoint := s.IssuerURL() + oauth.PathRegister
	cases := []struct {
		name, token string
		status      int
		challenge   string
	}{
		{"none", "", http.StatusUnauthorized, `Bearer realm="registration"`},
		{"wrong", "not-the-token", http.StatusUnauthorized, `Bearer realm="registration", error="invalid_token"`},
		{"prefix of it", iat[:10], http.StatusUnauthorized, `Bearer realm="registration", error="invalid_token"`},
		{"right", iat, http.StatusCreated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := call(t, http.MethodPost, endpoint, tc.token, webClient())
			if got.Status != tc.status || got.Header.Get("WWW-Authenticate") != tc.challenge {
				t.Errorf("%d %q, want %d %q", got.Status, got.Header.Get("WWW-Authenticate"), tc.status, tc.challenge)
			}
			if tc.status == http.StatusUnauthorized && got.str("error") != "invalid_token" {
				t.Errorf("error = %q, want invalid_token", got.str("error"))
			}
		})
	}
	if n := countRegistered(s.Tenant.Config()); n != 1 {
		t.Errorf("%d clients registered, want 1", n)
	}
}

func countRegistered(cfg *tenant.Config) int {
	n := 0
	for _, a := range cfg.Applications {
		if strings.HasPrefix(a.ClientID, "dcr-") {
			n++
		}
	}
	return n
}

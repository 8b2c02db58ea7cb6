package contacts_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/contacts"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

const issuer = "https://as.example/"

// keyringSource lets the validator read the keyring directly.
type keyringSource struct{ kr *keys.Keyring }

func (s keyringSource) Key(_ context.Context, kid string) (*jose.JSONWebKey, error) {
	if k := s.kr.PublicKey(kid); k != nil {
		return k, nil
	}
	return nil, errors.New("no key with kid " + kid)
}

type fixture struct {
	srv    *httptest.Server
	minter *tokens.Minter
	api    *tenant.API
	cfg    *tenant.Config
}

func setup(t *testing.T) *fixture { t.Helper(); return setupWith(t, nil) }

// setupWith serves the API with a defect set (nil: none).
func setupWith(t *testing.T, d *defects.Set) *fixture {
	t.Helper()
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatal(err)
	}
	tn := tenant.New(cfg)
	api := tn.API(cfg.ContactsAPI)
	kr := servertest.Keys(t)
	v := &bearer.Validator{Issuer: issuer, Audience: api.Identifier,
		Algorithms: []jose.SignatureAlgorithm{jose.SignatureAlgorithm(api.SigningAlg)}, Keys: keyringSource{kr}}
	mux := http.NewServeMux()
	contacts.New(contacts.Config{Validator: v, AccountClaim: cfg.AccountClaim, Accounts: cfg.Accounts, Defects: d}).Register(mux, "/api")
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, api: api, cfg: cfg,
		minter: &tokens.Minter{Issuer: issuer, Keys: kr, AccountClaim: cfg.AccountClaim}}
}

// userToken mints a token of a user (with the user's accounts) for the contacts API.
func (f *fixture) userToken(t *testing.T, userID, scope string, accounts ...string) string {
	t.Helper()
	now := time.Now()
	tok, err := f.minter.AccessToken(f.api, &tokens.AccessClaims{Issuer: issuer, Subject: userID, Audience: f.api.Identifier,
		Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), JTI: tokens.Random(16), ClientID: "acme-cms",
		AZP: "acme-cms", Scope: scope, AuthTime: now.Unix()}, accounts)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// appToken mints a client-credentials token: the application is the subject.
func (f *fixture) appToken(t *testing.T, clientID, scope string) string {
	t.Helper()
	now := time.Now()
	tok, err := f.minter.AccessToken(f.api, &tokens.AccessClaims{Issuer: issuer, Subject: clientID, Audience: f.api.Identifier,
		Expiry: now.Add(time.Hour).Unix(), IssuedAt: now.Unix(), JTI: tokens.Random(16), ClientID: clientID,
		AZP: clientID, Scope: scope, GrantType: tokens.GrantTypeClientCredentials}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func (f *fixture) do(t *testing.T, method, path, token, body string) response {
	t.Helper()
	r, err := f.try(method, path, token, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// try is do without the testing.T, for goroutines.
func (f *fixture) try(method, path, token, body string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		return response{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &r.body); err != nil {
		return r, fmt.Errorf("%s %s: body is not a JSON object: %q", method, path, b)
	}
	return r, nil
}

func contactNames(t *testing.T, r response) []string {
	t.Helper()
	list, ok := r.body["contacts"].([]any)
	if !ok {
		t.Fatalf("no contacts in %v", r.body)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.(map[string]any)["name"].(string))
	}
	return names
}

func TestAuthorization(t *testing.T) {
	f := setup(t)
	const (
		read, update = "read:contacts", "update:contacts"
		globex       = "/api/accounts/globex/contacts"
		initech      = "/api/accounts/initech/contacts"
	)
	cases := []struct {
		name   string
		method string
		path   string
		token  func(t *testing.T) string
		body   string
		status int
		errStr string // the JSON error code; "" to skip
		scope  string // expected scope in WWW-Authenticate; "" for none
	}{
		{"member reads own account", "GET", globex, func(t *testing.T) string { return f.userToken(t, "user-paul", read, "globex") },
			"", 200, "", ""},
		{"multi-account user reads both (globex)", "GET", globex, func(t *testing.T) string { return f.userToken(t, "user-sam", read, "globex", "initech") },
			"", 200, "", ""},
		{"multi-account user reads both (initech)", "GET", initech, func(t *testing.T) string { return f.userToken(t, "user-sam", read, "globex", "initech") },
			"", 200, "", ""},
		{"read without read scope", "GET", globex, func(t *testing.T) string { return f.userToken(t, "user-paul", update, "globex") },
			"", 403, "insufficient_scope", read},
		{"user's token for another account", "GET", initech, func(t *testing.T) string { return f.userToken(t, "user-paul", read, "globex") },
			"", 403, "access_denied", ""},
		{"user token without account claim", "GET", globex, func(t *testing.T) string { return f.userToken(t, "user-paul", read) },
			"", 403, "access_denied", ""},
		{"user token claiming gty without being the client", "GET", initech, func(t *testing.T) string {
			tok, err := f.minter.AccessToken(f.api, &tokens.AccessClaims{Issuer: issuer, Subject: "user-paul", Audience: f.api.Identifier,
				Expiry: time.Now().Add(time.Hour).Unix(), IssuedAt: time.Now().Unix(), JTI: "forged-gty", ClientID: "acme-sync", Scope: read, GrantType: tokens.GrantTypeClientCredentials}, []string{"globex"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, "", 403, "access_denied", ""},
		{"client credentials reads any account", "GET", initech, func(t *testing.T) string { return f.appToken(t, "acme-sync", read) },
			"", 200, "", ""},
		{"client credentials, unknown account", "GET", "/api/accounts/umbrella/contacts", func(t *testing.T) string { return f.appToken(t, "acme-sync", read) },
			"", 404, "not_found", ""},
		{"client credentials outside its scopes", "POST", globex, func(t *testing.T) string { return f.appToken(t, "acme-sync", read) },
			`{"name":"X"}`, 403, "insufficient_scope", update},
		{"create without update scope", "POST", globex, func(t *testing.T) string { return f.userToken(t, "user-paul", read, "globex") },
			`{"name":"X"}`, 403, "insufficient_scope", update},
		{"update in another account", "PUT", initech + "/i1", func(t *testing.T) string { return f.userToken(t, "user-paul", update, "globex") },
			`{"name":"X"}`, 403, "access_denied", ""},
		{"token for another API", "GET", globex, func(t *testing.T) string {
			reports := *f.api
			reports.Identifier = "https://reports.contacts.example"
			tok, err := f.minter.AccessToken(&reports, &tokens.AccessClaims{Issuer: issuer, Subject: "user-paul", Audience: reports.Identifier,
				Expiry: time.Now().Add(time.Hour).Unix(), Scope: read}, []string{"globex"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, "", 401, "invalid_token", ""},
		{"expired token", "GET", globex, func(t *testing.T) string {
			tok, err := f.minter.AccessToken(f.api, &tokens.AccessClaims{Issuer: issuer, Subject: "user-paul", Audience: f.api.Identifier,
				Expiry: time.Now().Add(-time.Hour).Unix(), Scope: read}, []string{"globex"})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}, "", 401, "invalid_token", ""},
		{"garbage token", "GET", globex, func(*testing.T) string { return "not-a-jwt" }, "", 401, "invalid_token", ""},
		{"missing token", "GET", globex, func(*testing.T) string { return "" }, "", 401, "unauthorized", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.method, tc.path, tc.token(t), tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %v", r.status, tc.status, r.body)
			}
			if tc.errStr != "" && r.body["error"] != tc.errStr {
				t.Errorf("error %v, want %s", r.body["error"], tc.errStr)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
			}
			ch := r.header.Get("WWW-Authenticate")
			switch {
			case tc.status == 401 && !strings.HasPrefix(ch, `Bearer realm="contacts"`):
				t.Errorf("401 without a Bearer challenge: %q", ch)
			case tc.status == 401 && tc.errStr == "unauthorized" && strings.Contains(ch, "error="):
				t.Errorf("a request without a token got an error code in %q", ch)
			case tc.errStr == "invalid_token" && !strings.Contains(ch, `error="invalid_token"`):
				t.Errorf("challenge %q lacks invalid_token", ch)
			case tc.errStr == "insufficient_scope" && !strings.Contains(ch, `error="insufficient_scope"`):
				t.Errorf("challenge %q lacks insufficient_scope", ch)
			}
			if tc.scope != "" && !strings.Contains(ch, `scope="`+tc.scope+`"`) {
				t.Errorf("challenge %q does not name scope %s", ch, tc.scope)
			}
			if tc.status == 200 && len(contactNames(t, r)) == 0 {
				t.Errorf("no contacts listed: %v", r.body)
			}
		})
	}
}

func TestListShowsTheAccountsContacts(t *testing.T) {
	f := setup(t)
	r := f.do(t, "GET", "/api/accounts/initech/contacts", f.userToken(t, "user-mary", "read:contacts", "initech"), "")
	if r.status != 200 || r.body["account"] != "initech" {
		t.Fatalf("status %d body %v", r.status, r.body)
	}
	names := strings.Join(contactNames(t, r), ",")
	if names != "Bill Lumbergh,Milton Waddams" {
		t.Errorf("initech contacts = %s", names)
	}
}

func TestCreateAndUpdate(t *testing.T) {
	f := setup(t)
	rw := f.userToken(t, "user-paul", "read:contacts update:contacts", "globex")
	const list = "/api/accounts/globex/contacts"

	r := f.do(t, "POST", list, rw, `{"name":"Homer Simpson","email":"homer@globex.example"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("POST status %d, body %v", r.status, r.body)
	}
	id, _ := r.body["id"].(string)
	if id == "" || id == "g1" || id == "g2" || r.body["name"] != "Homer Simpson" {
		t.Fatalf("created %v; want a new id", r.body)
	}
	r2 := f.do(t, "POST", list, rw, `{"name":"Marge"}`)
	if r2.status != http.StatusCreated || r2.body["id"] == id {
		t.Errorf("second POST: %d %v (id must differ from %s)", r2.status, r2.body, id)
	}

	r = f.do(t, "PUT", list+"/"+id, rw, `{"name":"Homer J. Simpson","email":"homer@globex.example"}`)
	if r.status != http.StatusOK || r.body["id"] != id || r.body["name"] != "Homer J. Simpson" {
		t.Errorf("PUT: %d %v", r.status, r.body)
	}
	r = f.do(t, "PUT", list+"/g1", rw, `{"name":"Hank","id":"hijack"}`)
	if r.status != http.StatusOK || r.body["id"] != "g1" {
		t.Errorf("PUT g1: %d %v; the path names the contact", r.status, r.body)
	}
	r = f.do(t, "PUT", list+"/nope", rw, `{"name":"Ghost"}`)
	if r.status != http.StatusNotFound || r.body["error"] != "not_found" {
		t.Errorf("PUT unknown contact: %d %v", r.status, r.body)
	}
	// Contacts of globex are not reachable through initech's path.
	app := f.appToken(t, "contacts-importer", "read:contacts update:contacts")
	if r = f.do(t, "PUT", "/api/accounts/initech/contacts/g1", app, `{"name":"X"}`); r.status != http.StatusNotFound {
		t.Errorf("PUT g1 under initech: %d %v", r.status, r.body)
	}

	names := strings.Join(contactNames(t, f.do(t, "GET", list, rw, "")), ",")
	if names != "Hank,Frank Grimes,Homer J. Simpson,Marge" {
		t.Errorf("globex contacts after the writes = %s", names)
	}
}

func TestBadBodies(t *testing.T) {
	f := setup(t)
	rw := f.userToken(t, "user-paul", "update:contacts", "globex")
	cases := []struct{ name, method, path, body string }{
		{"not JSON", "POST", "/api/accounts/globex/contacts", `name=Homer`},
		{"truncated JSON", "POST", "/api/accounts/globex/contacts", `{"name":"Homer"`},
		{"unknown field", "POST", "/api/accounts/globex/contacts", `{"name":"Homer","admin":true}`},
		{"wrong type", "POST", "/api/accounts/globex/contacts", `{"name":42}`},
		{"missing name", "POST", "/api/accounts/globex/contacts", `{"email":"a@b.example"}`},
		{"blank name", "PUT", "/api/accounts/globex/contacts/g1", `{"name":"   "}`},
		{"too large", "POST", "/api/accounts/globex/contacts", `{"name":"` + strings.Repeat("a", 20<<10) + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.method, tc.path, rw, tc.body)
			if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" {
				t.Errorf("status %d body %v, want 400 invalid_request", r.status, r.body)
			}
		})
	}
}

func TestMeEchoesClaims(t *testing.T) {
	f := setup(t)
	r := f.do(t, "GET", "/api/me", f.userToken(t, "user-sam", "read:contacts", "globex", "initech"), "")
	if r.status != 200 {
		t.Fatalf("status %d body %v", r.status, r.body)
	}
	if r.body["sub"] != "user-sam" || r.body["iss"] != issuer || r.body["scope"] != "read:contacts" || r.body["client_id"] != "acme-cms" {
		t.Errorf("/me = %v", r.body)
	}
	acc, _ := r.body[f.cfg.AccountClaim].([]any)
	if len(acc) != 2 {
		t.Errorf("account claim in /me = %v", r.body[f.cfg.AccountClaim])
	}
	// /me needs no scope, but still a valid token.
	if r := f.do(t, "GET", "/api/me", f.appToken(t, "acme-sync", ""), ""); r.status != 200 || r.body["gty"] != "client-credentials" {
		t.Errorf("/me with a scope-less app token: %d %v", r.status, r.body)
	}
	if r := f.do(t, "GET", "/api/me", "", ""); r.status != 401 {
		t.Errorf("/me without a token: %d", r.status)
	}
}

func TestTokenInQueryString(t *testing.T) {
	f := setup(t)
	tok := f.userToken(t, "user-paul", "read:contacts", "globex")
	for _, path := range []string{"/api/accounts/globex/contacts?access_token=" + tok, "/api/me?access_token=" + tok} {
		r := f.do(t, "GET", path, "", "")
		if r.status != http.StatusBadRequest || r.body["error"] != "invalid_request" {
			t.Errorf("GET %s: %d %v, want 400 invalid_request", path[:20], r.status, r.body)
		}
		if ch := r.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_request"`) {
			t.Errorf("challenge %q", ch)
		}
	}
}

func TestMethodsNotRouted(t *testing.T) {
	f := setup(t)
	req, _ := http.NewRequest("DELETE", f.srv.URL+"/api/accounts/globex/contacts/g1", nil)
	req.Header.Set("Authorization", "Bearer "+f.userToken(t, "user-paul", "update:contacts", "globex"))
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d, want 405", resp.StatusCode)
	}
}

func TestConcurrentCreates(t *testing.T) {
	f := setup(t)
	app := f.appToken(t, "contacts-importer", "read:contacts update:contacts")
	ids := make(chan string, 16)
	done := make(chan struct{})
	for i := range 16 {
		go func() {
			defer func() { done <- struct{}{} }()
			r, err := f.try("POST", "/api/accounts/initech/contacts", app, `{"name":"Temp `+string(rune('A'+i))+`"}`)
			if err != nil || r.status != http.StatusCreated {
				t.Errorf("POST: %v %d %v", err, r.status, r.body)
				return
			}
			ids <- r.body["id"].(string)
		}()
	}
	for range 16 {
		<-done
	}
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("id %s handed out twice", id)
		}
		seen[id] = true
	}
	if n := len(contactNames(t, f.do(t, "GET", "/api/accounts/initech/contacts", app, ""))); n != 2+len(seen) {
		t.Errorf("initech has %d contacts, want %d", n, 2+len(seen))
	}
}

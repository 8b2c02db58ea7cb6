package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

const contactsAPI = "https://api.contacts.example"

// An application and its client grant made through the admin API work at the token endpoint and
// the API at once; secret rotation and deletion take effect at once too.
func TestApplicationsAndClientGrants(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	r := admin(t, s, http.MethodPost, "/applications", map[string]any{"name": "Nightly Export", "type": "machine_to_machine",
		"grant_types": []string{"client_credentials"}})
	want(t, r, http.StatusCreated, "")
	id, secret := r.str("client_id"), r.str("client_secret")
	if id == "" || len(secret) < 32 || r.str("token_endpoint_auth_method") != "client_secret_basic" {
		t.Fatalf("created: %s", r.Raw)
	}
	if strings.Contains(s.Tenant.Application(id).ClientSecretSHA256, secret) {
		t.Error("the secret is stored in the clear")
	}
	if got := admin(t, s, http.MethodGet, "/applications/"+id, nil); got.obj()["client_secret"] != nil || got.obj()["client_secret_sha256"] != nil {
		t.Errorf("get returned secret material: %s", got.Raw)
	}
	if st, _ := clientCredentials(t, s, id, secret); st != http.StatusBadRequest {
		t.Errorf("token without a client grant: %d, want 400 unauthorized_client", st)
	}

	grant := "/client-grants/" + id + "/" + url.PathEscape(contactsAPI)
	forAPI := "/client-grants?audience=" + url.QueryEscape(contactsAPI)
	before := len(admin(t, s, http.MethodGet, forAPI, nil).list())
	want(t, admin(t, s, http.MethodPost, "/client-grants", map[string]any{"client_id": id, "audience": contactsAPI,
		"scopes": []string{"read:contacts"}}), http.StatusCreated, "")
	st, tok := clientCredentials(t, s, id, secret)
	if st != http.StatusOK || contacts(t, s, tok) != http.StatusOK {
		t.Fatalf("token %d; contacts API with it %d", st, contacts(t, s, tok))
	}
	if l := admin(t, s, http.MethodGet, "/client-grants?client_id="+id, nil).list(); len(l) != 1 {
		t.Errorf("grants of %s: %v", id, l)
	}
	if l := admin(t, s, http.MethodGet, forAPI, nil).list(); len(l) != before+1 {
		t.Errorf("grants for the contacts API: %d, want %d", len(l), before+1)
	}
	r = admin(t, s, http.MethodPut, grant, map[string]any{"scopes": []string{"read:contacts", "update:contacts"}})
	if want(t, r, http.StatusOK, ""); len(r.obj()["scopes"].([]any)) != 2 {
		t.Errorf("updated grant: %s", r.Raw)
	}

	r = admin(t, s, http.MethodPost, "/applications/"+id+"/secret", nil)
	want(t, r, http.StatusOK, "")
	if st, _ := clientCredentials(t, s, id, secret); st != http.StatusUnauthorized {
		t.Errorf("the old secret after rotation: %d, want 401", st)
	}
	secret = r.str("client_secret")
	if st, _ := clientCredentials(t, s, id, secret); st != http.StatusOK {
		t.Errorf("the new secret: %d", st)
	}
	// PUT replaces, but a secret left out is kept.
	r = admin(t, s, http.MethodPut, "/applications/"+id, map[string]any{"name": "Nightly Export v2", "type": "machine_to_machine",
		"grant_types": []string{"client_credentials"}})
	if want(t, r, http.StatusOK, ""); r.obj()["client_secret"] != nil || s.Tenant.Application(id).Name != "Nightly Export v2" {
		t.Errorf("update: %s", r.Raw)
	}

	errs := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"bad redirect", http.MethodPost, "/applications", map[string]any{"name": "W", "type": "regular_web",
			"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"http://w.example/cb"}}, http.StatusBadRequest, "redirect_uris[0]"},
		{"bad type", http.MethodPost, "/applications", map[string]any{"name": "W", "type": "desktop", "grant_types": []string{"authorization_code"}}, http.StatusBadRequest, "type"},
		{"short secret", http.MethodPost, "/applications", map[string]any{"name": "W", "type": "machine_to_machine",
			"grant_types": []string{"client_credentials"}, "client_secret": "short"}, http.StatusBadRequest, "client_secret"},
		{"secret for a public client", http.MethodPost, "/applications", map[string]any{"name": "S", "type": "spa",
			"grant_types": []string{"authorization_code"}, "redirect_uris": []string{"https://s.example/cb"}, "client_secret": "0123456789abcdef0123"}, http.StatusBadRequest, "client_secret"},
		{"duplicate client_id", http.MethodPost, "/applications", map[string]any{"client_id": "acme-cms", "name": "X", "type": "machine_to_machine",
			"grant_types": []string{"client_credentials"}}, http.StatusConflict, "acme-cms"},
		{"change client_id", http.MethodPut, "/applications/" + id, map[string]any{"client_id": "other", "name": "X", "type": "machine_to_machine",
			"grant_types": []string{"client_credentials"}}, http.StatusBadRequest, "client_id"},
		{"unknown application", http.MethodPut, "/applications/nope", map[string]any{"name": "X"}, http.StatusNotFound, ""},
		{"secret of a public client", http.MethodPost, "/applications/contacts-spa/secret", nil, http.StatusBadRequest, "token_endpoint_auth_method"},
		{"grant for a web app", http.MethodPost, "/client-grants", map[string]any{"client_id": "acme-cms", "audience": contactsAPI}, http.StatusBadRequest, "client_id"},
		{"grant with an unknown scope", http.MethodPut, grant, map[string]any{"scopes": []string{"delete:contacts"}}, http.StatusBadRequest, "scopes[0]"},
		{"grant for an unknown API", http.MethodPost, "/client-grants", map[string]any{"client_id": id, "audience": "https://nope.example"}, http.StatusBadRequest, "audience"},
		{"duplicate grant", http.MethodPost, "/client-grants", map[string]any{"client_id": id, "audience": contactsAPI}, http.StatusConflict, ""},
		{"move a grant", http.MethodPut, grant, map[string]any{"client_id": "acme-sync"}, http.StatusBadRequest, "client_id"},
		{"unknown grant", http.MethodGet, "/client-grants/acme-cms/" + url.PathEscape(contactsAPI), nil, http.StatusNotFound, ""},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { want(t, admin(t, s, tc.method, tc.path, tc.body), tc.status, tc.field) })
	}

	// A caller-chosen secret is accepted (and not echoed).
	r = admin(t, s, http.MethodPost, "/applications", map[string]any{"client_id": "chosen", "name": "Chosen", "type": "machine_to_machine",
		"grant_types": []string{"client_credentials"}, "client_secret": "a-long-enough-chosen-secret"})
	if want(t, r, http.StatusCreated, ""); r.obj()["client_secret"] != nil {
		t.Error("a chosen secret was echoed")
	}

	want(t, admin(t, s, http.MethodDelete, grant, nil), http.StatusNoContent, "")
	if st, _ := clientCredentials(t, s, id, secret); st != http.StatusBadRequest {
		t.Errorf("token after the grant's deletion: %d, want 400", st)
	}
	want(t, admin(t, s, http.MethodDelete, "/applications/"+id, nil), http.StatusNoContent, "")
	if st, _ := clientCredentials(t, s, id, secret); st != http.StatusUnauthorized {
		t.Errorf("token for a deleted application: %d, want 401", st)
	}
	want(t, admin(t, s, http.MethodGet, "/applications/"+id, nil), http.StatusNotFound, "")
}

func TestUsers(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	r := admin(t, s, http.MethodPost, "/users", map[string]any{"email": "wanda@globex.example", "name": "Wanda",
		"accounts": []string{"globex"}, "password": "Wanda-contacts-2026"})
	want(t, r, http.StatusCreated, "")
	id := r.str("id")
	if r.obj()["password"] != nil || r.obj()["password_hash"] != nil {
		t.Errorf("the response has password material: %s", r.Raw)
	}
	u := s.Tenant.User(id)
	if u == nil || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Fatalf("tenant user = %+v, want a bcrypt hash", u)
	}
	hash := u.PasswordHash
	if l := admin(t, s, http.MethodGet, "/users", nil).list(); len(l) != 4 {
		t.Errorf("list has %d users, want 4", len(l))
	}
	r = admin(t, s, http.MethodPut, "/users/"+id, map[string]any{"email": "wanda@globex.example", "name": "Wanda M.", "accounts": []string{"globex", "initech"}})
	if want(t, r, http.StatusOK, ""); s.Tenant.User(id).PasswordHash != hash || len(s.Tenant.User(id).Accounts) != 2 {
		t.Errorf("update lost the password or the accounts: %+v", s.Tenant.User(id))
	}
	// The new user logs in on the real login page, with the password given in plaintext.
	got := servertest.NewBrowser(t, s.Addr()).Authorize(s.IssuerURL()+"/authorize?response_type=code&client_id=contacts-web"+
		"&redirect_uri="+url.QueryEscape("https://app.contacts.example/callback")+"&scope=openid&state=s",
		"wanda@globex.example", "Wanda-contacts-2026", "allow")
	if got.Redirect == nil || got.Redirect.Query().Get("code") == "" {
		t.Errorf("login as the new user did not end with a code: %v %.300s", got.Redirect, got.Page)
	}

	errs := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"no password", http.MethodPost, "/users", map[string]any{"email": "x@globex.example"}, http.StatusBadRequest, "password"},
		{"short password", http.MethodPost, "/users", map[string]any{"email": "x@globex.example", "password": "short"}, http.StatusBadRequest, "password"},
		{"long password", http.MethodPost, "/users", map[string]any{"email": "x@globex.example", "password": strings.Repeat("p", 73)}, http.StatusBadRequest, "password"},
		{"duplicate email", http.MethodPost, "/users", map[string]any{"email": "PAUL@globex.example", "password": "long enough"}, http.StatusBadRequest, "email"},
		{"unknown account", http.MethodPut, "/users/" + id, map[string]any{"email": "wanda@globex.example", "accounts": []string{"umbrella"}}, http.StatusBadRequest, "accounts[0]"},
		{"no email", http.MethodPut, "/users/" + id, map[string]any{"name": "W"}, http.StatusBadRequest, "email"},
		{"duplicate id", http.MethodPost, "/users", map[string]any{"id": "user-paul", "email": "p2@globex.example", "password": "long enough"}, http.StatusConflict, ""},
		{"unknown user", http.MethodGet, "/users/nobody", nil, http.StatusNotFound, ""},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) { want(t, admin(t, s, tc.method, tc.path, tc.body), tc.status, tc.field) })
	}
	want(t, admin(t, s, http.MethodDelete, "/users/"+id, nil), http.StatusNoContent, "")
	if s.Tenant.User(id) != nil || s.Tenant.UserByEmail("wanda@globex.example") != nil {
		t.Error("the deleted user is still found")
	}
	want(t, admin(t, s, http.MethodDelete, "/users/"+id, nil), http.StatusNotFound, "")
}

package target_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
)

const good = `
name: staging
issuer: https://login.example.com/
api_base_url: https://api.example.com
capabilities: [client-credentials, authorization-code]
apis:
  Contacts API:
    identifier: https://api.example.com
    scopes: {read:contacts: Read your contacts}
    token_lifetime: 1h
clients:
  Acme Sync: {client_id: abc, client_secret: s3cret, auth_method: client_secret_post, grants: {Contacts API: [read:contacts]}}
  Contacts SPA: {client_id: spa, auth_method: none, redirect_uri: "https://spa.example.com/cb"}
users:
  paul: {username: paul@example.com, password: pw}
selectors:
  login: {username: "input[name=email]"}
`

func TestParseGoodProfile(t *testing.T) {
	p, err := target.Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Selectors.Login.Username != "input[name=email]" || p.Selectors.Login.Password != "#password" {
		t.Errorf("selectors %+v: given ones kept, missing ones defaulted", p.Selectors.Login)
	}
	if !p.Has(target.CapClientCredentials) || p.Has(target.CapAdmin) {
		t.Error("capabilities")
	}
	c, err := p.Client("abc")
	if err != nil || c.ClientSecret != "s3cret" {
		t.Errorf("client by client_id: %+v %v", c, err)
	}
	if _, err := p.Client("Nope"); err == nil || !strings.Contains(err.Error(), "Acme Sync, Contacts SPA") {
		t.Errorf("unknown client: err = %v, want the known aliases listed", err)
	}
	if a, err := p.API("https://api.example.com"); err != nil || a.Scopes["read:contacts"] != "Read your contacts" {
		t.Errorf("API by identifier: %+v %v", a, err)
	}
}

func TestParseNamesEveryBadField(t *testing.T) {
	cases := map[string]string{
		"empty":                   ``,
		"issuer: is required":     `name: x`,
		"issuer: \"ftp://x\"":     `issuer: ftp://x`,
		"capabilities[0]":         "issuer: https://x\ncapabilities: [teleport]",
		"apis.A.identifier":       "issuer: https://x\napis: {A: {scopes: {}}}",
		"clients.C.client_id":     "issuer: https://x\nclients: {C: {auth_method: none}}",
		"clients.C.auth_method":   "issuer: https://x\nclients: {C: {client_id: c, auth_method: magic}}",
		"clients.C.grants.Nope":   "issuer: https://x\nclients: {C: {client_id: c, grants: {Nope: [a]}}}",
		"users.u":                 "issuer: https://x\nusers: {u: {username: a}}",
		"admin_token":             "issuer: https://x\ncapabilities: [admin]",
		"field flavour not found": "issuer: https://x\nflavour: mint",
		"not a duration":          "issuer: https://x\napis: {A: {identifier: a, token_lifetime: soon}}",
	}
	for want, y := range cases {
		_, err := target.Parse([]byte(y))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v", want, err)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.yaml")
	if err := os.WriteFile(path, []byte("issuer: nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := target.Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want the path named", err)
	}
	if _, err := target.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestReferenceProfileTellsTheSeedsStory(t *testing.T) {
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		t.Fatal(err)
	}
	p := reference.Profile("http://127.0.0.1:1", "http://127.0.0.1:1/api", cfg, creds, []string{target.CapClientCredentials})
	if err := p.Validate(); err != nil {
		t.Fatalf("the reference profile does not validate: %v", err)
	}
	cms, err := p.Client("Acme CMS")
	if err != nil || cms.ClientID != "acme-cms" || cms.FirstParty || cms.ClientSecret == "" || cms.RedirectURI == "" {
		t.Errorf("Acme CMS = %+v, %v", cms, err)
	}
	sync, _ := p.Client("Acme Sync")
	if got := sync.Grants["Contacts API"]; len(got) != 1 || got[0] != "read:contacts" {
		t.Errorf("Acme Sync grants %v, want Contacts API: [read:contacts]", sync.Grants)
	}
	paul, err := p.User("paul")
	if err != nil || paul.Subject != "user-paul" || len(paul.Accounts) != 1 || paul.Accounts[0] != "globex" {
		t.Errorf("paul = %+v, %v", paul, err)
	}
	api, _ := p.API("Contacts API")
	if api.Scopes["read:contacts"] != "Read your contacts" || !api.OfflineAccess {
		t.Errorf("Contacts API = %+v", api)
	}
}

func TestContainerSection(t *testing.T) {
	profile := `
name: keycloak
issuer: http://127.0.0.1:${PORT}/realms/acme
container:
  image: localhost/my-keycloak:dev
  port: 8080
  env: {KC_HOSTNAME: "http://127.0.0.1:${PORT}"}
  wait_path: /realms/acme/.well-known/openid-configuration
  startup_timeout: 2m
`
	p, err := target.Parse([]byte(profile))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.AtPort(41234).Issuer; got != "http://127.0.0.1:41234/realms/acme" {
		t.Errorf("AtPort: issuer %q", got)
	}
	bad := map[string]string{
		"container.image":     "issuer: http://127.0.0.1:${PORT}\ncontainer: {port: 8080, wait_path: /x}\n",
		"container.port":      "issuer: http://127.0.0.1:${PORT}\ncontainer: {image: a, wait_path: /x}\n",
		"container.wait_path": "issuer: http://127.0.0.1:${PORT}\ncontainer: {image: a, port: 80, wait_path: x}\n",
		"only known for":      "issuer: http://127.0.0.1:${PORT}\n",
	}
	for want, y := range bad {
		if _, err := target.Parse([]byte(y)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

func TestProfileExpandsEnvironmentVariables(t *testing.T) {
	t.Setenv("HARNESS_TEST_PORT", "3099")
	t.Setenv("HARNESS_TEST_SECRET", "s3cret: with [yaml] characters")
	p, err := target.Parse([]byte("issuer: http://127.0.0.1:${HARNESS_TEST_PORT}\n" +
		"clients: {C: {client_id: c, client_secret: \"${HARNESS_TEST_SECRET}\"}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Issuer != "http://127.0.0.1:3099" || p.Clients["C"].ClientSecret != "s3cret: with [yaml] characters" {
		t.Errorf("issuer %q, secret %q", p.Issuer, p.Clients["C"].ClientSecret)
	}
	if _, err := target.Parse([]byte("issuer: http://127.0.0.1:${HARNESS_TEST_UNSET_VAR}\n")); err == nil ||
		!strings.Contains(err.Error(), "line 1: ${HARNESS_TEST_UNSET_VAR}") {
		t.Errorf("an unset variable: err = %v, want it named with its line", err)
	}
	c, err := target.Parse([]byte("issuer: http://127.0.0.1:${PORT}\ncontainer: {image: x, port: 80, wait_path: /}\n"))
	if err != nil || c.AtPort(4000).Issuer != "http://127.0.0.1:4000" {
		t.Errorf("${PORT} is the container's: %v", err)
	}
}

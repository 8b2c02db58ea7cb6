package tenant_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// Building blocks of small tenants. Each is a complete YAML section so cases read as "base + one flaw".
const (
	secretHash = "dc8e52141a7eddc0d4751c9997a8fc4d416f6a91a7d1c022d83fc6c09eecfdb8"

	apiSection = `
apis:
  - name: Things API
    identifier: https://api.example
    scopes:
      - {value: read:things, description: Read things}
      - {value: write:things, description: Write things}
`
	webApp = `
  - name: Web
    client_id: web
    client_secret_sha256: ` + secretHash + `
    type: regular_web
    redirect_uris: [https://app.example/callback]
    grant_types: [authorization_code, refresh_token]
`
	m2mApp = `
  - name: Sync
    client_id: sync
    client_secret_sha256: ` + secretHash + `
    type: machine_to_machine
    grant_types: [client_credentials]
`
	spaApp = `
  - name: SPA
    client_id: spa
    type: spa
    redirect_uris: [https://spa.example/callback]
    grant_types: [authorization_code]
`
	nativeApp = `
  - name: Mobile
    client_id: mobile
    type: native
    redirect_uris: ["example.mobile:/callback"]
    grant_types: [authorization_code]
`
	accountsSection = `
accounts:
  - {id: acme, name: Acme}
  - {id: globex, name: Globex}
`
	userSection = `
users:
  - id: u1
    email: Ann@Example.com
    name: Ann
    password_hash: $2a$10$abcdefghijklmnopqrstuu5Dm0eIeFRQ1yWA0lF0hZ0kvOjvOvMbW
    accounts: [acme, globex]
`
)

func apps(a ...string) string { return "\napplications:" + strings.Join(a, "") }

func validTenant() string {
	return apiSection + apps(webApp, m2mApp, spaApp, nativeApp) + `
client_grants:
  - {client_id: sync, audience: https://api.example, scopes: [read:things]}
` + accountsSection + userSection
}

func TestParseValidTenant(t *testing.T) {
	cfg, err := tenant.Parse([]byte(validTenant()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cfg.APIs) != 1 || len(cfg.Applications) != 4 || len(cfg.Users) != 1 || len(cfg.ClientGrants) != 1 {
		t.Fatalf("unexpected shape: %+v", cfg)
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	cfg, err := tenant.Parse([]byte(validTenant()))
	if err != nil {
		t.Fatal(err)
	}
	api := cfg.APIs[0]
	if api.SigningAlg != tenant.RS256 {
		t.Errorf("signing_alg default = %q, want RS256", api.SigningAlg)
	}
	if time.Duration(api.TokenLifetime) != 24*time.Hour || tenant.DefaultTokenLifetime != 24*time.Hour {
		t.Errorf("token_lifetime default = %v, want 24h", time.Duration(api.TokenLifetime))
	}
	if time.Duration(cfg.RefreshTokenLifetime) != tenant.DefaultRefreshTokenLifetime {
		t.Errorf("refresh_token_lifetime default = %v", time.Duration(cfg.RefreshTokenLifetime))
	}
	if cfg.AccountClaim != tenant.DefaultAccountClaim {
		t.Errorf("account_claim default = %q", cfg.AccountClaim)
	}
	wantAuth := map[string]string{
		"web":    tenant.AuthClientSecretBasic,
		"sync":   tenant.AuthClientSecretBasic,
		"spa":    tenant.AuthNone,
		"mobile": tenant.AuthNone,
	}
	for _, app := range cfg.Applications {
		if got := app.TokenEndpointAuthMethod; got != wantAuth[app.ClientID] {
			t.Errorf("%s (%s): auth method default = %q, want %q", app.ClientID, app.Type, got, wantAuth[app.ClientID])
		}
	}
}

func TestParseKeepsExplicitValues(t *testing.T) {
	doc := strings.Replace(validTenant(), "    identifier: https://api.example\n",
		"    identifier: https://api.example\n    signing_alg: ES256\n    token_lifetime: 90s\n", 1)
	cfg, err := tenant.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIs[0].SigningAlg != tenant.ES256 || time.Duration(cfg.APIs[0].TokenLifetime) != 90*time.Second {
		t.Errorf("explicit values overwritten: %+v", cfg.APIs[0])
	}
	b, _ := cfg.APIs[0].TokenLifetime.MarshalText()
	if string(b) != "1m30s" {
		t.Errorf("MarshalText = %q", b)
	}
}

func TestParseRejectsBrokenTenants(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // every substring must appear in the error
	}{
		{"unknown signing alg",
			strings.Replace(validTenant(), "    identifier: https://api.example\n", "    identifier: https://api.example\n    signing_alg: RS257\n", 1),
			[]string{"apis[0].signing_alg", "RS257"}},
		{"redirect uri with fragment",
			apiSection + apps(webApp, strings.NewReplacer("client_id: web", "client_id: web2",
				"https://app.example/callback", "https://app.example/cb#frag").Replace(webApp)),
			[]string{"applications[1].redirect_uris[0]", "fragment"}},
		{"relative redirect uri",
			apiSection + apps(strings.Replace(webApp, "https://app.example/callback", "/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "absolute"}},
		{"client grant scope not defined by the API",
			apiSection + apps(m2mApp) + "\nclient_grants:\n  - {client_id: sync, audience: https://api.example, scopes: [delete:things]}\n",
			[]string{"client_grants[0].scopes[0]", "delete:things"}},
		{"client grant for an unknown API",
			apiSection + apps(m2mApp) + "\nclient_grants:\n  - {client_id: sync, audience: https://nope.example, scopes: [read:things]}\n",
			[]string{"client_grants[0].audience"}},
		{"client grant for an app without client_credentials",
			apiSection + apps(webApp) + "\nclient_grants:\n  - {client_id: web, audience: https://api.example, scopes: [read:things]}\n",
			[]string{"client_grants[0].client_id", "client_credentials"}},
		{"user in an unknown account",
			apiSection + apps(webApp) + accountsSection + strings.Replace(userSection, "[acme, globex]", "[initech]", 1),
			[]string{"users[0].accounts[0]", "initech"}},
		{"duplicate client_id",
			apiSection + apps(webApp, webApp),
			[]string{"applications[1].client_id", `"web"`}},
		{"HS256 without a 32-byte secret",
			strings.Replace(apiSection, "    identifier: https://api.example\n",
				"    identifier: https://api.example\n    signing_alg: HS256\n    signing_secret: 0123456789abcdef0123456789abcde\n", 1) + apps(webApp),
			[]string{"apis[0].signing_secret", "32 bytes"}},
		{"HS256 with no secret at all",
			strings.Replace(apiSection, "    identifier: https://api.example\n",
				"    identifier: https://api.example\n    signing_alg: HS256\n", 1) + apps(webApp),
			[]string{"apis[0].signing_secret"}},
		{"secret on an RS256 API",
			strings.Replace(apiSection, "    identifier: https://api.example\n",
				"    identifier: https://api.example\n    signing_secret: "+strings.Repeat("s", 40)+"\n", 1) + apps(webApp),
			[]string{"apis[0].signing_secret", "only HS256"}},
		{"SPA with a secret",
			apiSection + apps(webApp, spaApp+"    client_secret_sha256: "+secretHash+"\n"),
			[]string{"applications[1].client_secret_sha256"}},
		{"SPA with a secret-based auth method",
			apiSection + apps(spaApp+"    token_endpoint_auth_method: client_secret_basic\n    client_secret_sha256: "+secretHash+"\n"),
			[]string{"applications[0].token_endpoint_auth_method"}},
		{"M2M with authorization_code",
			apiSection + apps(webApp, strings.Replace(m2mApp, "[client_credentials]", "[authorization_code]", 1)),
			[]string{"applications[1].grant_types[0]", "machine_to_machine"}},
		{"confidential app with a malformed secret hash",
			apiSection + apps(strings.Replace(webApp, secretHash, "not-hex", 1)),
			[]string{"applications[0].client_secret_sha256", "64 hex"}},
		{"unknown grant type",
			apiSection + apps(strings.Replace(webApp, "[authorization_code, refresh_token]", "[authorization_code, magic]", 1)),
			[]string{"applications[0].grant_types[1]", "magic"}},
		{"scope reserved by OIDC",
			strings.Replace(apiSection, "value: write:things", "value: offline_access", 1) + apps(webApp),
			[]string{"apis[0].scopes[1].value", "OpenID Connect"}},
		{"scope defined twice",
			strings.Replace(apiSection, "value: write:things", "value: read:things", 1) + apps(webApp),
			[]string{"apis[0].scopes[1].value", "twice"}},
		{"password hash not bcrypt",
			apiSection + apps(webApp) + accountsSection + strings.Replace(userSection, "$2a$10$", "plain", 1),
			[]string{"users[0].password_hash", "bcrypt"}},
		{"duplicate email ignoring case",
			apiSection + apps(webApp) + accountsSection + userSection +
				"  - {id: u2, email: ann@example.COM, password_hash: $2a$10$x}\n",
			[]string{"users[1].email"}},
		{"http redirect uri on a public host",
			apiSection + apps(strings.Replace(webApp, "https://app.example/callback", "http://app.example/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "https"}},
		{"http redirect uri on a host that only starts like loopback",
			apiSection + apps(strings.Replace(webApp, "https://app.example/callback", "http://127.0.0.1.evil.example/cb", 1)),
			[]string{"applications[0].redirect_uris[0]", "loopback"}},
		{"https redirect uri without a host",
			apiSection + apps(strings.Replace(webApp, "https://app.example/callback", "https:/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "no host"}},
		{"private-use scheme on a web app",
			apiSection + apps(strings.Replace(webApp, "https://app.example/callback", "com.example.web:/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "native"}},
		{"private-use scheme on an SPA",
			apiSection + apps(strings.Replace(spaApp, "https://spa.example/callback", "com.example.spa:/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "native"}},
		{"native app with a scheme that is not private-use",
			apiSection + apps(strings.Replace(nativeApp, "example.mobile:/callback", "mobile:/callback", 1)),
			[]string{"applications[0].redirect_uris[0]", "private-use"}},
		{"javascript redirect uri",
			apiSection + apps(spaApp, strings.NewReplacer("client_id: spa", "client_id: spa2",
				"https://spa.example/callback", "javascript:alert(1)").Replace(spaApp)),
			[]string{"applications[1].redirect_uris[0]", "https"}},
		{"consent for an undefined scope",
			apiSection + apps(webApp) + accountsSection + userSection +
				"\nconsents:\n  - {user_id: u1, client_id: web, audience: https://api.example, scopes: [read:things, admin]}\n",
			[]string{"consents[0].scopes[1]", "admin"}},
		{"default audience unknown",
			"default_audience: https://nope.example\n" + apiSection + apps(webApp),
			[]string{"default_audience"}},
		{"account claim not namespaced",
			"account_claim: accounts\n" + apiSection + apps(webApp),
			[]string{"account_claim"}},
		{"token lifetime below a second",
			strings.Replace(apiSection, "    identifier: https://api.example\n", "    identifier: https://api.example\n    token_lifetime: 10ms\n", 1) + apps(webApp),
			[]string{"apis[0].token_lifetime"}},
		{"unknown field (strict decoding)",
			strings.Replace(validTenant(), "  - name: Things API\n", "  - name: Things API\n    colour: blue\n", 1),
			[]string{"colour", "line 4"}},
		{"wrong YAML type",
			"apis: {name: x}\n",
			[]string{"line 1"}},
		{"empty file", "", []string{"empty"}},
		{"only a comment", "# nothing here\n", []string{"empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tenant.Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted the tenant: %+v", cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// A bad duration is a typo a user makes in the file; the error must say where it is, like every other
// problem does, instead of only quoting the value.
func TestParseBadDurationNamesItsLocation(t *testing.T) {
	doc := strings.Replace(validTenant(), "    identifier: https://api.example\n",
		"    identifier: https://api.example\n    token_lifetime: soon\n", 1)
	_, err := tenant.Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse accepted token_lifetime: soon")
	}
	if !strings.Contains(err.Error(), "soon") {
		t.Errorf("error does not quote the bad value: %v", err)
	}
	if !strings.Contains(err.Error(), "token_lifetime") && !strings.Contains(err.Error(), "line 5") {
		t.Errorf("error names neither the field (token_lifetime) nor its line (5): %v", err)
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	doc := strings.Replace(apiSection, "    identifier: https://api.example\n",
		"    identifier: https://api.example\n    signing_alg: XX\n", 1) +
		apps(webApp, spaApp+"    client_secret_sha256: "+secretHash+"\n") +
		accountsSection + strings.Replace(userSection, "[acme, globex]", "[acme, nobody]", 1)
	_, err := tenant.Parse([]byte(doc))
	if err == nil {
		t.Fatal("Parse accepted a tenant with three problems")
	}
	for _, w := range []string{"apis[0].signing_alg", "applications[1].client_secret_sha256", "users[0].accounts[1]"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error misses %q:\n%v", w, err)
		}
	}
	if n := len(strings.Split(strings.TrimSpace(err.Error()), "\n")); n < 3 {
		t.Errorf("want one line per problem, got %d:\n%v", n, err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(good, []byte(validTenant()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(apiSection+apps(webApp, webApp)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := tenant.LoadFile(good); err != nil {
		t.Errorf("LoadFile(good): %v", err)
	}
	_, err := tenant.LoadFile(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "applications[1].client_id") {
		t.Errorf("LoadFile(bad) = %v; want the path and the field", err)
	}
	if _, err := tenant.LoadFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

func TestIsOIDCScope(t *testing.T) {
	for s, want := range map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true,
		"read:contacts": false, "": false, "OPENID": false} {
		if got := tenant.IsOIDCScope(s); got != want {
			t.Errorf("IsOIDCScope(%q) = %v, want %v", s, got, want)
		}
	}
}

// Loopback redirect URIs may use http (RFC 8252 §7.3, §8.3), and native apps private-use schemes
// (RFC 8252 §7.1).
func TestParseAcceptsLoopbackAndPrivateUseRedirectURIs(t *testing.T) {
	web := strings.Replace(webApp, "[https://app.example/callback]",
		`[https://app.example/callback, "http://127.0.0.1:8080/cb", "http://[::1]/cb", "http://localhost:3000/cb"]`, 1)
	mobile := strings.Replace(nativeApp, `["example.mobile:/callback"]`,
		`["example.mobile:/callback", "com.example.mobile:/oauth/cb", "http://127.0.0.1/cb", "https://mobile.example/cb"]`, 1)
	spa := strings.Replace(spaApp, "[https://spa.example/callback]", `[https://spa.example/callback, "http://localhost:5173/"]`, 1)
	cfg, err := tenant.Parse([]byte(apiSection + apps(web, mobile, spa)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if n := len(cfg.Applications[0].RedirectURIs) + len(cfg.Applications[1].RedirectURIs) + len(cfg.Applications[2].RedirectURIs); n != 10 {
		t.Errorf("%d redirect URIs, want 10", n)
	}
}

// Seeded consents remember what the user agreed to on the consent page, OIDC scopes included.
func TestParseAcceptsOIDCScopesInConsents(t *testing.T) {
	doc := apiSection + apps(webApp) + accountsSection + userSection + `
consents:
  - {user_id: u1, client_id: web, audience: https://api.example, scopes: [openid, profile, email, offline_access, read:things]}
`
	cfg, err := tenant.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := strings.Join(cfg.Consents[0].Scopes, " "); got != "openid profile email offline_access read:things" {
		t.Errorf("consent scopes = %q", got)
	}
	// Client grants carry API scopes only.
	_, err = tenant.Parse([]byte(apiSection + apps(m2mApp) +
		"\nclient_grants:\n  - {client_id: sync, audience: https://api.example, scopes: [read:things, openid]}\n"))
	if err == nil || !strings.Contains(err.Error(), "client_grants[0].scopes[1]") {
		t.Errorf("client grant with openid: err = %v, want client_grants[0].scopes[1] named", err)
	}
}

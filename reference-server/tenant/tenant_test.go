package tenant_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

func fixtureConfig(t testing.TB) *tenant.Config {
	t.Helper()
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatalf("fixtures.Tenant: %v", err)
	}
	return cfg
}

func TestLookups(t *testing.T) {
	tn := tenant.New(fixtureConfig(t))
	const contacts = "https://api.contacts.example"

	t.Run("API", func(t *testing.T) {
		if a := tn.API(contacts); a == nil || a.Name != "Contacts API" {
			t.Errorf("API(%q) = %+v", contacts, a)
		}
		if tn.API("https://api.contacts.example/") != nil {
			t.Error("API matched an identifier with a trailing slash: identifiers compare exactly")
		}
	})
	t.Run("Application", func(t *testing.T) {
		if a := tn.Application("acme-cms"); a == nil || a.Name != "Acme CMS" {
			t.Errorf("Application(acme-cms) = %+v", a)
		}
		if tn.Application("ACME-CMS") != nil || tn.Application("") != nil {
			t.Error("client_id look-up is not exact")
		}
	})
	t.Run("ClientGrant", func(t *testing.T) {
		cases := []struct {
			client, audience string
			want             []string
		}{
			{"acme-sync", contacts, []string{"read:contacts"}},
			{"contacts-importer", contacts, []string{"read:contacts", "update:contacts"}},
			{"contacts-importer", "https://reports.contacts.example", []string{"read:reports"}},
			{"acme-sync", "https://reports.contacts.example", nil},
			{"contacts-web", contacts, nil},
			{"nobody", contacts, nil},
		}
		for _, c := range cases {
			g := tn.ClientGrant(c.client, c.audience)
			switch {
			case c.want == nil && g != nil:
				t.Errorf("ClientGrant(%s, %s) = %+v, want none", c.client, c.audience, g)
			case c.want != nil && (g == nil || strings.Join(g.Scopes, " ") != strings.Join(c.want, " ")):
				t.Errorf("ClientGrant(%s, %s) = %+v, want scopes %v", c.client, c.audience, g, c.want)
			}
		}
	})
	t.Run("UserByEmail", func(t *testing.T) {
		for _, email := range []string{"paul@globex.example", "PAUL@Globex.Example", "  paul@globex.example "} {
			if u := tn.UserByEmail(email); u == nil || u.ID != "user-paul" {
				t.Errorf("UserByEmail(%q) = %+v, want user-paul", email, u)
			}
		}
		if tn.UserByEmail("nobody@globex.example") != nil || tn.UserByEmail("") != nil {
			t.Error("UserByEmail found an unknown user")
		}
	})
	t.Run("User and Account", func(t *testing.T) {
		if u := tn.User("user-sam"); u == nil || len(u.Accounts) != 2 {
			t.Errorf("User(user-sam) = %+v", u)
		}
		if tn.User("sam@globex.example") != nil {
			t.Error("User looked up by email")
		}
		if a := tn.Account("initech"); a == nil || len(a.Contacts) != 2 {
			t.Errorf("Account(initech) = %+v", a)
		}
		if tn.Account("umbrella") != nil {
			t.Error("unknown account found")
		}
	})
	t.Run("RefreshTokenLifetime", func(t *testing.T) {
		if got := tn.RefreshTokenLifetime(); got != 720*time.Hour {
			t.Errorf("RefreshTokenLifetime = %v, want 720h", got)
		}
	})
}

func TestApplicationHelpers(t *testing.T) {
	app := tenant.Application{RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"authorization_code"},
		TokenEndpointAuthMethod: tenant.AuthNone}
	if !app.HasRedirectURI("https://a.example/cb") {
		t.Error("registered redirect URI refused")
	}
	for _, u := range []string{"https://a.example/cb/", "https://a.example/cb?x=1", "https://a.example/c", "HTTPS://a.example/cb"} {
		if app.HasRedirectURI(u) {
			t.Errorf("HasRedirectURI(%q) = true; redirect URIs must match exactly", u)
		}
	}
	if !app.Public() || app.AllowsGrant("refresh_token") || !app.AllowsGrant("authorization_code") {
		t.Errorf("Public/AllowsGrant wrong for %+v", app)
	}
}

func TestReplace(t *testing.T) {
	tn := tenant.New(fixtureConfig(t))

	t.Run("bad config keeps the old one", func(t *testing.T) {
		before := tn.Config()
		bad := fixtureConfig(t)
		bad.APIs[0].SigningAlg = "none"
		bad.Applications = append(bad.Applications, bad.Applications[0]) // duplicate client_id
		err := tn.Replace(bad)
		if err == nil {
			t.Fatal("Replace accepted an invalid config")
		}
		if !strings.Contains(err.Error(), "apis[0].signing_alg") {
			t.Errorf("error does not name the field: %v", err)
		}
		if tn.Config() != before || tn.API("https://api.contacts.example").SigningAlg != tenant.RS256 {
			t.Error("a rejected Replace changed the tenant")
		}
	})
	t.Run("good config takes effect and gets defaults", func(t *testing.T) {
		cfg := fixtureConfig(t)
		cfg.Users = cfg.Users[:1]
		cfg.APIs[0].TokenLifetime = 0
		cfg.AccountClaim = ""
		if err := tn.Replace(cfg); err != nil {
			t.Fatal(err)
		}
		if tn.User("user-sam") != nil || tn.UserByEmail("sam@globex.example") != nil {
			t.Error("a removed user is still found")
		}
		if tn.User("user-paul") == nil {
			t.Error("a kept user is gone")
		}
		if got := time.Duration(tn.API("https://api.contacts.example").TokenLifetime); got != tenant.DefaultTokenLifetime {
			t.Errorf("Replace did not apply defaults: token lifetime %v", got)
		}
		if tn.Config().AccountClaim != tenant.DefaultAccountClaim {
			t.Errorf("Replace did not default account_claim: %q", tn.Config().AccountClaim)
		}
	})
}

// Look-ups never lock; run with -race to check that Replace publishes whole, consistent snapshots.
func TestLookupsDuringReplace(t *testing.T) {
	full, small := fixtureConfig(t), fixtureConfig(t)
	small.Users = small.Users[:1]
	tn := tenant.New(full)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var lookups atomic.Int64
	errs := make(chan string, 64)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cfg := tn.Config()
				if cfg == nil || tn.Application("contacts-web") == nil || tn.API("https://api.contacts.example") == nil {
					errs <- "a look-up saw no config or lost an entry present in every config"
					return
				}
				if u := tn.UserByEmail("SAM@globex.example"); u != nil && u.ID != "user-sam" {
					errs <- "UserByEmail returned the wrong user: " + u.ID
					return
				}
				if g := tn.ClientGrant("acme-sync", "https://api.contacts.example"); g == nil || len(g.Scopes) != 1 {
					errs <- "ClientGrant lost its entry"
					return
				}
				lookups.Add(1)
			}
		}()
	}
	for lookups.Load() < 100 { // the readers are running before the first replacement
		runtime.Gosched()
	}
	before := lookups.Load()
	// At least 50 replacements, and on until the readers have run between them (a busy machine
	// may not schedule them during the first 50), within a bound.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 50 || lookups.Load() < before+100 && time.Now().Before(deadline); i++ {
		runtime.Gosched() // on two cores, let the readers in between replacements
		next := small
		if i%2 == 1 {
			next = full
		}
		if err := tn.Replace(next); err != nil {
			t.Fatal(err)
		}
	}
	if err := tn.Replace(full); err != nil { // end on the full config, however many ran
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if lookups.Load() == before {
		t.Error("no look-up ran during the replacements")
	}
	if tn.User("user-sam") == nil {
		t.Error("the last Replace (full config) is not in force")
	}
}

// RFC 8252 §7.3: a native app's loopback redirect URI matches with any port; nothing else loosens the
// exact comparison.
func TestHasRedirectURILoopbackPortForNativeApps(t *testing.T) {
	registered := []string{"http://127.0.0.1/cb", "http://[::1]:8080/cb?x=1", "http://localhost/cb",
		"https://app.example/cb", "example.app:/cb"}
	native := tenant.Application{Type: tenant.Native, RedirectURIs: registered}
	web := tenant.Application{Type: tenant.RegularWeb, RedirectURIs: registered}

	for _, u := range registered {
		if !native.HasRedirectURI(u) || !web.HasRedirectURI(u) {
			t.Errorf("registered %q refused", u)
		}
	}
	anyPort := []string{"http://127.0.0.1:51004/cb", "http://127.0.0.1:1/cb", "http://127.0.0.1:65535/cb",
		"http://[::1]/cb?x=1", "http://[::1]:40000/cb?x=1"}
	for _, u := range anyPort {
		if !native.HasRedirectURI(u) {
			t.Errorf("native: %q refused; the loopback port must not matter", u)
		}
		if web.HasRedirectURI(u) {
			t.Errorf("regular_web: %q accepted; only native apps get port-agnostic loopback", u)
		}
	}
	for _, u := range []string{
		"http://127.0.0.1:8080/cb/", "http://127.0.0.1:8080/CB", "http://127.0.0.1:8080/cb?x=1", // path and query exact
		"http://127.0.0.1:0/cb", "http://127.0.0.1:65536/cb", "http://127.0.0.1:/cb", "http://127.0.0.1:123456/cb",
		"http://127.0.0.1:80@evil.example/cb", "http://127.0.0.1.evil.example/cb", "http://127.0.0.1:8080.evil/cb",
		"https://127.0.0.1:8080/cb", "HTTP://127.0.0.1:8080/cb", "http://127.0.0.2:8080/cb",
		"http://[::1]:8080/cb",     // registered with ?x=1
		"http://localhost:8080/cb", // localhost is not a loopback IP literal: exact only
		"http://[0:0:0:0:0:0:0:1]/cb?x=1", "https://app.example:8443/cb", "example.app:/cb/",
	} {
		if native.HasRedirectURI(u) {
			t.Errorf("native: HasRedirectURI(%q) = true", u)
		}
	}
}

func TestSecretDigest(t *testing.T) {
	tn := tenant.New(fixtureConfig(t))
	for _, app := range tn.Config().Applications {
		got := tn.SecretDigest(app.ClientID)
		if app.ClientSecretSHA256 == "" {
			if got != nil {
				t.Errorf("%s has no secret but SecretDigest = %x", app.ClientID, got)
			}
			continue
		}
		if hex.EncodeToString(got) != app.ClientSecretSHA256 || len(got) != sha256.Size {
			t.Errorf("SecretDigest(%s) = %x, want %s", app.ClientID, got, app.ClientSecretSHA256)
		}
	}
	if tn.SecretDigest("nobody") != nil {
		t.Error("SecretDigest of an unknown client is not nil")
	}
	// Replace re-indexes: a rotated secret takes effect.
	cfg := fixtureConfig(t)
	for i := range cfg.Applications {
		if cfg.Applications[i].ClientID == "acme-sync" {
			cfg.Applications[i].ClientSecretSHA256 = strings.Repeat("ab", 32)
		}
	}
	if err := tn.Replace(cfg); err != nil {
		t.Fatal(err)
	}
	if got := tn.SecretDigest("acme-sync"); !bytes.Equal(got, bytes.Repeat([]byte{0xab}, 32)) {
		t.Errorf("after Replace, SecretDigest(acme-sync) = %x", got)
	}
}

func TestAllowedOrigin(t *testing.T) {
	cfg := fixtureConfig(t)
	cfg.Applications = append(cfg.Applications,
		tenant.Application{Name: "Dev SPA", ClientID: "dev-spa", Type: tenant.SPA, TokenEndpointAuthMethod: tenant.AuthNone,
			GrantTypes:   []string{tenant.GrantAuthorizationCode},
			RedirectURIs: []string{"http://localhost:5173/callback", "https://SPA2.Example:443/cb", "http://[::1]:8080/", "http://127.0.0.1:80/x"}})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tn := tenant.New(cfg)
	for _, o := range []string{"https://spa.contacts.example", "http://localhost:5173", "https://spa2.example",
		"http://[::1]:8080", "http://127.0.0.1"} {
		if !tn.AllowedOrigin(o) {
			t.Errorf("AllowedOrigin(%q) = false", o)
		}
	}
	for _, o := range []string{
		"https://spa.contacts.example/", "https://spa.contacts.example:443", "http://spa.contacts.example",
		"https://SPA.contacts.example", "https://evil.spa.contacts.example", "https://spa.contacts.example.evil",
		"http://localhost", "http://localhost:5174", "https://spa2.example:443",
		"https://app.contacts.example", // a regular web app's redirect origin
		"https://cms.acme.example",     // a third-party web app's
		"null", "",
	} {
		if tn.AllowedOrigin(o) {
			t.Errorf("AllowedOrigin(%q) = true", o)
		}
	}
}

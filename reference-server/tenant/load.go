package tenant

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied where the YAML leaves a field empty.
const (
	DefaultTokenLifetime        = 24 * time.Hour
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	DefaultAccountClaim         = "https://oauth-harness.dev/accounts"
)

// LoadFile reads and validates a tenant YAML file.
func LoadFile(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tenant: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes tenant YAML strictly (unknown fields are errors), applies defaults and validates it.
func Parse(b []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("tenant: the file is empty")
		}
		return nil, fmt.Errorf("tenant: %w", err)
	}
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) applyDefaults() {
	if c.AccountClaim == "" {
		c.AccountClaim = DefaultAccountClaim
	}
	if c.RefreshTokenLifetime == 0 {
		c.RefreshTokenLifetime = Duration(DefaultRefreshTokenLifetime)
	}
	for i := range c.APIs {
		a := &c.APIs[i]
		if a.SigningAlg == "" {
			a.SigningAlg = RS256
		}
		if a.TokenLifetime == 0 {
			a.TokenLifetime = Duration(DefaultTokenLifetime)
		}
	}
	for i := range c.Applications {
		a := &c.Applications[i]
		if a.TokenEndpointAuthMethod == "" {
			if a.Type == SPA || a.Type == Native {
				a.TokenEndpointAuthMethod = AuthNone
			} else {
				a.TokenEndpointAuthMethod = AuthClientSecretBasic
			}
		}
	}
}

// problems collects every validation error so a user fixes the file in one pass.
type problems []error

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
}

// Validate checks the whole tenant and names each bad field, for example `apis[0].signing_alg`.
func (c *Config) Validate() error {
	var p problems
	apis := map[string]*API{}
	for i := range c.APIs {
		c.APIs[i].validate(&p, fmt.Sprintf("apis[%d]", i))
		a := &c.APIs[i]
		if apis[a.Identifier] != nil {
			p.add(fmt.Sprintf("apis[%d].identifier", i), "%q is used by another API", a.Identifier)
		}
		apis[a.Identifier] = a
	}
	apps := map[string]*Application{}
	for i := range c.Applications {
		f := fmt.Sprintf("applications[%d]", i)
		c.Applications[i].validate(&p, f)
		a := &c.Applications[i]
		if apps[a.ClientID] != nil {
			p.add(f+".client_id", "%q is used by another application", a.ClientID)
		}
		apps[a.ClientID] = a
	}
	for i, g := range c.ClientGrants {
		f := fmt.Sprintf("client_grants[%d]", i)
		app, api := apps[g.ClientID], apis[g.Audience]
		switch {
		case app == nil:
			p.add(f+".client_id", "no application has client_id %q", g.ClientID)
		case !app.AllowsGrant(GrantClientCredentials):
			p.add(f+".client_id", "application %q is not allowed the client_credentials grant", g.ClientID)
		}
		if api == nil {
			p.add(f+".audience", "no API has identifier %q", g.Audience)
		} else {
			checkScopes(&p, f+".scopes", api, g.Scopes, false)
		}
	}
	accounts := map[string]bool{}
	for i, a := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		required(&p, f+".id", a.ID)
		if accounts[a.ID] {
			p.add(f+".id", "%q is used by another account", a.ID)
		}
		accounts[a.ID] = true
	}
	users := map[string]bool{}
	emails := map[string]bool{}
	for i, u := range c.Users {
		f := fmt.Sprintf("users[%d]", i)
		required(&p, f+".id", u.ID)
		required(&p, f+".email", u.Email)
		if !strings.HasPrefix(u.PasswordHash, "$2") {
			p.add(f+".password_hash", "must be a bcrypt hash ($2a$/$2b$...)")
		}
		if users[u.ID] {
			p.add(f+".id", "%q is used by another user", u.ID)
		}
		if emails[strings.ToLower(u.Email)] {
			p.add(f+".email", "%q is used by another user", u.Email)
		}
		users[u.ID], emails[strings.ToLower(u.Email)] = true, true
		for j, acc := range u.Accounts {
			if !accounts[acc] {
				p.add(fmt.Sprintf("%s.accounts[%d]", f, j), "no account has id %q", acc)
			}
		}
	}
	for i, cs := range c.Consents {
		f := fmt.Sprintf("consents[%d]", i)
		if !users[cs.UserID] {
			p.add(f+".user_id", "no user has id %q", cs.UserID)
		}
		if apps[cs.ClientID] == nil {
			p.add(f+".client_id", "no application has client_id %q", cs.ClientID)
		}
		if api := apis[cs.Audience]; api == nil {
			p.add(f+".audience", "no API has identifier %q", cs.Audience)
		} else {
			// A remembered consent covers the OIDC scopes of the request as well as the API's.
			checkScopes(&p, f+".scopes", api, cs.Scopes, true)
		}
	}
	for i, d := range c.Defects {
		if !slices.Contains(defects.Names(), d) {
			p.add(fmt.Sprintf("defects[%d]", i), "%q is not a defect switch (known: %s)", d, strings.Join(defects.Names(), ", "))
		}
	}
	if c.DefaultAudience != "" && apis[c.DefaultAudience] == nil {
		p.add("default_audience", "no API has identifier %q", c.DefaultAudience)
	}
	if c.ContactsAPI != "" && apis[c.ContactsAPI] == nil {
		p.add("contacts_api", "no API has identifier %q", c.ContactsAPI)
	}
	if _, err := url.Parse(c.AccountClaim); err != nil || !strings.Contains(c.AccountClaim, "/") {
		p.add("account_claim", "must be a namespaced claim such as %q", DefaultAccountClaim)
	}
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("tenant: %w", errors.Join(p...))
}

func (a *API) validate(p *problems, f string) {
	required(p, f+".name", a.Name)
	required(p, f+".identifier", a.Identifier)
	if !slices.Contains(SigningAlgs, a.SigningAlg) {
		p.add(f+".signing_alg", "%q is not one of %s", a.SigningAlg, strings.Join(SigningAlgs, ", "))
	}
	switch {
	case a.SigningAlg == HS256 && len(a.SigningSecret) < 32:
		p.add(f+".signing_secret", "HS256 needs a secret of at least 32 bytes")
	case a.SigningAlg != HS256 && a.SigningSecret != "":
		p.add(f+".signing_secret", "only HS256 APIs take a signing secret")
	}
	if a.TokenLifetime < Duration(time.Second) {
		p.add(f+".token_lifetime", "must be at least 1s")
	}
	seen := map[string]bool{}
	for j, s := range a.Scopes {
		sf := fmt.Sprintf("%s.scopes[%d]", f, j)
		if s.Value == "" || strings.ContainsAny(s.Value, " \"\\") {
			p.add(sf+".value", "must be a non-empty scope token without spaces or quotes")
		}
		if IsOIDCScope(s.Value) {
			p.add(sf+".value", "%q is reserved by OpenID Connect", s.Value)
		}
		if seen[s.Value] {
			p.add(sf+".value", "%q is defined twice", s.Value)
		}
		seen[s.Value] = true
		required(p, sf+".description", s.Description)
	}
}

func (a *Application) validate(p *problems, f string) {
	required(p, f+".name", a.Name)
	required(p, f+".client_id", a.ClientID)
	if !slices.Contains([]string{RegularWeb, SPA, Native, MachineToMachine}, a.Type) {
		p.add(f+".type", "%q is not one of regular_web, spa, native, machine_to_machine", a.Type)
	}
	switch a.TokenEndpointAuthMethod {
	case AuthNone:
		if a.ClientSecretSHA256 != "" {
			p.add(f+".client_secret_sha256", "a public client (auth method none) has no secret")
		}
		if a.Type == MachineToMachine || a.Type == RegularWeb {
			p.add(f+".token_endpoint_auth_method", "a %s application must authenticate; none is for spa and native", a.Type)
		}
	case AuthClientSecretBasic, AuthClientSecretPost:
		if b, err := hex.DecodeString(a.ClientSecretSHA256); err != nil || len(b) != 32 {
			p.add(f+".client_secret_sha256", "must be the 64 hex digits of the secret's SHA-256")
		}
		if a.Type == SPA || a.Type == Native {
			p.add(f+".token_endpoint_auth_method", "a %s application cannot keep a secret; use none", a.Type)
		}
	case AuthPrivateKeyJWT:
		if a.ClientSecretSHA256 != "" {
			p.add(f+".client_secret_sha256", "a private_key_jwt client authenticates with its key, not a secret")
		}
		if a.Type == SPA || a.Type == Native {
			p.add(f+".token_endpoint_auth_method", "a %s application cannot keep a private key; use none", a.Type)
		}
		if a.JWKS == nil {
			p.add(f+".jwks", "private_key_jwt needs the client's public keys (a JWK Set)")
		}
	default:
		p.add(f+".token_endpoint_auth_method", "%q is not one of client_secret_basic, client_secret_post, private_key_jwt, none", a.TokenEndpointAuthMethod)
	}
	if a.JWKS != nil {
		if a.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
			p.add(f+".jwks", "only private_key_jwt clients have keys")
		}
		for _, why := range a.JWKS.problems() {
			*p = append(*p, fmt.Errorf("%s.jwks.%s", f, why))
		}
	}
	if len(a.GrantTypes) == 0 {
		p.add(f+".grant_types", "at least one grant type is needed")
	}
	for j, g := range a.GrantTypes {
		gf := fmt.Sprintf("%s.grant_types[%d]", f, j)
		switch g {
		case GrantAuthorizationCode, GrantRefreshToken:
			if a.Type == MachineToMachine {
				p.add(gf, "a machine_to_machine application acts for no user; it may only use client_credentials")
			}
		case GrantClientCredentials:
			if a.Public() {
				p.add(gf, "client_credentials needs a confidential client")
			}
		case GrantPassword:
			// RFC 9700 §2.4: the application sees the user's password, so only a trusted first party may.
			if !a.FirstParty {
				p.add(gf, "the password grant is only for trusted first-party applications (first_party: true)")
			}
		case GrantImplicit:
			if a.Type != SPA {
				p.add(gf, "the implicit grant is only for (legacy) spa applications")
			}
		default:
			p.add(gf, "%q is not a known grant type", g)
		}
	}
	for _, g := range []string{GrantAuthorizationCode, GrantImplicit} {
		if a.AllowsGrant(g) && len(a.RedirectURIs) == 0 {
			p.add(f+".redirect_uris", "%s needs at least one redirect URI", g)
		}
	}
	for j, r := range a.RedirectURIs {
		if err := checkRedirectURI(r, a.Type); err != nil {
			p.add(fmt.Sprintf("%s.redirect_uris[%d]", f, j), "%v", err)
		}
	}
}

// checkRedirectURI enforces absolute URIs without fragments (RFC 6749 §3.1.2), over TLS (RFC 6749
// §3.1.2.1, RFC 9700 §2.6) except for loopback (RFC 8252 §7.3), and private-use schemes only for
// native apps (RFC 8252 §7.1).
func checkRedirectURI(r, appType string) error {
	u, err := url.Parse(r)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URI", r)
	case !u.IsAbs():
		return fmt.Errorf("%q must be absolute", r)
	case u.Fragment != "" || strings.Contains(r, "#"):
		return fmt.Errorf("%q must not have a fragment", r)
	}
	switch {
	case u.Scheme == "https": // url.Parse lower-cases the scheme
		if u.Host == "" {
			return fmt.Errorf("%q has no host", r)
		}
	case u.Scheme == "http":
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%q must use https; http is only for loopback (127.0.0.1, [::1], localhost)", r)
		}
	case strings.Contains(u.Scheme, "."):
		if appType != Native {
			return fmt.Errorf("%q uses a private-use scheme, which only native applications may register", r)
		}
	default:
		return fmt.Errorf("%q must use https (http only on loopback; a native app may use a private-use scheme such as com.example.app:/callback)", r)
	}
	return nil
}

func isLoopbackHost(h string) bool { return h == "127.0.0.1" || h == "::1" || h == "localhost" }

// checkScopes checks that the API defines every scope; oidc admits the OpenID Connect scopes too.
func checkScopes(p *problems, f string, api *API, scopes []string, oidc bool) {
	for j, s := range scopes {
		if oidc && IsOIDCScope(s) {
			continue
		}
		if !api.HasScope(s) {
			p.add(fmt.Sprintf("%s[%d]", f, j), "API %q defines no scope %q", api.Identifier, s)
		}
	}
}

func required(p *problems, field, v string) {
	if strings.TrimSpace(v) == "" {
		p.add(field, "is required")
	}
}

// OIDC scopes are handled by the authorization server itself, not by an API.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// IsOIDCScope reports whether s is an OpenID Connect scope rather than an API permission.
func IsOIDCScope(s string) bool { return slices.Contains(oidcScopes, s) }

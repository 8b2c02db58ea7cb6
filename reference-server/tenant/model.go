// Package tenant holds the configuration model of the reference authorization server: the APIs,
// applications, client grants, accounts and users of one tenant, as the seed documents describe them.
// It is loaded from YAML, validated as a whole, and looked up concurrently at run time.
package tenant

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Signing algorithms an API may choose for its access tokens.
const (
	RS256 = "RS256"
	PS256 = "PS256"
	ES256 = "ES256"
	EdDSA = "EdDSA"
	HS256 = "HS256"
)

// SigningAlgs lists every supported access-token signing algorithm.
var SigningAlgs = []string{RS256, PS256, ES256, EdDSA, HS256}

// Application types, after the seeds' client kinds.
const (
	RegularWeb       = "regular_web"
	SPA              = "spa"
	Native           = "native"
	MachineToMachine = "machine_to_machine"
)

// Grant types an application may be allowed.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantImplicit          = "implicit"
)

// Token endpoint authentication methods (RFC 7591 names).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthNone              = "none"
)

// Duration is a time.Duration written in YAML as a Go duration string ("1h", "90s").
type Duration time.Duration

// UnmarshalYAML parses a Go duration string, naming the line of a bad one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{
			fmt.Sprintf("line %d: %q is not a duration like \"1h\" or \"90s\"", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Scope is one permission an API defines, with the description shown on the consent page.
type Scope struct {
	Value       string `yaml:"value"`
	Description string `yaml:"description"`
}

// API is a resource server as a first-class object: its identifier is the access tokens' audience.
type API struct {
	Name       string  `yaml:"name"`
	Identifier string  `yaml:"identifier"`
	Scopes     []Scope `yaml:"scopes"`
	// SigningAlg signs this API's access tokens; RS256 when empty.
	SigningAlg string `yaml:"signing_alg"`
	// SigningSecret is the shared HS256 key (at least 32 bytes); only for HS256.
	SigningSecret      string   `yaml:"signing_secret"`
	TokenLifetime      Duration `yaml:"token_lifetime"`
	AllowOfflineAccess bool     `yaml:"allow_offline_access"`
}

// HasScope reports whether the API defines scope s.
func (a *API) HasScope(s string) bool {
	for _, sc := range a.Scopes {
		if sc.Value == s {
			return true
		}
	}
	return false
}

// ScopeDescription returns the consent-page text of scope s.
func (a *API) ScopeDescription(s string) string {
	for _, sc := range a.Scopes {
		if sc.Value == s {
			return sc.Description
		}
	}
	return ""
}

// Application is an OAuth client registered with the tenant.
type Application struct {
	Name     string `yaml:"name"`
	ClientID string `yaml:"client_id"`
	// ClientSecretSHA256 is the hex SHA-256 of the client secret. Secrets are high-entropy random
	// strings, so a fast hash compared in constant time is enough; a slow KDF would sit on the hot path.
	ClientSecretSHA256      string   `yaml:"client_secret_sha256"`
	Type                    string   `yaml:"type"`
	FirstParty              bool     `yaml:"first_party"`
	RedirectURIs            []string `yaml:"redirect_uris"`
	GrantTypes              []string `yaml:"grant_types"`
	TokenEndpointAuthMethod string   `yaml:"token_endpoint_auth_method"`
}

// Public reports whether the client cannot keep a secret (SPA, native, auth method none).
func (a *Application) Public() bool { return a.TokenEndpointAuthMethod == AuthNone }

// AllowsGrant reports whether the application may use grant type g.
func (a *Application) AllowsGrant(g string) bool {
	for _, v := range a.GrantTypes {
		if v == g {
			return true
		}
	}
	return false
}

// HasRedirectURI reports whether uri is registered, compared exactly: no prefix or pattern matching,
// no case folding, no normalisation. The one exception is RFC 8252 §7.3: for a native application, a
// registered http://127.0.0.1/... or http://[::1]/... URI matches the same URI with any port, since
// the app listens on whatever port the operating system gives it.
func (a *Application) HasRedirectURI(uri string) bool {
	for _, v := range a.RedirectURIs {
		if v == uri {
			return true
		}
	}
	if a.Type != Native {
		return false
	}
	req, ok := withoutLoopbackPort(uri)
	if !ok {
		return false
	}
	for _, v := range a.RedirectURIs {
		if reg, ok := withoutLoopbackPort(v); ok && reg == req {
			return true
		}
	}
	return false
}

// withoutLoopbackPort returns uri without its port when it is an http URI on the loopback IP literal
// 127.0.0.1 or [::1] (exactly so spelt), and false otherwise. The port must be 1 to 65535 and be
// followed by the end, a path or a query, so that hosts such as 127.0.0.1.evil.example or
// 127.0.0.1:80@evil.example are not taken for loopback.
func withoutLoopbackPort(uri string) (string, bool) {
	var host string
	switch {
	case strings.HasPrefix(uri, "http://127.0.0.1"):
		host = "http://127.0.0.1"
	case strings.HasPrefix(uri, "http://[::1]"):
		host = "http://[::1]"
	default:
		return "", false
	}
	rest := uri[len(host):]
	if strings.HasPrefix(rest, ":") {
		end := 1
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		port, err := strconv.Atoi(rest[1:end])
		if end == 1 || end > 6 || err != nil || port < 1 || port > 65535 {
			return "", false
		}
		rest = rest[end:]
	}
	if rest != "" && rest[0] != '/' && rest[0] != '?' {
		return "", false
	}
	return host + rest, true
}

// ClientGrant lets a machine-to-machine application obtain tokens for one API with a subset of its scopes.
type ClientGrant struct {
	ClientID string   `yaml:"client_id"`
	Audience string   `yaml:"audience"`
	Scopes   []string `yaml:"scopes"`
}

// Contact is one record of the contacts API, seeded per account.
type Contact struct {
	ID    string `yaml:"id" json:"id"`
	Name  string `yaml:"name" json:"name"`
	Email string `yaml:"email" json:"email"`
}

// Account groups users and owns contacts; a user's token reaches only the user's accounts.
type Account struct {
	ID       string    `yaml:"id"`
	Name     string    `yaml:"name"`
	Contacts []Contact `yaml:"contacts"`
}

// User is a person who logs in. PasswordHash is bcrypt: login is not a hot path and
// user passwords are low-entropy, unlike client secrets.
type User struct {
	ID           string   `yaml:"id"`
	Email        string   `yaml:"email"`
	Name         string   `yaml:"name"`
	PasswordHash string   `yaml:"password_hash"`
	Accounts     []string `yaml:"accounts"`
}

// Consent is a remembered grant by a user to a third-party application for scopes of one API.
type Consent struct {
	UserID   string   `yaml:"user_id"`
	ClientID string   `yaml:"client_id"`
	Audience string   `yaml:"audience"`
	Scopes   []string `yaml:"scopes"`
}

// Config is the whole tenant as written in fixtures/tenant.yaml.
type Config struct {
	// DefaultAudience is used when an authorization or token request names no audience or resource.
	DefaultAudience string `yaml:"default_audience"`
	// AccountClaim is the namespaced access-token claim that carries the user's account ids.
	AccountClaim string `yaml:"account_claim"`
	// ContactsAPI is the identifier of the API the bundled contacts resource server serves.
	ContactsAPI          string        `yaml:"contacts_api"`
	RefreshTokenLifetime Duration      `yaml:"refresh_token_lifetime"`
	APIs                 []API         `yaml:"apis"`
	Applications         []Application `yaml:"applications"`
	ClientGrants         []ClientGrant `yaml:"client_grants"`
	Accounts             []Account     `yaml:"accounts"`
	Users                []User        `yaml:"users"`
	Consents             []Consent     `yaml:"consents"`
}

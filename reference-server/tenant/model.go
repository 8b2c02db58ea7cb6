// Package tenant holds the configuration model of the reference authorization server: the APIs,
// applications, client grants, accounts and users of one tenant, as the seed documents describe them.
// It is loaded from YAML, validated as a whole, and looked up concurrently at run time.
package tenant

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
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
	AuthPrivateKeyJWT     = "private_key_jwt" // RFC 7523 §2.2, OIDC Core §9
	AuthNone              = "none"
)

// AssertionAlgs are the algorithms a private_key_jwt client may sign its assertions with: asymmetric
// only, so that the server never holds a key that could forge them.
var AssertionAlgs = []string{RS256, PS256, ES256, EdDSA}

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
	// JWKS holds the public keys of a private_key_jwt client's assertions.
	JWKS *JWKSet `yaml:"jwks,omitempty"`
}

// AssertionKey returns the application's public key with this kid, or nil.
func (a *Application) AssertionKey(kid string) *jose.JSONWebKey {
	if a.JWKS == nil || kid == "" {
		return nil
	}
	for i := range a.JWKS.Keys {
		if a.JWKS.Keys[i].KeyID == kid {
			return &a.JWKS.Keys[i]
		}
	}
	return nil
}

// Public reports whether the client cannot keep a secret (SPA, native, auth method none).
func (a *Application) Public() bool { return a.TokenEndpointAuthMethod == AuthNone }

// AllowsGrant reports whether the application may use grant type g.
func (a *Application) AllowsGrant(g string) bool { return slices.Contains(a.GrantTypes, g) }

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
	// Defects names defect switches to start with (see package defects); never in a real tenant.
	Defects []string `yaml:"defects"`
}

// JWKSet is a JSON Web Key Set (RFC 7517 §5): in the YAML a mapping with a keys list, so a JWKS
// pasted as JSON works too. A key that does not parse keeps its place (as a zero key) and is reported
// by Validate with its path, like every other problem, instead of failing the whole decode.
type JWKSet struct {
	Keys []jose.JSONWebKey
	bad  map[int]string // index -> why the key did not parse
}

// UnmarshalYAML decodes the set through JSON, the form go-jose reads keys in.
func (s *JWKSet) UnmarshalYAML(n *yaml.Node) error {
	var doc struct {
		Keys []yaml.Node `yaml:"keys"`
	}
	if n.Kind != yaml.MappingNode || n.Decode(&doc) != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: jwks must be a JWK Set: a mapping with a keys list", n.Line)}}
	}
	raw := make([]json.RawMessage, len(doc.Keys))
	for i := range doc.Keys {
		var v any
		if err := doc.Keys[i].Decode(&v); err == nil {
			raw[i], _ = json.Marshal(v) // nil when v has non-string keys: reported as unparseable
		}
	}
	s.set(raw)
	return nil
}

// UnmarshalJSON reads a JWK Set document.
func (s *JWKSet) UnmarshalJSON(b []byte) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	s.set(doc.Keys)
	return nil
}

func (s *JWKSet) set(raw []json.RawMessage) {
	s.Keys, s.bad = make([]jose.JSONWebKey, len(raw)), nil
	for i, r := range raw {
		if err := s.Keys[i].UnmarshalJSON(r); err != nil || r == nil {
			if s.bad == nil {
				s.bad = map[int]string{}
			}
			s.bad[i] = "is not a JSON Web Key"
			if err != nil {
				s.bad[i] += ": " + err.Error()
			}
			s.Keys[i] = jose.JSONWebKey{}
		}
	}
}

// MarshalJSON writes the set as a JWKS document.
func (s JWKSet) MarshalJSON() ([]byte, error) { return json.Marshal(jose.JSONWebKeySet{Keys: s.Keys}) }

// MarshalYAML writes the set as the mapping UnmarshalYAML reads.
func (s JWKSet) MarshalYAML() (any, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var v any
	return v, json.Unmarshal(b, &v)
}

// problems checks that every key is a public signing key for an assertion algorithm, named by a
// unique kid: "keys[1].kid: ..." for each problem.
func (s *JWKSet) problems() []string {
	var out []string
	add := func(i int, field, format string, args ...any) {
		out = append(out, fmt.Sprintf("keys[%d]%s: %s", i, field, fmt.Sprintf(format, args...)))
	}
	if len(s.Keys) == 0 {
		return []string{"keys: at least one public signing key is needed"}
	}
	kids := map[string]bool{}
	for i, k := range s.Keys {
		if why, ok := s.bad[i]; ok {
			add(i, "", "%s", why)
			continue
		}
		if !k.IsPublic() {
			add(i, "", "must be a public key: private or symmetric key material (d, p, q, k...) is refused")
			continue
		}
		switch {
		case k.KeyID == "":
			add(i, ".kid", "is required: assertions name their key")
		case kids[k.KeyID]:
			add(i, ".kid", "%q is used by another key", k.KeyID)
		}
		kids[k.KeyID] = true
		if k.Use != "" && k.Use != "sig" {
			add(i, ".use", "%q: only signing keys (sig) are used", k.Use)
		}
		if why := keyFitsAlg(k); why != "" {
			add(i, "", "%s", why)
		}
	}
	return out
}

// keyFitsAlg checks the key's type and size, and its alg when it names one: RSA of at least 2048
// bits (RS256, PS256), P-256 (ES256), Ed25519 (EdDSA).
func keyFitsAlg(k jose.JSONWebKey) string {
	var fits []string
	switch pk := k.Key.(type) {
	case *rsa.PublicKey:
		if pk.N.BitLen() < 2048 {
			return fmt.Sprintf("an RSA key of %d bits is too short; 2048 at least", pk.N.BitLen())
		}
		fits = []string{RS256, PS256}
	case *ecdsa.PublicKey:
		if pk.Curve != elliptic.P256() {
			return fmt.Sprintf("EC curve %s is not supported; use P-256 (ES256)", pk.Curve.Params().Name)
		}
		fits = []string{ES256}
	case ed25519.PublicKey:
		fits = []string{EdDSA}
	default:
		return "the key type is not one of RSA, EC P-256, OKP Ed25519"
	}
	if k.Algorithm != "" && !slices.Contains(fits, k.Algorithm) {
		return fmt.Sprintf("alg %q does not fit the key; use one of %s", k.Algorithm, strings.Join(fits, ", "))
	}
	return ""
}

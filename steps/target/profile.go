// Package target describes a server under test: its issuer, the API it protects, the clients and
// users the conformance suite may use (by alias, as the features name them), the selectors of its
// login and consent pages, and the capabilities it has. The embedded reference server's profile is
// built from the fixtures; any other provider's is written in YAML.
package target

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Capabilities a target may have. A scenario tagged @needs-<capability> is skipped, with the reason
// reported, on a target that lacks it.
const (
	CapClientCredentials = "client-credentials"
	CapAuthorizationCode = "authorization-code"
	CapRefreshTokens     = "refresh-tokens"
	CapConsent           = "consent"
	CapUserInfo          = "userinfo"
	CapIntrospection     = "introspection"
	CapRevocation        = "revocation"
	CapRegistration      = "registration"
	CapImplicit          = "implicit"
	CapPassword          = "password"
	CapPrivateKeyJWT     = "private-key-jwt"
	CapAdmin             = "admin"
	CapContactsAPI       = "contacts-api"
	CapDefects           = "defects"
	// CapOAuthMetadata: RFC 8414 metadata at its own well-known location, beside the OpenID
	// configuration. Optional for an OpenID provider, so checked only when declared.
	CapOAuthMetadata = "oauth-metadata"
)

// KnownCapabilities lists every capability name.
var KnownCapabilities = []string{CapClientCredentials, CapAuthorizationCode, CapRefreshTokens, CapConsent,
	CapUserInfo, CapIntrospection, CapRevocation, CapRegistration, CapImplicit, CapPassword, CapPrivateKeyJWT,
	CapAdmin, CapContactsAPI, CapDefects, CapOAuthMetadata}

// Duration is a time.Duration written as "1h".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string, naming the line of a bad one.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration like \"1h\"", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as "1h0m0s", which UnmarshalYAML reads back.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// API is a protected API as the suite needs to know it.
type API struct {
	Identifier    string            `yaml:"identifier"` // the audience
	Scopes        map[string]string `yaml:"scopes"`     // scope -> the description the consent page shows
	TokenLifetime Duration          `yaml:"token_lifetime"`
	SigningAlg    string            `yaml:"signing_alg"`
	OfflineAccess bool              `yaml:"offline_access"`
}

// Client is an application registered at the target.
type Client struct {
	// Name is what the consent page calls the app (default: its alias in the profile).
	Name         string `yaml:"name"`
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	RedirectURI  string `yaml:"redirect_uri"`
	AuthMethod   string `yaml:"auth_method"` // client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none
	// PrivateKey is the client's private JWK (JSON) for private_key_jwt.
	PrivateKey string `yaml:"private_key"`
	FirstParty bool   `yaml:"first_party"`
	// Grants are the API scopes this client may get with client credentials, by API alias.
	Grants map[string][]string `yaml:"grants"`
}

// User can log in at the target.
type User struct {
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	Subject  string   `yaml:"subject"`  // the sub the target gives this user, when known
	Accounts []string `yaml:"accounts"` // accounts of the contacts API this user belongs to
}

// LoginSelectors find the login form.
type LoginSelectors struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	Submit   string `yaml:"submit"`
	Error    string `yaml:"error"`
}

// ConsentSelectors find the consent form.
type ConsentSelectors struct {
	Page       string `yaml:"page"`        // present only on the consent page
	ClientName string `yaml:"client_name"` // element whose text names the app
	Scope      string `yaml:"scope"`       // one element per requested scope (text: its description)
	Allow      string `yaml:"allow"`
	Deny       string `yaml:"deny"`
}

// Selectors are CSS selectors of the target's pages.
type Selectors struct {
	Login   LoginSelectors   `yaml:"login"`
	Consent ConsentSelectors `yaml:"consent"`
	// ErrorPage is present only on the page the server shows for a request it cannot send back.
	ErrorPage string `yaml:"error_page"`
}

// Profile is a target.
type Profile struct {
	Name         string            `yaml:"name"`
	Issuer       string            `yaml:"issuer"`
	APIBaseURL   string            `yaml:"api_base_url"`
	AccountClaim string            `yaml:"account_claim"`
	Capabilities []string          `yaml:"capabilities"`
	APIs         map[string]API    `yaml:"apis"`
	Clients      map[string]Client `yaml:"clients"`
	Users        map[string]User   `yaml:"users"`
	Selectors    Selectors         `yaml:"selectors"`
	// ResourceServer is a URL the provider's tokens protect, for the generic resource-server checks
	// (RFC 6750, RFC 9068 §4). The contacts API is one (capability contacts-api).
	ResourceServer *ResourceServer `yaml:"resource_server"`
	// Dialect is how the provider speaks where the specifications leave room (see dialect.go).
	Dialect    Dialect `yaml:"dialect"`
	AdminToken string  `yaml:"admin_token"`
	// RegistrationToken is the initial access token dynamic registration needs, if any (RFC 7591 §3).
	RegistrationToken string `yaml:"registration_token"`
	// Container, when set, starts the target from an image before the run. Its host port is known
	// only then: ${PORT} in issuer, api_base_url and the container's env stands for it.
	Container *Container `yaml:"container"`
}

// ResourceServer is one protected URL: GET with a valid access token for API answers 200.
type ResourceServer struct {
	URL string `yaml:"url"`
	API string `yaml:"api"` // the alias of the API whose tokens it takes
}

// CapResourceServer is met by a profile with a resource_server, or the contacts API's /me.
const CapResourceServer = "resource-server"

// ProtectedResource is the URL the generic resource-server scenarios call, and the API alias whose
// tokens it accepts.
func (p *Profile) ProtectedResource() (u, api string, ok bool) {
	switch {
	case p.ResourceServer != nil:
		return p.ResourceServer.URL, p.ResourceServer.API, true
	case p.Has(CapContactsAPI) && p.APIBaseURL != "":
		return strings.TrimSuffix(p.APIBaseURL, "/") + "/me", "Contacts API", true
	}
	return "", "", false
}

// Container is a provider image to start as the target.
type Container struct {
	Image          string            `yaml:"image"`
	Port           int               `yaml:"port"` // the container port the provider listens on
	Env            map[string]string `yaml:"env"`
	WaitPath       string            `yaml:"wait_path"` // answers 200 once the provider is ready
	StartupTimeout Duration          `yaml:"startup_timeout"`
}

// PortPlaceholder stands for the host port of a container target.
const PortPlaceholder = "${PORT}"

// AtPort is the profile with ${PORT} replaced by the container's host port.
func (p *Profile) AtPort(port int) *Profile {
	q := *p
	n := fmt.Sprint(port)
	q.Issuer = strings.ReplaceAll(p.Issuer, PortPlaceholder, n)
	q.APIBaseURL = strings.ReplaceAll(p.APIBaseURL, PortPlaceholder, n)
	return &q
}

// DefaultSelectors are the reference server's pages.
var DefaultSelectors = Selectors{
	Login: LoginSelectors{Username: "#username", Password: "#password", Submit: "#login-submit", Error: "#login-error"},
	Consent: ConsentSelectors{Page: "#consent-form", ClientName: "#client-name", Scope: "#consent-scopes li",
		Allow: "#consent-allow", Deny: "#consent-deny"},
	ErrorPage: "#error-code",
}

// Load reads and validates a profile file.
func Load(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	p, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Parse decodes a profile strictly (unknown fields are errors), fills default selectors and validates.
// ${NAME} in a value is the environment variable NAME (a secret kept out of the file, or a port
// known only at run time); ${PORT} is left for a container target's host port.
func Parse(b []byte) (*Profile, error) {
	b, err := expandEnv(b, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var p Profile
	if err = dec.Decode(&p); err != nil {
		if err.Error() == "EOF" {
			return nil, errors.New("target: the profile is empty")
		}
		return nil, fmt.Errorf("target: %w", err)
	}
	p.fillSelectors()
	p.Dialect.fillDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in the profile's scalar values (never in its structure: a value cannot
// add fields) with the variable's value. An unset variable is an error that names it.
func expandEnv(b []byte, lookup func(string) (string, bool)) ([]byte, error) {
	if !envRef.Match(b) {
		return b, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	var missing []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode {
			n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
				name := envRef.FindStringSubmatch(ref)[1]
				if "${"+name+"}" == PortPlaceholder {
					return ref
				}
				v, ok := lookup(name)
				if !ok {
					missing = append(missing, fmt.Sprintf("line %d: ${%s}", n.Line, name))
				}
				return v
			})
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if len(missing) > 0 {
		return nil, fmt.Errorf("target: these environment variables are not set: %s", strings.Join(missing, ", "))
	}
	return yaml.Marshal(&doc)
}

func (p *Profile) fillSelectors() {
	fill := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	l, c := &p.Selectors.Login, &p.Selectors.Consent
	fill(&l.Username, DefaultSelectors.Login.Username)
	fill(&l.Password, DefaultSelectors.Login.Password)
	fill(&l.Submit, DefaultSelectors.Login.Submit)
	fill(&l.Error, DefaultSelectors.Login.Error)
	fill(&c.Page, DefaultSelectors.Consent.Page)
	fill(&c.ClientName, DefaultSelectors.Consent.ClientName)
	fill(&c.Scope, DefaultSelectors.Consent.Scope)
	fill(&c.Allow, DefaultSelectors.Consent.Allow)
	fill(&c.Deny, DefaultSelectors.Consent.Deny)
	fill(&p.Selectors.ErrorPage, DefaultSelectors.ErrorPage)
}

// Validate checks the profile and names every bad field.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	checkURL := func(field, v string, required bool) {
		if v == "" {
			if required {
				bad(field, "is required")
			}
			return
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(field, "%q is not an http(s) URL", v)
		}
	}
	issuer, apiBase := p.Issuer, p.APIBaseURL
	if c := p.Container; c != nil {
		issuer, apiBase = strings.ReplaceAll(issuer, PortPlaceholder, "1"), strings.ReplaceAll(apiBase, PortPlaceholder, "1")
		if c.Image == "" {
			bad("container.image", "is required")
		}
		if c.Port <= 0 || c.Port > 65535 {
			bad("container.port", "%d is not a port (the one the provider listens on inside the container)", c.Port)
		}
		if !strings.HasPrefix(c.WaitPath, "/") {
			bad("container.wait_path", "%q must be a path starting with / (it answers 200 once the provider is ready)", c.WaitPath)
		}
		if c.StartupTimeout < 0 {
			bad("container.startup_timeout", "must not be negative")
		}
	} else if strings.Contains(issuer+apiBase, PortPlaceholder) {
		bad("issuer", "%s is only known for a target with a container: section", PortPlaceholder)
	}
	checkURL("issuer", issuer, true)
	checkURL("api_base_url", apiBase, false)
	p.Dialect.fillDefaults()
	p.Dialect.validate(bad)
	if rs := p.ResourceServer; rs != nil {
		checkURL("resource_server.url", rs.URL, true)
		if _, ok := p.APIs[rs.API]; !ok {
			bad("resource_server.api", "%q is not the alias of an API of the profile", rs.API)
		}
	}
	for i, c := range p.Capabilities {
		if !slices.Contains(KnownCapabilities, c) {
			bad(fmt.Sprintf("capabilities[%d]", i), "%q is not one of %s", c, strings.Join(KnownCapabilities, ", "))
		}
	}
	for _, alias := range sortedKeys(p.APIs) {
		if p.APIs[alias].Identifier == "" {
			bad("apis."+alias+".identifier", "is required")
		}
	}
	for _, alias := range sortedKeys(p.Clients) {
		c, f := p.Clients[alias], "clients."+alias
		if c.Name == "" {
			c.Name = alias
			p.Clients[alias] = c
		}
		if c.ClientID == "" {
			bad(f+".client_id", "is required")
		}
		switch c.AuthMethod {
		case "", "client_secret_basic", "client_secret_post", "client_secret_jwt":
			if c.ClientSecret == "" && c.AuthMethod != "" {
				bad(f+".client_secret", "is required for %s", c.AuthMethod)
			}
		case "none":
		case "private_key_jwt":
			if c.PrivateKey == "" {
				bad(f+".private_key", "is required for private_key_jwt")
			}
		default:
			bad(f+".auth_method", "%q is not client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt or none", c.AuthMethod)
		}
		if u, err := url.Parse(c.RedirectURI); c.RedirectURI != "" && (err != nil || !u.IsAbs()) {
			bad(f+".redirect_uri", "%q is not an absolute URI", c.RedirectURI)
		}
		for api := range c.Grants {
			if _, ok := p.APIs[api]; !ok {
				bad(f+".grants."+api, "no API has this alias")
			}
		}
	}
	for _, alias := range sortedKeys(p.Users) {
		u := p.Users[alias]
		if u.Username == "" || u.Password == "" {
			bad("users."+alias, "username and password are required")
		}
	}
	if p.Has(CapAdmin) && p.AdminToken == "" {
		bad("admin_token", "is required with the admin capability")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("target: %w", errors.Join(errs...))
}

// Has reports whether the target has a capability.
func (p *Profile) Has(capability string) bool { return slices.Contains(p.Capabilities, capability) }

// Client finds a client by alias or client_id.
func (p *Profile) Client(name string) (Client, error) {
	if c, ok := p.Clients[name]; ok {
		return c, nil
	}
	for _, c := range p.Clients {
		if c.ClientID == name {
			return c, nil
		}
	}
	return Client{}, &MissingAliasError{Kind: "client", Alias: name, Have: sortedKeys(p.Clients)}
}

// User finds a user by alias.
func (p *Profile) User(alias string) (User, error) {
	if u, ok := p.Users[alias]; ok {
		return u, nil
	}
	return User{}, &MissingAliasError{Kind: "user", Alias: alias, Have: sortedKeys(p.Users)}
}

// API finds an API by alias or identifier.
func (p *Profile) API(name string) (API, error) {
	if a, ok := p.APIs[name]; ok {
		return a, nil
	}
	for _, a := range p.APIs {
		if a.Identifier == name {
			return a, nil
		}
	}
	return API{}, &MissingAliasError{Kind: "API", Alias: name, Have: sortedKeys(p.APIs)}
}

// MissingAliasError says a profile does not describe a client, user or API a feature names: the
// scenario then does not apply to that target (it is skipped, saying so), rather than failing.
type MissingAliasError struct {
	Kind, Alias string
	Have        []string
}

func (e *MissingAliasError) Error() string {
	return fmt.Sprintf("the target profile has no %s %q (it has: %s)", e.Kind, e.Alias, strings.Join(e.Have, ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

package registration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// Metadata is the client metadata a client registers (RFC 7591 §2, plus OIDC Registration's
// application_type) and the server echoes back as accepted. Members the server does not understand
// are ignored (RFC 7591 §2).
type Metadata struct {
	RedirectURIs            []string       `json:"redirect_uris"`
	ClientName              string         `json:"client_name,omitempty"`
	GrantTypes              []string       `json:"grant_types"`
	ResponseTypes           []string       `json:"response_types"`
	TokenEndpointAuthMethod string         `json:"token_endpoint_auth_method"`
	ApplicationType         string         `json:"application_type"`
	Scope                   string         `json:"scope,omitempty"`
	ClientURI               string         `json:"client_uri,omitempty"`
	LogoURI                 string         `json:"logo_uri,omitempty"`
	TOSURI                  string         `json:"tos_uri,omitempty"`
	PolicyURI               string         `json:"policy_uri,omitempty"`
	Contacts                []string       `json:"contacts,omitempty"`
	SoftwareID              string         `json:"software_id,omitempty"`
	SoftwareVersion         string         `json:"software_version,omitempty"`
	JWKS                    *tenant.JWKSet `json:"jwks,omitempty"`
	JWKSURI                 string         `json:"jwks_uri,omitempty"`
}

// Application types of OIDC Dynamic Client Registration §2.
const (
	appTypeWeb    = "web"
	appTypeNative = "native"
)

// authMethods are the token endpoint authentication methods a registered client may choose.
var authMethods = []string{tenant.AuthClientSecretBasic, tenant.AuthClientSecretPost, tenant.AuthPrivateKeyJWT, tenant.AuthNone}

// Error is an RFC 7591 §3.2.2 error response (or an RFC 6750 one for a bad access token).
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Status      int    `json:"-"`
	bare        bool   // a 401 to a request without a token: the challenge carries no error code
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }

func badMetadata(format string, args ...any) *Error {
	return &Error{Code: "invalid_client_metadata", Description: fmt.Sprintf(format, args...), Status: 400}
}

func badRedirect(format string, args ...any) *Error {
	return &Error{Code: "invalid_redirect_uri", Description: fmt.Sprintf(format, args...), Status: 400}
}

// decodeMetadata parses a registration or update body, naming the member of a wrongly typed value.
func decodeMetadata(body []byte) (*Metadata, *Error) {
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, badMetadata("%s: has the wrong JSON type (%s)", te.Field, te.Value)
		}
		return nil, badMetadata("the body is not a JSON object of client metadata: %v", err)
	}
	return &m, nil
}

// Bounds on the metadata of one client: they keep a registration small, since each one stays in the
// tenant, which every later change copies and revalidates whole.
const (
	maxRedirectURIs = 10
	maxContacts     = 10
	maxString       = 2048 // bytes, for every string member and list entry
	maxJWKSKeys     = 5
)

// checkLimits enforces the bounds, naming the member at fault.
func (m *Metadata) checkLimits() *Error {
	if len(m.RedirectURIs) > maxRedirectURIs {
		return badRedirect("redirect_uris: more than %d redirect URIs", maxRedirectURIs)
	}
	for i, r := range m.RedirectURIs {
		if len(r) > maxString {
			return badRedirect("redirect_uris[%d]: longer than %d bytes", i, maxString)
		}
	}
	if len(m.Contacts) > maxContacts {
		return badMetadata("contacts: more than %d contacts", maxContacts)
	}
	if m.JWKS != nil && len(m.JWKS.Keys) > maxJWKSKeys {
		return badMetadata("jwks: more than %d keys", maxJWKSKeys)
	}
	lists := []struct {
		name string
		v    []string
	}{{"contacts", m.Contacts}, {"grant_types", m.GrantTypes}, {"response_types", m.ResponseTypes}}
	for _, l := range lists {
		for i, v := range l.v {
			if len(v) > maxString {
				return badMetadata("%s[%d]: longer than %d bytes", l.name, i, maxString)
			}
		}
	}
	for _, f := range []struct{ name, v string }{{"client_name", m.ClientName}, {"token_endpoint_auth_method", m.TokenEndpointAuthMethod},
		{"application_type", m.ApplicationType}, {"scope", m.Scope}, {"client_uri", m.ClientURI}, {"logo_uri", m.LogoURI},
		{"tos_uri", m.TOSURI}, {"policy_uri", m.PolicyURI}, {"software_id", m.SoftwareID}, {"software_version", m.SoftwareVersion},
		{"jwks_uri", m.JWKSURI}} {
		if len(f.v) > maxString {
			return badMetadata("%s: longer than %d bytes", f.name, maxString)
		}
	}
	return nil
}

// normalize fills the RFC 7591 defaults and checks what the tenant validator does not: only the code
// flow (with refresh tokens) is open to registered clients, redirect URIs are https or loopback http,
// and the remaining metadata is well formed. The tenant validator then checks the application as a
// whole (see application).
func (m *Metadata) normalize(t *tenant.Tenant) *Error {
	if e := m.checkLimits(); e != nil {
		return e
	}
	if len(m.GrantTypes) == 0 {
		m.GrantTypes = []string{tenant.GrantAuthorizationCode}
	}
	for i, g := range m.GrantTypes {
		if g != tenant.GrantAuthorizationCode && g != tenant.GrantRefreshToken {
			return badMetadata("grant_types[%d]: %q is not open to registered clients; use authorization_code and refresh_token", i, g)
		}
	}
	if !slices.Contains(m.GrantTypes, tenant.GrantAuthorizationCode) {
		return badMetadata("grant_types: must include authorization_code")
	}
	m.GrantTypes = slices.Compact(slices.Sorted(slices.Values(m.GrantTypes)))
	if len(m.ResponseTypes) == 0 {
		m.ResponseTypes = []string{"code"}
	}
	if !slices.Equal(m.ResponseTypes, []string{"code"}) {
		return badMetadata("response_types: only [\"code\"] is supported (it goes with the authorization_code grant)")
	}
	switch m.ApplicationType {
	case "":
		m.ApplicationType = appTypeWeb
	case appTypeWeb, appTypeNative:
	default:
		return badMetadata("application_type: %q is not web or native", m.ApplicationType)
	}
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = tenant.AuthClientSecretBasic // RFC 7591 §2
		if m.ApplicationType == appTypeNative {
			m.TokenEndpointAuthMethod = tenant.AuthNone // a native app cannot keep a secret
		}
	}
	if !slices.Contains(authMethods, m.TokenEndpointAuthMethod) {
		return badMetadata("token_endpoint_auth_method: %q is not one of %s", m.TokenEndpointAuthMethod, strings.Join(authMethods, ", "))
	}
	if m.ApplicationType == appTypeNative && m.TokenEndpointAuthMethod != tenant.AuthNone {
		return badMetadata("token_endpoint_auth_method: a native application cannot keep a secret or key; use none")
	}
	if m.JWKSURI != "" {
		return badMetadata("jwks_uri: not supported; send the keys by value in jwks")
	}
	if len(m.RedirectURIs) == 0 {
		return badRedirect("redirect_uris: at least one redirect URI is required for the authorization_code grant")
	}
	for i, r := range m.RedirectURIs {
		// The tenant validator checks the rest (absolute, no fragment, http only on loopback); it
		// would also take a native app's private-use scheme, which registration does not offer.
		if u, err := url.Parse(r); err == nil && u.Scheme != "https" && u.Scheme != "http" {
			return badRedirect("redirect_uris[%d]: %q must use https (or http on a loopback host)", i, r)
		}
	}
	for _, f := range []struct{ name, v string }{{"client_uri", m.ClientURI}, {"logo_uri", m.LogoURI}, {"tos_uri", m.TOSURI}, {"policy_uri", m.PolicyURI}} {
		if u, err := url.Parse(f.v); f.v != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			return badMetadata("%s: %q is not an http(s) URL", f.name, f.v)
		}
	}
	if len(m.ClientName) > 200 {
		return badMetadata("client_name: longer than 200 characters")
	}
	for _, s := range strings.Fields(m.Scope) {
		if !knownScope(t, s) {
			return badMetadata("scope: %q is neither an OpenID Connect scope nor defined by any API", s)
		}
	}
	m.Scope = strings.Join(strings.Fields(m.Scope), " ")
	return nil
}

func knownScope(t *tenant.Tenant, s string) bool {
	if tenant.IsOIDCScope(s) {
		return true
	}
	for i := range t.Config().APIs {
		if t.Config().APIs[i].HasScope(s) {
			return true
		}
	}
	return false
}

// appType maps the metadata to the tenant's application type. A public web client is an spa: its
// redirect origins may call the token endpoint cross-origin, as a browser app needs.
func (m *Metadata) appType() string {
	switch {
	case m.ApplicationType == appTypeNative:
		return tenant.Native
	case m.TokenEndpointAuthMethod == tenant.AuthNone:
		return tenant.SPA
	}
	return tenant.RegularWeb
}

// usesSecret reports whether the client authenticates with a client secret.
func (m *Metadata) usesSecret() bool {
	return m.TokenEndpointAuthMethod == tenant.AuthClientSecretBasic || m.TokenEndpointAuthMethod == tenant.AuthClientSecretPost
}

// application applies the metadata to app (a copy of the registered one on update, so that fields
// registration does not manage survive). Registered clients are always third party: the user is
// always asked to consent.
func (m *Metadata) application(app tenant.Application) tenant.Application {
	app.Name = m.ClientName
	if app.Name == "" {
		app.Name = app.ClientID
	}
	app.Type = m.appType()
	app.FirstParty = false
	app.RedirectURIs = slices.Clone(m.RedirectURIs)
	app.GrantTypes = slices.Clone(m.GrantTypes)
	app.TokenEndpointAuthMethod = m.TokenEndpointAuthMethod
	app.JWKS = m.JWKS
	return app
}

// tenantError turns the tenant validator's problems with the application into an RFC 7591 error:
// invalid_redirect_uri when a redirect URI is at fault, invalid_client_metadata otherwise, with the
// problems (named after the metadata members) as the description.
func tenantError(err error) *Error {
	var ve *tenant.ValidationError
	if !errors.As(err, &ve) {
		return &Error{Code: "server_error", Description: "the registration could not be stored", Status: 500}
	}
	code := "invalid_client_metadata"
	msgs := make([]string, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		field := p.Field
		switch {
		case strings.HasPrefix(field, "redirect_uris"):
			code = "invalid_redirect_uri"
		case field == "name":
			field = "client_name"
		case field == "type":
			field = "application_type"
		}
		msgs = append(msgs, field+": "+p.Message)
	}
	e := badMetadata("%s", strings.Join(msgs, "; "))
	e.Code = code
	return e
}

package target

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Dialect is how a provider speaks where the specifications leave it room, or where a vendor's
// habit differs from the RFCs. Its zero value is the standards: an API is named with RFC 8707's
// resource parameter, access tokens are RFC 9068 JWTs naming their client in client_id, and every
// scope is sent as the features write it.
type Dialect struct {
	// Audience is how a request names the API it wants a token for: "resource" (RFC 8707, the
	// default), "audience" (Auth0's parameter), "both", or "none" (the provider knows the API from
	// its scopes alone).
	Audience string `yaml:"audience"`
	// Scopes maps the catalogue's scope aliases (read:contacts, update:contacts, ...) to the
	// provider's scope strings. An alias that is not listed is sent as written.
	Scopes map[string]string `yaml:"scopes"`
	// AccessTokens says what the provider's access tokens are.
	AccessTokens AccessTokenDialect `yaml:"access_tokens"`
	// ConsentPerSession declares that a user's consent lives in the provider's session with the
	// browser (oidc-provider's default): a new browser session has no consent to withdraw, so the
	// consent scenarios run without an admin API.
	ConsentPerSession bool `yaml:"consent_per_session"`
	// RefreshTokenRotation is "public" (the default: RFC 9700 §4.14.2 requires rotation, or
	// sender-constrained tokens, for public clients) or "all" (the provider also rotates a
	// confidential client's, which the rotation and reuse scenarios then check).
	RefreshTokenRotation string `yaml:"refresh_token_rotation"`
	// IntrospectsOwnTokens declares that a confidential client may introspect its own live access
	// token and gets active:true (RFC 7662 §2.2 lets a server refuse any caller with active:false).
	IntrospectsOwnTokens bool `yaml:"introspects_own_tokens"`
	// Origins are the provider's own origins other than the issuer's (a login or error UI on another
	// port or host): the browser and the login walker follow them as the provider's pages.
	Origins []string `yaml:"origins"`
}

// AccessTokenDialect says what a provider's access tokens carry.
type AccessTokenDialect struct {
	// Format is "rfc9068" (the default: a JWT as RFC 9068 defines it, typ at+jwt), "jwt" (a JWT
	// that does not follow RFC 9068: its claims are checked, its typ is not) or "opaque" (the
	// claim checks are skipped, saying why).
	Format string `yaml:"format"`
	// ClientClaims are the claims that name the client the token was issued to: RFC 9068 §2.2's
	// client_id by default; Auth0 (and the seeds) also put it in azp.
	ClientClaims []string `yaml:"client_claims"`
	// ClientSubject declares that a client-credentials token's sub is the client's id (RFC 9068
	// §2.2 says SHOULD, so it is checked only when declared).
	ClientSubject bool `yaml:"client_subject"`
}

// Access token formats.
const (
	FormatRFC9068 = "rfc9068"
	FormatJWT     = "jwt"
	FormatOpaque  = "opaque"
)

// Refresh-token rotation policies.
const (
	RotationPublic = "public"
	RotationAll    = "all"
)

// Audience parameter styles.
const (
	AudienceResource = "resource"
	AudienceAuth0    = "audience"
	AudienceBoth     = "both"
	AudienceNone     = "none"
)

// oidcScopes are OpenID Connect's own scopes (OIDC Core §5.4, §11): never an API's.
var oidcScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// IsOIDCScope reports whether s is one of OpenID Connect's own scopes.
func IsOIDCScope(s string) bool { return slices.Contains(oidcScopes, s) }

func (d *Dialect) fillDefaults() {
	if d.Audience == "" {
		d.Audience = AudienceResource
	}
	if d.AccessTokens.Format == "" {
		d.AccessTokens.Format = FormatRFC9068
	}
	if d.RefreshTokenRotation == "" {
		d.RefreshTokenRotation = RotationPublic
	}
	if len(d.AccessTokens.ClientClaims) == 0 {
		d.AccessTokens.ClientClaims = []string{"client_id"}
	}
}

func (d *Dialect) validate(bad func(field, format string, args ...any)) {
	switch d.Audience {
	case AudienceResource, AudienceAuth0, AudienceBoth, AudienceNone:
	default:
		bad("dialect.audience", "%q is not resource, audience, both or none", d.Audience)
	}
	if d.RefreshTokenRotation != RotationPublic && d.RefreshTokenRotation != RotationAll {
		bad("dialect.refresh_token_rotation", "%q is not public or all", d.RefreshTokenRotation)
	}
	switch d.AccessTokens.Format {
	case FormatRFC9068, FormatJWT, FormatOpaque:
	default:
		bad("dialect.access_tokens.format", "%q is not rfc9068, jwt or opaque", d.AccessTokens.Format)
	}
	for i, c := range d.AccessTokens.ClientClaims {
		if c == "" || strings.ContainsAny(c, " \t") {
			bad(fmt.Sprintf("dialect.access_tokens.client_claims[%d]", i), "%q is not a claim name", c)
		}
	}
	for alias, s := range d.Scopes {
		if alias == "" || strings.ContainsAny(alias, " \t") {
			bad("dialect.scopes", "the alias %q must be one word", alias)
		}
		if s == "" || strings.ContainsAny(s, " \t") {
			bad("dialect.scopes."+alias, "%q must be one scope string", s)
		}
	}
	for i, o := range d.Origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad(fmt.Sprintf("dialect.origins[%d]", i), "%q is not an origin like https://login.example.com", o)
		}
	}
}

// ScopeString turns the features' scope aliases (space-separated) into the provider's scope string.
func (p *Profile) ScopeString(aliases string) string {
	return strings.Join(p.Scopes(aliases), " ")
}

// Scopes turns the features' scope aliases (space-separated) into the provider's scope strings.
func (p *Profile) Scopes(aliases string) []string {
	var out []string
	for _, a := range strings.Fields(aliases) {
		if s, ok := p.Dialect.Scopes[a]; ok {
			a = s
		}
		out = append(out, a)
	}
	return out
}

// AudienceParams are the parameters that name api in an authorization or token request, in the
// provider's dialect.
func (p *Profile) AudienceParams(api API) url.Values {
	v := url.Values{}
	if api.Identifier == "" {
		return v
	}
	switch p.Dialect.Audience {
	case AudienceResource, "": // "": a profile built in Go, not parsed: the standard
		v.Set("resource", api.Identifier)
	case AudienceAuth0:
		v.Set("audience", api.Identifier)
	case AudienceBoth:
		v.Set("resource", api.Identifier)
		v.Set("audience", api.Identifier)
	}
	return v
}

// ProviderOrigins are the origins whose pages are the provider's own: the issuer's, its
// authorization endpoint's (when given) and the dialect's.
func (p *Profile) ProviderOrigins(endpoints ...string) []string {
	var out []string
	add := func(raw string) {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return
		}
		o := u.Scheme + "://" + u.Host
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	add(p.Issuer)
	for _, e := range endpoints {
		add(e)
	}
	for _, o := range p.Dialect.Origins {
		add(o)
	}
	return out
}

package target

import (
	"fmt"
	"slices"
	"strings"
)

// Skeleton writes a commented profile for the provider whose metadata (its OpenID configuration or
// RFC 8414 document) is md: the capabilities the metadata shows, every alias the catalogue uses
// with its role, and placeholders for what only the provider's owner knows (client ids, secrets as
// environment variables, users, page selectors). hasOAuthMetadata says whether RFC 8414's document
// answered too.
func Skeleton(issuer string, md map[string]any, hasOAuthMetadata bool) []byte {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	caps, why := inferCapabilities(md, hasOAuthMetadata)

	w("# Target profile for %s, written by `oauth-harness target init` from its metadata.\n", issuer)
	w("# Fill in every REPLACE-ME, then run: oauth-harness conformance --target THIS-FILE\n")
	w("# ${NAME} is read from the environment (keep secrets out of the file).\n")
	w("# Each alias below is one the catalogue's features name; its comment says the role it must play.\n")
	w("# Remove an alias your provider cannot give: the scenarios that need it are then skipped, saying so.\n\n")
	w("name: %q\n", issuer)
	w("issuer: %q # compared exactly with the discovery document's issuer (OIDC Discovery §4.3)\n\n", issuer)

	w("# Inferred from the metadata; add consent if third-party apps get a consent page.\n")
	w("capabilities:\n")
	for _, c := range caps {
		w("  - %s # %s\n", c, why[c])
	}
	w("\n# How the provider speaks where the specifications leave room.\n")
	w("dialect:\n")
	w("  audience: resource # how a request names an API: resource (RFC 8707), audience (Auth0), both, none\n")
	w("  scopes: {} # the catalogue's scope aliases -> your scope strings, e.g. {read:contacts: contacts.read}\n")
	w("  access_tokens:\n")
	w("    format: rfc9068 # rfc9068 (JWT, typ at+jwt), jwt (another JWT profile) or opaque\n")
	w("    client_claims: [client_id] # the claims naming the client (Auth0 adds azp)\n")
	w("    client_subject: false # true if a client-credentials token's sub is the client id (RFC 9068 §2.2: SHOULD)\n")
	w("  origins: [] # your login or error UI's origins when they differ from the issuer's\n\n")

	w("apis:\n")
	for _, r := range Roles {
		if r.Kind == "API" {
			w("  # %s\n  %s:\n    identifier: REPLACE-ME # its audience / resource indicator\n", r.Role, r.Alias)
			w("    scopes: {} # scope -> the description your consent page shows\n    token_lifetime: 1h\n")
		}
	}
	w("\nclients:\n")
	for _, r := range Roles {
		if r.Kind != "client" {
			continue
		}
		env := strings.ToUpper(strings.NewReplacer(" ", "_", "-", "_").Replace(r.Alias)) + "_SECRET"
		w("  # %s\n  %s:\n    client_id: REPLACE-ME\n", r.Role, r.Alias)
		switch {
		case strings.Contains(r.Role, "public client"):
			w("    auth_method: none\n")
		case strings.Contains(r.Role, "private_key_jwt"):
			w("    auth_method: private_key_jwt\n    private_key: ${%s} # its private JWK, JSON\n", strings.TrimSuffix(env, "_SECRET")+"_KEY")
		case strings.Contains(r.Role, "client_secret_post"):
			w("    auth_method: client_secret_post\n    client_secret: ${%s}\n", env)
		default:
			w("    auth_method: client_secret_basic\n    client_secret: ${%s}\n", env)
		}
		if strings.Contains(r.Role, "web app") || strings.Contains(r.Role, "public client") {
			w("    redirect_uri: https://REPLACE-ME.example/callback # registered exactly; the browser never really visits it\n")
		}
		if strings.Contains(r.Role, "first-party") {
			w("    first_party: true\n")
		}
		if strings.Contains(r.Role, "granted") {
			w("    grants: {} # API alias -> the scopes its client grant allows, e.g. {Contacts API: [read:contacts]}\n")
		}
	}
	w("\nusers:\n")
	for _, r := range Roles {
		if r.Kind == "user" {
			w("  # %s\n  %s: {username: REPLACE-ME, password: \"${%s_PASSWORD}\", subject: REPLACE-ME}\n", r.Role, r.Alias, strings.ToUpper(r.Alias))
		}
	}
	w("\n# CSS selectors of your login and consent pages (these are the reference server's).\n")
	w("selectors:\n")
	w("  login: {username: %q, password: %q, submit: %q, error: %q}\n", DefaultSelectors.Login.Username,
		DefaultSelectors.Login.Password, DefaultSelectors.Login.Submit, DefaultSelectors.Login.Error)
	c := DefaultSelectors.Consent
	w("  consent: {page: %q, client_name: %q, scope: %q, allow: %q, deny: %q}\n", c.Page, c.ClientName, c.Scope, c.Allow, c.Deny)
	w("  error_page: %q\n", DefaultSelectors.ErrorPage)
	return []byte(b.String())
}

// inferCapabilities reads what the metadata advertises.
func inferCapabilities(md map[string]any, hasOAuthMetadata bool) ([]string, map[string]string) {
	list := func(k string) []string {
		var out []string
		if vs, ok := md[k].([]any); ok {
			for _, v := range vs {
				out = append(out, fmt.Sprint(v))
			}
		}
		return out
	}
	grants := list("grant_types_supported")
	if len(grants) == 0 {
		grants = []string{"authorization_code", "implicit"} // RFC 8414 §2's default
	}
	responses, methods := list("response_types_supported"), list("token_endpoint_auth_methods_supported")
	why := map[string]string{}
	var caps []string
	add := func(c string, ok bool, reason string) {
		if ok {
			caps = append(caps, c)
			why[c] = reason
		}
	}
	str := func(k string) bool { s, _ := md[k].(string); return s != "" }
	add(CapClientCredentials, slices.Contains(grants, "client_credentials"), "grant_types_supported has client_credentials")
	add(CapAuthorizationCode, slices.Contains(responses, "code") && slices.Contains(grants, "authorization_code"), "response_types_supported has code")
	add(CapRefreshTokens, slices.Contains(grants, "refresh_token"), "grant_types_supported has refresh_token")
	add(CapUserInfo, str("userinfo_endpoint"), "userinfo_endpoint")
	add(CapIntrospection, str("introspection_endpoint"), "introspection_endpoint")
	add(CapRevocation, str("revocation_endpoint"), "revocation_endpoint")
	add(CapRegistration, str("registration_endpoint"), "registration_endpoint")
	add(CapImplicit, slices.Contains(responses, "id_token token"), "response_types_supported has id_token token")
	add(CapPassword, slices.Contains(grants, "password"), "grant_types_supported has password")
	add(CapPrivateKeyJWT, slices.Contains(methods, "private_key_jwt"), "token_endpoint_auth_methods_supported has private_key_jwt")
	add(CapOAuthMetadata, hasOAuthMetadata, "RFC 8414 metadata answered at /.well-known/oauth-authorization-server")
	return caps, why
}

package oauth

import (
	"net/http"
	"slices"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// Metadata is the discovery document (OIDC Discovery 1.0 §3, RFC 8414 §2). It advertises only what
// the server does: a conformance suite reads it to decide what to test.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionAuthMethods          []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionAuthSigningAlgs      []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationAuthMethods             []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationAuthSigningAlgs         []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	AccessTokenSigningAlgValues       []string `json:"access_token_signing_alg_values_supported"`
}

// Metadata describes this provider as it is configured now.
func (p *Provider) Metadata() Metadata {
	scopes := []string{"openid", "profile", "email", "offline_access"}
	algs := []string{}
	for _, api := range p.Tenant.Config().APIs {
		for _, s := range api.Scopes {
			if !slices.Contains(scopes, s.Value) {
				scopes = append(scopes, s.Value)
			}
		}
		if !slices.Contains(algs, api.SigningAlg) {
			algs = append(algs, api.SigningAlg)
		}
	}
	slices.Sort(algs)
	// Introspection is for confidential clients only; revocation takes public clients too.
	confidential := []string{tenant.AuthClientSecretBasic, tenant.AuthClientSecretPost, tenant.AuthPrivateKeyJWT}
	assertionAlgs := make([]string, len(AssertionAlgs))
	for i, a := range AssertionAlgs {
		assertionAlgs[i] = string(a)
	}
	return Metadata{
		Issuer:                            p.Issuer,
		AuthorizationEndpoint:             p.URL(PathAuthorize),
		TokenEndpoint:                     p.URL(PathToken),
		UserinfoEndpoint:                  p.URL(PathUserInfo),
		IntrospectionEndpoint:             p.URL(PathIntrospect),
		RevocationEndpoint:                p.URL(PathRevoke),
		JWKSURI:                           p.URL(PathJWKS),
		ScopesSupported:                   scopes,
		ResponseTypesSupported:            ResponseTypes(),
		ResponseModesSupported:            []string{"query", "fragment"},
		GrantTypesSupported:               append(SupportedGrantTypes(), tenant.GrantImplicit),
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: append(slices.Clone(confidential), tenant.AuthNone),
		TokenEndpointAuthSigningAlgs:      assertionAlgs,
		IntrospectionAuthMethods:          confidential,
		IntrospectionAuthSigningAlgs:      assertionAlgs,
		RevocationAuthMethods:             append(slices.Clone(confidential), tenant.AuthNone),
		RevocationAuthSigningAlgs:         assertionAlgs,
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported:                   []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "name", "email", "email_verified"},
		PromptValuesSupported:             []string{"none", "login", "consent"},
		AuthorizationResponseIssParameter: true,
		AccessTokenSigningAlgValues:       algs,
	}
}

func (p *Provider) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, p.Metadata())
}

func (p *Provider) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	h.Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(p.Keys.JWKS())
}

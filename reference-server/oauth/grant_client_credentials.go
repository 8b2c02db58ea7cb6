package oauth

import (
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// grantClientCredentials issues a token to an application acting for itself (RFC 6749 §4.4): only
// for an API it holds a client grant for, with the requested scopes cut to that grant.
func (p *Provider) grantClientCredentials(_ *http.Request, app *tenant.Application, form url.Values) (*TokenResponse, *Error) {
	api, e := p.resolveAudience(form.Get("audience"), form.Get("resource"))
	if e != nil {
		return nil, e
	}
	cg := p.Tenant.ClientGrant(app.ClientID, api.Identifier)
	if cg == nil && p.defect(defects.ASIgnoresClientGrant) {
		cg = &tenant.ClientGrant{ClientID: app.ClientID, Audience: api.Identifier, Scopes: apiScopes(api)}
	}
	if cg == nil {
		return nil, unauthorizedClient("the client has no grant for the API %q", api.Identifier)
	}
	beyond := p.defect(defects.ASScopesBeyondGrant)
	scopes := cg.Scopes
	if requested := strings.Fields(form.Get("scope")); len(requested) > 0 {
		scopes = nil
		for _, s := range requested {
			if !api.HasScope(s) {
				return nil, invalidScope("the API %q defines no scope %q", api.Identifier, s)
			}
			if (beyond || slices.Contains(cg.Scopes, s)) && !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
		if len(scopes) == 0 {
			return nil, invalidScope("the client's grant for %q covers none of the requested scopes", api.Identifier)
		}
	}
	return p.issue(issuance{app: app, api: api, scopes: scopes})
}

// resolveAudience finds the API a request is for: Auth0's audience parameter, RFC 8707's resource
// indicator, or the tenant's default audience.
func (p *Provider) resolveAudience(audience, resource string) (*tenant.API, *Error) {
	id := audience
	switch {
	case audience != "" && resource != "" && audience != resource:
		return nil, invalidRequest("audience and resource name different APIs")
	case id == "":
		id = resource
	}
	if id == "" {
		id = p.Tenant.Config().DefaultAudience
		if id == "" {
			return nil, invalidRequest("name the API with the audience or resource parameter")
		}
	}
	api := p.Tenant.API(id)
	if api == nil {
		return nil, invalidTarget("no API has the identifier %q", id)
	}
	return api, nil
}

func apiScopes(api *tenant.API) []string {
	out := make([]string, len(api.Scopes))
	for i, s := range api.Scopes {
		out[i] = s.Value
	}
	return out
}

// Package reference describes the embedded reference server as a target profile, from its tenant
// model and fixtures. It is apart from package target so that a profile, and everything that reads
// one (the conformance steps, the load tests), does not pull in the reference server's tenant model.
package reference

import (
	"strings"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Profile describes the embedded reference server seeded with cfg: every alias the features use
// resolves to the fixtures (clients by application name, users by credentials alias, APIs by name).
// capabilities are what the running server offers.
func Profile(issuer, apiBaseURL string, cfg *tenant.Config, creds *fixtures.Credentials, capabilities []string) *target.Profile {
	p := &target.Profile{
		Name: "embedded reference server", Issuer: issuer, APIBaseURL: apiBaseURL, AccountClaim: cfg.AccountClaim,
		Capabilities: capabilities, Selectors: target.DefaultSelectors,
		// The reference server takes RFC 8707's resource (and the seeds' Auth0 audience), and its
		// access tokens follow the seeds too: the client in azp as well as client_id, and the
		// client's id as the subject of a client-credentials token. Its stricter policies are
		// declared so the catalogue checks them: rotation for every client, self-introspection.
		Dialect: target.Dialect{Audience: target.AudienceResource, AccessTokens: target.AccessTokenDialect{Format: target.FormatRFC9068,
			ClientClaims: []string{"client_id", "azp"}, ClientSubject: true},
			RefreshTokenRotation: target.RotationAll, IntrospectsOwnTokens: true},
		APIs: map[string]target.API{}, Clients: map[string]target.Client{}, Users: map[string]target.User{},
	}
	apiAlias := map[string]string{}
	for _, a := range cfg.APIs {
		scopes := map[string]string{}
		for _, s := range a.Scopes {
			scopes[s.Value] = s.Description
		}
		p.APIs[a.Name] = target.API{Identifier: a.Identifier, Scopes: scopes, TokenLifetime: target.Duration(a.TokenLifetime),
			SigningAlg: a.SigningAlg, OfflineAccess: a.AllowOfflineAccess}
		apiAlias[a.Identifier] = a.Name
	}
	for _, app := range cfg.Applications {
		c := target.Client{Name: app.Name, ClientID: app.ClientID, ClientSecret: creds.Clients[app.ClientID], PrivateKey: creds.ClientKeys[app.ClientID],
			AuthMethod: app.TokenEndpointAuthMethod, FirstParty: app.FirstParty, Grants: map[string][]string{}}
		if len(app.RedirectURIs) > 0 {
			c.RedirectURI = app.RedirectURIs[0]
		}
		for _, g := range cfg.ClientGrants {
			if g.ClientID == app.ClientID {
				c.Grants[apiAlias[g.Audience]] = g.Scopes
			}
		}
		p.Clients[app.Name] = c
	}
	for alias, login := range creds.Users {
		u := target.User{Username: login.Email, Password: login.Password}
		for _, tu := range cfg.Users {
			if strings.EqualFold(tu.Email, login.Email) {
				u.Subject, u.Accounts = tu.ID, tu.Accounts
			}
		}
		p.Users[alias] = u
	}
	return p
}

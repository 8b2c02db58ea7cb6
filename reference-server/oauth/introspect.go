package oauth

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// Introspection is an introspection response (RFC 7662 §2.2). An inactive token is answered with
// the zero value, {"active":false}: nothing else about it is revealed (RFC 7662 §2.2, §4).
type Introspection struct {
	Active    bool         `json:"active"`
	Scope     string       `json:"scope,omitempty"`
	ClientID  string       `json:"client_id,omitempty"`
	Username  string       `json:"username,omitempty"`
	TokenType string       `json:"token_type,omitempty"`
	Expiry    int64        `json:"exp,omitempty"`
	IssuedAt  int64        `json:"iat,omitempty"`
	Subject   string       `json:"sub,omitempty"`
	Audience  jwt.Audience `json:"aud,omitempty"`
	Issuer    string       `json:"iss,omitempty"`
	JTI       string       `json:"jti,omitempty"`
}

// foundToken is what a token presented to introspection or revocation turned out to be: a valid
// access token of this server, a refresh token (current or rotated), or nothing.
type foundToken struct {
	access  *bearer.Claims
	family  *store.Family
	current bool // the refresh token is the family's current one
}

// findToken looks the token up as the hint suggests first, then as the other type (RFC 7662 §2.1,
// RFC 7009 §2.1: a wrong or unknown hint only costs a second look-up). Access tokens must verify with
// this server's keys for their API; refresh tokens are looked up by hash without being consumed.
func (p *Provider) findToken(ctx context.Context, raw, hint string) foundToken {
	access := func() (foundToken, bool) {
		c, err := p.ownTokens.validate(ctx, raw)
		// No leeway here: past its exp the token is inactive, whatever a validator would tolerate.
		if err != nil || !p.now().Before(c.Expiry.Time()) {
			return foundToken{}, false
		}
		return foundToken{access: c}, true
	}
	refresh := func() (foundToken, bool) {
		f, current, err := p.Store.PeekRefreshToken(raw)
		return foundToken{family: f, current: current}, err == nil
	}
	order := []func() (foundToken, bool){access, refresh}
	if hint == "refresh_token" {
		order[0], order[1] = refresh, access
	}
	for _, look := range order {
		if t, ok := look(); ok {
			return t
		}
	}
	return foundToken{}
}

// backChannelRequest checks the method, parses the form and authenticates the client of the
// introspection and revocation endpoints, answering the error itself when one of them fails.
func (p *Provider) backChannelRequest(w http.ResponseWriter, r *http.Request, what string) (*tenant.Application, string, string, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		replyError(w, r, oerr(http.StatusMethodNotAllowed, "invalid_request", "the %s endpoint takes POST", what))
		return nil, "", "", false
	}
	form, e := parseForm(w, r)
	if e == nil {
		var app *tenant.Application
		if app, e = p.authenticate(r, form); e == nil {
			if form.Get("token") == "" {
				e = invalidRequest("token is required")
			} else {
				return app, form.Get("token"), form.Get("token_type_hint"), true
			}
		}
	}
	replyError(w, r, e)
	return nil, "", "", false
}

// serveIntrospect answers RFC 7662 introspection for confidential clients. A third-party client
// learns only about tokens issued to itself; first-party clients (the provider's own services and
// resource servers) about any (RFC 7662 §4 lets the server decide per client).
func (p *Provider) serveIntrospect(w http.ResponseWriter, r *http.Request) {
	app, raw, hint, ok := p.backChannelRequest(w, r, "introspection")
	if !ok {
		return
	}
	if app.Public() {
		// RFC 7662 §4: only clients that can authenticate may scan for tokens.
		replyError(w, r, invalidClient("public clients cannot use the introspection endpoint"))
		return
	}
	out := p.introspect(p.findToken(r.Context(), raw, hint))
	if out.Active && !app.FirstParty && out.ClientID != app.ClientID {
		out = Introspection{}
	}
	if out.Active {
		noteScope(r, out.Scope)
	}
	noStore(w)
	writeJSON(w, http.StatusOK, out)
}

// introspect describes a found token, or answers inactive.
func (p *Provider) introspect(t foundToken) Introspection {
	switch {
	case t.access != nil:
		c := t.access
		out := Introspection{Active: true, Scope: c.Scope, ClientID: c.ClientID, TokenType: "Bearer",
			Expiry: c.Expiry.Time().Unix(), IssuedAt: c.IssuedAt.Time().Unix(), Subject: c.Subject,
			Audience: c.Audience, Issuer: c.Issuer, JTI: c.JTI}
		if c.GrantType != tokens.GrantTypeClientCredentials {
			u := p.Tenant.User(c.Subject)
			if u == nil {
				return Introspection{} // the user is gone: the token grants nothing any more
			}
			out.Username = u.Email
		}
		return out
	case t.family != nil && t.current:
		f := t.family
		app, api, user := p.Tenant.Application(f.ClientID), p.Tenant.API(f.Audience), p.Tenant.User(f.UserID)
		// Inactive when the refresh grant would refuse it (grant_refresh_token.go).
		if app == nil || api == nil || user == nil || !grantsRefresh(app, api, f.Scopes) ||
			(!app.FirstParty && !p.consented(user.ID, app, api, f.Scopes)) {
			return Introspection{}
		}
		return Introspection{Active: true, Scope: strings.Join(f.Scopes, " "), ClientID: f.ClientID,
			Subject: f.UserID, Expiry: f.Expires.Unix(), TokenType: "refresh_token"}
	}
	return Introspection{}
}

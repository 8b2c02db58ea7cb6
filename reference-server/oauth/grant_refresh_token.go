package oauth

import (
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// grantRefreshToken exchanges a refresh token (RFC 6749 §6) for new tokens, rotating the refresh
// token every time; a rotated token presented again revokes its whole family (RFC 9700 §4.14.2).
func (p *Provider) grantRefreshToken(_ *http.Request, app *tenant.Application, form url.Values) (*TokenResponse, *Error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	requested := slices.Compact(slices.Sorted(slices.Values(strings.Fields(form.Get("scope")))))
	var why *Error
	fam, err := p.Store.UseRefreshToken(rt, func(f *store.Family) bool {
		// Checked before the token is spent, so a client mistake does not burn it.
		switch {
		case f.ClientID != app.ClientID:
			why = invalidGrant("the refresh token was issued to another client")
		case sameTarget(form, f.Audience) != nil:
			why = sameTarget(form, f.Audience)
		case !store.Covers(f.Scopes, requested):
			why = invalidScope("a refresh may only narrow the original scopes %q", strings.Join(f.Scopes, " "))
		}
		return why == nil
	})
	if why != nil {
		return nil, why
	}
	if err != nil {
		return nil, storeErr(err, "refresh token")
	}
	api, user := p.Tenant.API(fam.Audience), p.Tenant.User(fam.UserID)
	switch {
	case api == nil || user == nil:
		p.Store.RevokeFamily(fam.ID)
		return nil, invalidGrant("the API or the user of this grant no longer exists")
	case !grantsRefresh(app, api, fam.Scopes):
		p.Store.RevokeFamily(fam.ID)
		return nil, invalidGrant("offline access is no longer allowed for this API or client")
	case !app.FirstParty && !p.consented(user.ID, app, api, fam.Scopes):
		p.Store.RevokeFamily(fam.ID)
		return nil, invalidGrant("the user's consent to this client was revoked")
	}
	scopes := fam.Scopes
	if len(requested) > 0 {
		scopes = requested
	}
	is := issuance{app: app, api: api, user: user, scopes: scopes, authTime: fam.AuthTime, familyID: fam.ID, refresh: true}
	if !p.defect(defects.ASNoRefreshRotation) {
		return p.issue(is)
	}
	// The defect: the same refresh token is handed back and stays usable.
	is.refresh = false
	resp, e := p.issue(is)
	if e != nil {
		return nil, e
	}
	if err := p.Store.SetRefreshToken(fam.ID, rt, p.Tenant.RefreshTokenLifetime()); err != nil {
		return nil, invalidGrant("the grant was revoked")
	}
	resp.RefreshToken = rt
	return resp, nil
}

package oauth

import (
	"net/http"
)

// serveRevoke revokes a token (RFC 7009). Clients authenticate as at the token endpoint (§2.1): public
// clients name themselves with client_id (RFC 6749 §3.2.1), and may then revoke only their own tokens. Unknown, invalid and expired tokens are answered 200 like revoked ones (§2.2): the
// answer reveals nothing, and the client's goal (the token is unusable) is met.
//
// A refresh token revokes its whole grant: the refresh token, its rotations and every access token
// issued from it (§2.1 SHOULD). An access token is revoked alone, until its exp: §2.1 lets the server
// choose, and a client that drops one access token (a tab logs out, a token leaked from one API call)
// should not lose its offline grant; it revokes the refresh token for that.
func (p *Provider) serveRevoke(w http.ResponseWriter, r *http.Request) {
	app, raw, hint, ok := p.backChannelRequest(w, r, "revocation")
	if !ok {
		return
	}
	t := p.findToken(r.Context(), raw, hint)
	var owner string
	switch {
	case t.access != nil:
		owner = t.access.ClientID
	case t.family != nil: // a rotated refresh token names its grant as well as the current one
		owner = t.family.ClientID
	}
	if owner != "" && owner != app.ClientID {
		// §2.1: the token must have been issued to the client asking; nothing is revoked.
		replyError(w, r, unauthorizedClient("the token was not issued to this client"))
		return
	}
	switch {
	case t.access != nil:
		p.Store.DenyAccessToken(t.access.JTI, t.access.Expiry.Time())
	case t.family != nil:
		p.Store.RevokeFamily(t.family.ID)
	}
	noStore(w)
	w.WriteHeader(http.StatusOK)
}

package oauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2"
)

// revoked checks that an access token is dead everywhere: introspection, and the contacts API.
func (e *env) revoked(t testing.TB, accessToken string) {
	t.Helper()
	inactive(t, e.introspect("contacts-importer", accessToken, ""))
	if got := e.apiGet(t, accessToken, "/accounts/globex/contacts"); got != http.StatusUnauthorized {
		t.Errorf("the contacts API answered %d to a revoked token, want 401", got)
	}
}

// alive checks that an access token still works at the contacts API.
func (e *env) alive(t testing.TB, accessToken string) {
	t.Helper()
	if got := e.apiGet(t, accessToken, "/accounts/globex/contacts"); got != http.StatusOK {
		t.Errorf("the contacts API answered %d, want 200", got)
	}
}

// revokeOK checks the answer of a revocation that the server accepts: 200, nothing to read (RFC 7009 §2.2).
func revokeOK(t testing.TB, r *tokenReply) {
	t.Helper()
	if r.Status != http.StatusOK || r.Raw != "" {
		t.Errorf("revocation answered %d %q, want 200 and no body", r.Status, r.Raw)
	}
}

// TestRevocation: RFC 7009 for each kind of token and client, checked at introspection, at the
// contacts API and at the token endpoint.
func TestRevocation(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	e := newEnv(t, server.Options{Now: clock.Now})
	b := e.loggedIn("paul")
	grant := func(t *testing.T, client string) *oauth2.Token {
		return e.in(t).tokens(b.in(t), e.flow(client, "openid", "offline_access", "read:contacts"), "")
	}

	t.Run("a refresh token revokes its whole grant", func(t *testing.T) {
		tok := grant(t, "contacts-web")
		revokeOK(t, e.revoke("contacts-web", tok.RefreshToken, "refresh_token"))
		e.revoked(t, tok.AccessToken)
		inactive(t, e.introspect("contacts-importer", tok.RefreshToken, ""))
		expectError(t, e.refresh("contacts-web", tok.RefreshToken, ""), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("a rotated refresh token names its grant too", func(t *testing.T) {
		tok := grant(t, "contacts-web")
		next := e.refresh("contacts-web", tok.RefreshToken, "")
		revokeOK(t, e.revoke("contacts-web", tok.RefreshToken, ""))
		e.revoked(t, next.str("access_token"))
		expectError(t, e.refresh("contacts-web", next.str("refresh_token"), ""), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("an access token is revoked alone: the refresh token keeps working", func(t *testing.T) {
		tok := grant(t, "contacts-web")
		revokeOK(t, e.revoke("contacts-web", tok.AccessToken, "access_token"))
		e.revoked(t, tok.AccessToken)
		r := e.refresh("contacts-web", tok.RefreshToken, "")
		if r.Status != http.StatusOK {
			t.Fatalf("refresh after revoking only the access token: %d %s", r.Status, r.Raw)
		}
		e.alive(t, r.str("access_token"))
	})
	t.Run("a client-credentials token, under the wrong hint", func(t *testing.T) {
		tok := e.ccToken(t, "acme-sync", contactsAPI)
		revokeOK(t, e.revoke("acme-sync", tok, "refresh_token"))
		e.revoked(t, tok)
		e.alive(t, e.ccToken(t, "acme-sync", contactsAPI))
	})
	t.Run("a private_key_jwt client revokes its token", func(t *testing.T) {
		tok := e.ccToken(t, bot, contactsAPI)
		revokeOK(t, e.revoke(bot, tok, ""))
		e.revoked(t, tok)
	})
	t.Run("a public client revokes its own refresh token with client_id alone", func(t *testing.T) {
		tok := grant(t, "contacts-mobile")
		revokeOK(t, e.revoke("contacts-mobile", tok.RefreshToken, ""))
		e.revoked(t, tok.AccessToken)
		expectError(t, e.refresh("contacts-mobile", tok.RefreshToken, ""), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("another client's tokens are refused and stay valid", func(t *testing.T) {
		tok := grant(t, "contacts-web")
		mobile := grant(t, "contacts-mobile")
		for _, c := range []struct{ caller, token string }{
			{"acme-sync", tok.RefreshToken}, {"acme-sync", tok.AccessToken}, {"contacts-importer", tok.AccessToken},
			{bot, tok.RefreshToken}, {"contacts-spa", mobile.RefreshToken}, {"contacts-spa", mobile.AccessToken},
		} {
			expectError(t, e.revoke(c.caller, c.token, ""), http.StatusBadRequest, "unauthorized_client")
		}
		e.alive(t, tok.AccessToken)
		e.alive(t, mobile.AccessToken)
		for client, rt := range map[string]string{"contacts-web": tok.RefreshToken, "contacts-mobile": mobile.RefreshToken} {
			if r := e.refresh(client, rt, ""); r.Status != http.StatusOK {
				t.Errorf("%s cannot refresh after another client's refused revocation: %d %s", client, r.Status, r.Raw)
			}
		}
	})
	t.Run("unknown, malformed, revoked and expired tokens are answered 200", func(t *testing.T) {
		reports := e.ccToken(t, "contacts-importer", reportsAPI)
		gone := e.ccToken(t, "acme-sync", contactsAPI)
		revokeOK(t, e.revoke("acme-sync", gone, ""))
		for name, token := range map[string]string{"unknown": randomString(), "malformed JWT": "a.b.c",
			"forged": forgeES256(t, e, reports), "already revoked": gone} {
			t.Run(name, func(t *testing.T) { revokeOK(t, e.in(t).revoke("acme-sync", token, "")) })
		}
		clock.Advance(11 * time.Minute)
		// Expired: nothing left to revoke, whoever asks.
		revokeOK(t, e.revoke("acme-sync", reports, ""))
	})
}

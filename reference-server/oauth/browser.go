package oauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// Cookie names. Both are HttpOnly and SameSite=Lax: Lax keeps them off cross-site POSTs (CSRF) while
// still sending the session on the top-level GET redirect that brings the user back to /authorize.
const (
	cookieSession = "oh_session"
	cookieBrowser = "oh_browser"
)

// session returns the browser's live login session, or nil.
func (p *Provider) session(r *http.Request) *store.Session {
	c, err := r.Cookie(cookieSession)
	if err != nil || c.Value == "" {
		return nil
	}
	return p.Store.Session(c.Value)
}

// startSession logs the browser in under a new session id (a fresh id defeats session fixation).
func (p *Provider) startSession(w http.ResponseWriter, r *http.Request, userID string) *store.Session {
	if c, err := r.Cookie(cookieSession); err == nil {
		p.Store.DeleteSession(c.Value)
	}
	id := tokens.Random(32)
	now := p.now()
	sess := &store.Session{UserID: userID, AuthTime: now, Expires: now.Add(store.SessionLifetime)}
	p.Store.PutSession(id, sess)
	p.setCookie(w, cookieSession, id, int(store.SessionLifetime.Seconds()))
	return sess
}

func (p *Provider) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: p.issuerPath + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode,
	})
}

// browserID returns the id that CSRF tokens are bound to, setting the cookie if the browser has none.
func (p *Provider) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookieBrowser); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	id := tokens.Random(32)
	p.setCookie(w, cookieBrowser, id, 0)
	return id
}

// csrfToken binds a form to this browser, this authorization request and this form's purpose
// (HMAC of the three: a token for the login form cannot answer the consent form).
func (p *Provider) csrfToken(browserID, reqID, purpose string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte(browserID + "\x00" + reqID + "\x00" + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a posted form token in constant time.
func (p *Provider) checkCSRF(r *http.Request, reqID, purpose string) bool {
	c, err := r.Cookie(cookieBrowser)
	if err != nil || c.Value == "" {
		return false
	}
	want := p.csrfToken(c.Value, reqID, purpose)
	return hmac.Equal([]byte(want), []byte(r.PostFormValue("csrf_token")))
}

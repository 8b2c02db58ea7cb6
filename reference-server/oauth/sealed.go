package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// The authorization request travels through the login and consent pages sealed (AES-256-GCM with
// a key that never leaves the process) in the req parameter, instead of being stored server-side:
// an unauthenticated client can then make the server hold nothing, however many /authorize
// requests it sends.

// sealAAD versions the sealed format (v2 added the response type and mode).
var sealAAD = []byte("oauth-harness authorize v2")

// sealedRequest is the wire form of an authRequest.
type sealedRequest struct {
	ClientID     string   `json:"c"`
	ResponseType string   `json:"rt"`
	Fragment     bool     `json:"f,omitempty"`
	RedirectURI  string   `json:"r"`
	Audience     string   `json:"a"`
	State        string   `json:"s,omitempty"`
	Nonce        string   `json:"n,omitempty"`
	Scopes       []string `json:"sc,omitempty"`
	Challenge    string   `json:"pk,omitempty"`
	ChallengeMth string   `json:"pm,omitempty"`
	Prompt       []string `json:"p,omitempty"`
	MaxAge       int      `json:"m"`
	Expires      int64    `json:"e"`
	UserID       string   `json:"u,omitempty"`
	AuthTime     int64    `json:"t,omitempty"`
}

func newSealer() (cipher.AEAD, error) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encodes ar for the req parameter.
func (p *Provider) seal(ar *authRequest) string {
	b, _ := json.Marshal(sealedRequest{
		ClientID: ar.App.ClientID, ResponseType: ar.ResponseType, Fragment: ar.Fragment, RedirectURI: ar.RedirectURI, Audience: ar.API.Identifier, State: ar.State,
		Nonce: ar.Nonce, Scopes: ar.Scopes, Challenge: ar.Challenge, ChallengeMth: ar.ChallengeMethod, Prompt: ar.Prompt, MaxAge: ar.MaxAge,
		Expires: ar.Expires.Unix(), UserID: ar.UserID, AuthTime: ar.AuthTime.Unix(),
	})
	nonce := make([]byte, p.sealer.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(p.sealer.Seal(nonce, nonce, b, sealAAD))
}

var errBadRequest = errors.New("the login request is unknown, altered or expired")

// unseal opens a req parameter and re-checks it against the tenant as it is now.
func (p *Provider) unseal(s string) (*authRequest, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	ns := p.sealer.NonceSize()
	if err != nil || len(raw) < ns {
		return nil, errBadRequest
	}
	b, err := p.sealer.Open(nil, raw[:ns], raw[ns:], sealAAD)
	if err != nil {
		return nil, errBadRequest
	}
	var sr sealedRequest
	if err := json.Unmarshal(b, &sr); err != nil {
		return nil, errBadRequest
	}
	expires := time.Unix(sr.Expires, 0)
	app, api := p.Tenant.Application(sr.ClientID), p.Tenant.API(sr.Audience)
	// The tenant may have changed since: the client must still be allowed this flow and redirect URI.
	if p.now().After(expires) || app == nil || api == nil || !p.redirectAllowed(app, sr.RedirectURI) ||
		!allowsResponseType(app, sr.ResponseType) {
		return nil, errBadRequest
	}
	// Nor may the request have become one the client could not make now: a scope the API dropped, or
	// no PKCE from a client that has since become public.
	if scopes, e := grantableScopes(app, api, sr.Scopes); e != nil || len(scopes) != len(sr.Scopes) ||
		(app.Public() && sr.Challenge == "" && sr.ResponseType == "code") {
		return nil, errBadRequest
	}
	ar := &authRequest{App: app, API: api, ResponseType: sr.ResponseType, Fragment: sr.Fragment, RedirectURI: sr.RedirectURI, State: sr.State, Nonce: sr.Nonce,
		Scopes: sr.Scopes, Challenge: sr.Challenge, ChallengeMethod: sr.ChallengeMth, Prompt: sr.Prompt, MaxAge: sr.MaxAge, Expires: expires,
		UserID: sr.UserID}
	if sr.UserID != "" {
		ar.AuthTime = time.Unix(sr.AuthTime, 0)
	}
	return ar, nil
}

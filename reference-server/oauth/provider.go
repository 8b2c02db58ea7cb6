// Package oauth is the reference authorization server's HTTP surface: discovery, JWKS, the
// authorization endpoint with its login and consent pages, the token endpoint, introspection,
// revocation and userinfo.
package oauth

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// Endpoint paths, relative to the issuer.
const (
	PathAuthorize      = "/authorize"
	PathLogin          = "/login"
	PathConsent        = "/consent"
	PathToken          = "/token"
	PathUserInfo       = "/userinfo"
	PathJWKS           = "/.well-known/jwks.json"
	PathOIDCDiscovery  = "/.well-known/openid-configuration"
	PathOAuthDiscovery = "/.well-known/oauth-authorization-server"
	PathIntrospect     = "/oauth/introspect"
	PathRevoke         = "/oauth/revoke"
	PathRegister       = "/oidc/register"
	PathAdmin          = "/admin"
)

// CodeLifetime is how long an authorization code may be redeemed (RFC 6749 §4.1.2 recommends ≤ 10 min;
// a minute is plenty for a client that redeems it straight away).
const CodeLifetime = 60 * time.Second

// Config wires a Provider.
type Config struct {
	Issuer string
	Tenant *tenant.Tenant
	Store  *store.Store
	Keys   *keys.Keyring
	Logger *slog.Logger
	Now    func() time.Time
	// Defects can make the server deliberately non-conformant; nil: none (see package defects).
	Defects *defects.Set
	// Faults change the tokens issued to clients under test; nil: none (see package faults).
	Faults *faults.Faults
}

// Provider serves the authorization server endpoints.
type Provider struct {
	Issuer string
	Tenant *tenant.Tenant
	Store  *store.Store
	Keys   *keys.Keyring
	Minter *tokens.Minter
	// Defects and Faults are consulted on the paths they change; both may be nil.
	Defects *defects.Set
	Faults  *faults.Faults
	log     *slog.Logger
	now     func() time.Time

	csrfKey    []byte      // HMAC key binding form tokens to a browser
	secure     bool        // cookies get Secure when the issuer is https
	sealer     cipher.AEAD // seals authorization requests carried through the login and consent pages
	throttle   *loginThrottle
	userInfo   *accessTokenValidators // asymmetric APIs only
	ownTokens  *accessTokenValidators // every API, HS256 included: for introspection and revocation
	discovery  []byte
	issuerPath string
}

// New checks the configuration and builds a Provider.
func New(cfg Config) (*Provider, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("oauth: the issuer must be an http(s) URL without query or fragment")
	}
	if cfg.Tenant == nil || cfg.Store == nil || cfg.Keys == nil {
		return nil, errors.New("oauth: tenant, store and keys are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	issuer := strings.TrimSuffix(cfg.Issuer, "/")
	p := &Provider{
		Defects:    cfg.Defects,
		Faults:     cfg.Faults,
		Issuer:     issuer,
		Tenant:     cfg.Tenant,
		Store:      cfg.Store,
		Keys:       cfg.Keys,
		Minter:     &tokens.Minter{Issuer: issuer, Keys: cfg.Keys, AccountClaim: cfg.Tenant.Config().AccountClaim},
		log:        cfg.Logger,
		now:        cfg.Now,
		csrfKey:    make([]byte, 32),
		secure:     u.Scheme == "https",
		throttle:   newLoginThrottle(),
		issuerPath: strings.TrimSuffix(u.Path, "/"),
	}
	_, _ = rand.Read(p.csrfKey)
	if p.sealer, err = newSealer(); err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	p.userInfo = newAccessTokenValidators(p, false)
	p.ownTokens = newAccessTokenValidators(p, true)
	return p, nil
}

// URL returns the absolute URL of an endpoint path.
func (p *Provider) URL(path string) string { return p.Issuer + path }

// Register mounts every endpoint on mux under the issuer's path.
func (p *Provider) Register(mux *http.ServeMux) {
	at := func(path string) string { return p.issuerPath + path }
	mux.HandleFunc("GET "+at(PathOIDCDiscovery), p.serveDiscovery)
	mux.HandleFunc("GET "+at(PathOAuthDiscovery), p.serveDiscovery)
	mux.HandleFunc("GET "+at(PathJWKS), p.serveJWKS)
	mux.HandleFunc("GET "+at(PathAuthorize), p.serveAuthorize)
	mux.HandleFunc("POST "+at(PathAuthorize), p.serveAuthorize)
	mux.HandleFunc("GET "+at(PathLogin), p.serveLoginPage)
	mux.HandleFunc("POST "+at(PathLogin), p.handleLogin)
	mux.HandleFunc("GET "+at(PathConsent), p.serveConsentPage)
	mux.HandleFunc("POST "+at(PathConsent), p.handleConsent)
	mux.HandleFunc(at(PathToken), p.serveToken)
	mux.HandleFunc(at(PathUserInfo), p.serveUserInfo)
	mux.HandleFunc(at(PathIntrospect), p.serveIntrospect)
	mux.HandleFunc(at(PathRevoke), p.serveRevoke)
}

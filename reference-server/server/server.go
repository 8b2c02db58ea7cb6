// Package server assembles the reference authorization server and the contacts API into one HTTP
// server, started in-process on a loopback listener (for tests and the harness) or standalone.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/admin"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/contacts"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/registration"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// DefaultAddr listens on a free loopback port.
const DefaultAddr = "127.0.0.1:0"

// APIPath is where the contacts API is mounted, below the issuer's host.
const APIPath = "/api"

// jwksPrefetchTimeout bounds the contacts API's JWKS fetch at start-up.
const jwksPrefetchTimeout = 5 * time.Second

// Options configure a server. Only Tenant is required.
type Options struct {
	Tenant *tenant.Config
	// Addr to listen on; DefaultAddr when empty.
	Addr string
	// Issuer URL; http://<listen address> when empty. Set it when the server sits behind a proxy.
	Issuer string
	// Keys to sign with; generated when nil (tests share one keyring to save RSA key generation).
	Keys   *keys.Keyring
	Logger *slog.Logger
	Now    func() time.Time
	// AdminToken turns on the admin API at oauth.PathAdmin (requests carry it as a bearer token);
	// when empty the admin API is not mounted.
	AdminToken string
	// RegistrationToken is the initial access token dynamic client registration requires (RFC 7591
	// §3); when empty, registration is open.
	RegistrationToken string
	// JWKSRefresh is how often at most the contacts API fetches the JWKS again on meeting an unknown
	// kid; bearer.DefaultMinRefresh when zero. Tests of key rotation shorten it.
	JWKSRefresh time.Duration
}

// Server is a running reference server.
type Server struct {
	Provider *oauth.Provider
	Store    *store.Store
	Tenant   *tenant.Tenant
	// Requests records the requests to the OAuth endpoints, registration and the contacts API; the
	// admin API serves it.
	Requests *requestlog.Log

	issuer  string
	apiBase string
	ln      net.Listener
	srv     *http.Server
	handler http.Handler
	jwks    *bearer.JWKSCache // the contacts API's key set, nil without the API
	done    chan error
}

// Start listens, builds the server and serves in the background until Shutdown or Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Tenant == nil {
		return nil, errors.New("server: a tenant is required")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen on %s: %w", opts.Addr, err)
	}
	s, err := build(ln, opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	if s.jwks != nil {
		// Load the API's key set now that the server answers, so the first API request does not pay
		// for the fetch. A failure is not fatal: the first request fetches again.
		go func() {
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksPrefetchTimeout)
			defer cancel()
			if err := s.jwks.Prefetch(pctx); err != nil {
				opts.Logger.Warn("contacts API: JWKS prefetch failed; the first API request will fetch it", "err", err)
			}
		}()
	}
	opts.Logger.Info("reference server listening", "issuer", s.issuer, "addr", ln.Addr().String(), "api", s.apiBase)
	return s, nil
}

func build(ln net.Listener, opts Options) (*Server, error) {
	local := "http://" + ln.Addr().String()
	issuer := strings.TrimSuffix(opts.Issuer, "/")
	if issuer == "" {
		issuer = local
	}
	kr := opts.Keys
	if kr == nil {
		var err error
		if kr, err = keys.Generate(); err != nil {
			return nil, err
		}
	}
	t := tenant.New(opts.Tenant)
	st := store.New(opts.Now)
	for _, c := range opts.Tenant.Consents {
		st.GrantConsent(c.UserID, c.ClientID, c.Audience, c.Scopes)
	}
	defectSet := &defects.Set{}
	names := make([]defects.Name, len(opts.Tenant.Defects))
	for i, d := range opts.Tenant.Defects {
		names[i] = defects.Name(d)
	}
	if err := defectSet.Only(names); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if defectSet.Any() {
		opts.Logger.Warn("DEFECT SWITCHES ON: this server is deliberately non-conformant", "defects", opts.Tenant.Defects)
	}
	faultSet := &faults.Faults{}
	p, err := oauth.New(oauth.Config{Issuer: issuer, Tenant: t, Store: st, Keys: kr, Logger: opts.Logger, Now: opts.Now,
		Defects: defectSet, Faults: faultSet})
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(issuer) // oauth.New checked it
	issuerPath := strings.TrimSuffix(u.Path, "/")
	mux := http.NewServeMux()
	p.Register(mux)
	registration.New(registration.Config{Tenant: t, Store: st, Endpoint: p.URL(oauth.PathRegister),
		InitialAccessToken: opts.RegistrationToken, Now: opts.Now}).Register(mux, issuerPath+oauth.PathRegister)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		// A server with defect switches on says so, so nobody mistakes it for a conformant one.
		health := struct {
			Status  string   `json:"status"`
			Defects []string `json:"defects_on,omitempty"`
		}{Status: "ok"}
		for _, d := range defectSet.List() {
			if d.On {
				health.Defects = append(health.Defects, string(d.Name))
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(health)
	})
	s := &Server{Provider: p, Store: st, Tenant: t, Requests: requestlog.New(0), issuer: issuer, ln: ln, done: make(chan error, 1)}
	if opts.AdminToken != "" {
		admin.New(admin.Config{Token: opts.AdminToken, Tenant: t, Store: st, Keys: kr, Requests: s.Requests,
			Defects: defectSet, Faults: faultSet}).
			Register(mux, issuerPath+oauth.PathAdmin)
	}
	var prefix string
	if api := contactsAPI(opts.Tenant); api != nil {
		prefix = issuerPath + APIPath
		// The API fetches the JWKS over HTTP like any resource server, from the local listener so
		// that it works behind a proxy too.
		s.jwks = &bearer.JWKSCache{URL: local + issuerPath + oauth.PathJWKS, MinRefresh: opts.JWKSRefresh}
		v := &bearer.Validator{
			Issuer: issuer, Audience: api.Identifier,
			Algorithms: []jose.SignatureAlgorithm{jose.SignatureAlgorithm(api.SigningAlg)},
			Keys:       s.jwks,
			Denied:     st.Denied, Now: opts.Now,
		}
		if api.SigningAlg == tenant.HS256 {
			v.HMACSecret = []byte(api.SigningSecret)
		}
		contacts.New(contacts.Config{Validator: v, AccountClaim: opts.Tenant.AccountClaim, Accounts: opts.Tenant.Accounts,
			Defects: defectSet}).
			Register(mux, prefix)
		s.apiBase = u.Scheme + "://" + u.Host + prefix
	}
	root := faultSet.Middleware(withDiscovery(mux, p, issuerPath), issuerPath)
	logged := s.Requests.Middleware(newCORS(root, t, issuerPath, prefix), loggedPaths(issuerPath, prefix))
	s.handler = logRequests(opts.Logger, logged)
	s.srv = &http.Server{
		Handler:           s.handler,
		MaxHeaderBytes:    64 << 10,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// withDiscovery serves the discovery documents in front of mux (which has the oauth package's own),
// adding registration_endpoint: the oauth package does not mount registration, this package does.
// Both locations (OIDC and RFC 8414) and, for an issuer with a path, the RFC 8414 §3.1 location with
// the path after the well-known part, serve the same document.
func withDiscovery(mux *http.ServeMux, p *oauth.Provider, issuerPath string) http.Handler {
	type document struct {
		oauth.Metadata
		RegistrationEndpoint string `json:"registration_endpoint"`
	}
	serve := func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		// Built per request: scopes and algorithms follow the tenant, which the admin API changes.
		_ = json.NewEncoder(w).Encode(document{p.Metadata(), p.URL(oauth.PathRegister)})
	}
	root := http.NewServeMux()
	root.HandleFunc("GET "+issuerPath+oauth.PathOIDCDiscovery, serve)
	root.HandleFunc("GET "+issuerPath+oauth.PathOAuthDiscovery, serve)
	if issuerPath != "" {
		root.HandleFunc("GET "+oauth.PathOAuthDiscovery+issuerPath, serve)
	}
	root.Handle("/", mux)
	return root
}

// loggedPaths picks the requests the request log records: the OAuth endpoints, registration and the
// contacts API, which is what clients under test do; not health checks, the admin API or the public
// documents (discovery, JWKS), which would drown them.
func loggedPaths(issuerPath, apiPrefix string) func(*http.Request) bool {
	exact := map[string]bool{}
	for _, p := range []string{oauth.PathAuthorize, oauth.PathLogin, oauth.PathConsent, oauth.PathToken,
		oauth.PathUserInfo, oauth.PathIntrospect, oauth.PathRevoke, oauth.PathRegister} {
		exact[issuerPath+p] = true
	}
	subtrees := []string{issuerPath + oauth.PathRegister + "/"}
	if apiPrefix != "" {
		exact[apiPrefix] = true
		subtrees = append(subtrees, apiPrefix+"/")
	}
	return func(r *http.Request) bool {
		if exact[r.URL.Path] {
			return true
		}
		for _, s := range subtrees {
			if strings.HasPrefix(r.URL.Path, s) {
				return true
			}
		}
		return false
	}
}

// contactsAPI picks the API the contacts resource server serves: contacts_api, else the default audience.
func contactsAPI(cfg *tenant.Config) *tenant.API {
	id := cfg.ContactsAPI
	if id == "" {
		id = cfg.DefaultAudience
	}
	for i := range cfg.APIs {
		if cfg.APIs[i].Identifier == id {
			return &cfg.APIs[i]
		}
	}
	return nil
}

// IssuerURL is the issuer, the base of every endpoint and of discovery.
func (s *Server) IssuerURL() string { return s.issuer }

// APIBaseURL is the contacts API's base URL (empty when the tenant has no contacts API).
func (s *Server) APIBaseURL() string { return s.apiBase }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Handler is the whole HTTP handler, for benchmarks that skip the network.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown stops accepting requests and waits for those in flight, up to ctx's deadline.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return <-s.done
}

// Close stops the server at once.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

// Run starts the server and serves until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, opts Options, ready func(*Server)) error {
	s, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(s)
	}
	select {
	case err := <-s.done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if opts.Logger != nil {
		opts.Logger.Info("shutting down")
	}
	return s.Shutdown(sctx)
}

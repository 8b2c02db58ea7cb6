package server

import (
	"net/http"
	"path"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// CORS response headers.
const (
	hdrAllowOrigin   = "Access-Control-Allow-Origin"
	hdrAllowMethods  = "Access-Control-Allow-Methods"
	hdrAllowHeaders  = "Access-Control-Allow-Headers"
	hdrMaxAge        = "Access-Control-Max-Age"
	hdrExposeHeaders = "Access-Control-Expose-Headers"
	hdrRequestMethod = "Access-Control-Request-Method"

	corsAllowHeaders = "Authorization, Content-Type"
	corsMaxAge       = "600"
)

// cors lets a browser app use the server cross-origin (the Fetch standard's CORS protocol):
//
//   - discovery and the JWKS are public documents: any origin may GET them (Allow-Origin: *);
//   - the token endpoint, userinfo and the contacts API answer only the origins of registered SPA
//     redirect URIs (tenant.AllowedOrigin), echoed with Vary: Origin and without credentials (the
//     SPA sends an Authorization header or a form body, never cookies);
//   - the browser-facing pages (/authorize, /login, /consent) and everything else get no CORS
//     headers: they are navigated to, never fetched.
//
// Paths are the issuer's path plus the oauth.Path* constants, as oauth.Provider.Register mounts them.
type cors struct {
	next   http.Handler
	tenant *tenant.Tenant

	public   map[string]bool // GET from any origin
	token    string
	userinfo string
	api      string // the contacts API's prefix, "" when there is no API
	apiSlash string // api + "/"
}

// newCORS wraps next. issuerPath is the issuer URL's path without a trailing slash ("" for none);
// apiPrefix is where the contacts API is mounted ("" for no API).
func newCORS(next http.Handler, t *tenant.Tenant, issuerPath, apiPrefix string) *cors {
	c := &cors{
		next:   next,
		tenant: t,
		public: map[string]bool{
			issuerPath + oauth.PathOIDCDiscovery:  true,
			issuerPath + oauth.PathOAuthDiscovery: true,
			issuerPath + oauth.PathJWKS:           true,
		},
		token:    issuerPath + oauth.PathToken,
		userinfo: issuerPath + oauth.PathUserInfo,
		api:      apiPrefix,
	}
	if issuerPath != "" { // RFC 8414 §3.1: the well-known part before the issuer's path
		c.public[oauth.PathOAuthDiscovery+issuerPath] = true
	}
	if apiPrefix != "" {
		c.apiSlash = apiPrefix + "/"
	}
	return c
}

func (c *cors) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origins := r.Header["Origin"] // the server canonicalises header names: a plain map look-up
	if len(origins) == 0 {
		// Not a CORS request. Public documents still say "*": the response does not depend on the
		// Origin, so a cached copy of it must serve a later cross-origin fetch too.
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && c.public[r.URL.Path] {
			w.Header().Set(hdrAllowOrigin, "*")
		}
		c.next.ServeHTTP(w, r)
		return
	}
	p := r.URL.Path
	preflight := r.Method == http.MethodOptions && r.Header.Get(hdrRequestMethod) != ""
	if c.public[p] {
		h := w.Header()
		switch {
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			h.Set(hdrAllowOrigin, "*")
		case preflight && r.Header.Get(hdrRequestMethod) == http.MethodGet:
			h.Set(hdrAllowOrigin, "*")
			h.Set(hdrAllowMethods, http.MethodGet)
			h.Set(hdrMaxAge, corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		c.next.ServeHTTP(w, r)
		return
	}
	methods, expose := c.credentialed(p)
	if methods == "" {
		c.next.ServeHTTP(w, r)
		return
	}
	allowed := len(origins) == 1 && c.tenant.AllowedOrigin(origins[0])
	if preflight {
		if !allowed {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h := w.Header()
		h.Set(hdrAllowOrigin, origins[0])
		h.Add("Vary", "Origin")
		h.Set(hdrAllowMethods, methods)
		h.Set(hdrAllowHeaders, corsAllowHeaders)
		h.Set(hdrMaxAge, corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin") // the answer differs between allowed and other origins
	if allowed {
		h.Set(hdrAllowOrigin, origins[0])
		if expose {
			// RFC 6750 errors (invalid_token, insufficient_scope) are in this header, which a
			// browser hides from scripts unless exposed.
			h.Set(hdrExposeHeaders, "WWW-Authenticate")
		}
	}
	c.next.ServeHTTP(w, r)
}

// credentialed returns the methods a registered SPA origin may use on path p ("" when p is not open
// to SPAs), and whether the response's WWW-Authenticate is exposed.
func (c *cors) credentialed(p string) (methods string, expose bool) {
	switch {
	case p == c.token:
		return http.MethodPost, false
	case p == c.userinfo:
		return "GET, POST", true
	case c.api != "" && (p == c.api || strings.HasPrefix(p, c.apiSlash)) && path.Clean(p) == p:
		// An unclean path (/api/../authorize) is only redirected by the mux, to a path that may
		// not be open to SPAs.
		return "GET, POST, PUT", true
	}
	return "", false
}

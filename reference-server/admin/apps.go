package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/registration"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// minSecretLen bounds a client secret the caller chooses: secrets are stored as a fast SHA-256,
// which only protects high-entropy strings.
const minSecretLen = 16

type scopeDoc struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

type apiDoc struct {
	Name               string     `json:"name"`
	Identifier         string     `json:"identifier"`
	Scopes             []scopeDoc `json:"scopes"`
	SigningAlg         string     `json:"signing_alg"`
	SigningSecret      string     `json:"signing_secret,omitempty"` // write-only
	TokenLifetime      string     `json:"token_lifetime"`           // a Go duration
	AllowOfflineAccess bool       `json:"allow_offline_access"`
}

func apiOut(a *tenant.API) apiDoc {
	d := apiDoc{Name: a.Name, Identifier: a.Identifier, Scopes: []scopeDoc{}, SigningAlg: a.SigningAlg,
		TokenLifetime: time.Duration(a.TokenLifetime).String(), AllowOfflineAccess: a.AllowOfflineAccess}
	for _, s := range a.Scopes {
		d.Scopes = append(d.Scopes, scopeDoc(s))
	}
	return d
}

// apply writes the document over a (a copy of the current API on update: fields the admin API does
// not manage survive). A signing secret left out is kept.
func (d *apiDoc) apply(a tenant.API) (tenant.API, *apiError) {
	a.Name, a.Identifier, a.SigningAlg, a.AllowOfflineAccess = d.Name, d.Identifier, d.SigningAlg, d.AllowOfflineAccess
	a.Scopes = nil
	for _, s := range d.Scopes {
		a.Scopes = append(a.Scopes, tenant.Scope(s))
	}
	if d.SigningSecret != "" {
		a.SigningSecret = d.SigningSecret
	}
	a.TokenLifetime = 0 // the tenant's default
	if d.TokenLifetime != "" {
		v, err := time.ParseDuration(d.TokenLifetime)
		if err != nil {
			return a, badRequest("token_lifetime", "%q is not a duration like \"1h\" or \"90s\"", d.TokenLifetime)
		}
		a.TokenLifetime = tenant.Duration(v)
	}
	return a, nil
}

func (h *Handler) listAPIs(w http.ResponseWriter, _ *http.Request) {
	cfg := h.cfg.Tenant.Config()
	out := make([]apiDoc, 0, len(cfg.APIs))
	for i := range cfg.APIs {
		out = append(out, apiOut(&cfg.APIs[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getAPI(w http.ResponseWriter, r *http.Request) {
	a := h.cfg.Tenant.API(r.PathValue("id"))
	if a == nil {
		writeError(w, notFound("no API has identifier %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, apiOut(a))
}

func (h *Handler) createAPI(w http.ResponseWriter, r *http.Request) {
	var d apiDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	a, e := d.apply(tenant.API{})
	if e != nil {
		writeError(w, e)
		return
	}
	err := h.cfg.Tenant.AddAPI(a)
	done(w, http.StatusCreated, h.apiAfter(a.Identifier, err), err)
}

func (h *Handler) updateAPI(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if h.cfg.Tenant.API(id) == nil {
		writeError(w, notFound("no API has identifier %q", id))
		return
	}
	var d apiDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	// The merge over the current API happens under the tenant's writer lock, so that a concurrent
	// change to the API is not undone by a stale copy.
	var e *apiError
	err := h.cfg.Tenant.UpdateAt(func(c *tenant.Config) (string, error) {
		i := slices.IndexFunc(c.APIs, func(a tenant.API) bool { return a.Identifier == id })
		if i < 0 {
			return "", fmt.Errorf("%w: no API has identifier %q", tenant.ErrNotFound, id)
		}
		a, ae := d.apply(c.APIs[i])
		if ae != nil {
			e = ae
			return "", errRefused
		}
		if a.Identifier == "" {
			a.Identifier = id
		}
		if a.Identifier != id {
			e = badRequest("identifier", "cannot change (it is the tokens' audience): delete the API and create another")
			return "", errRefused
		}
		c.APIs[i] = a
		return fmt.Sprintf("apis[%d]", i), nil
	})
	if e != nil {
		writeError(w, e)
		return
	}
	done(w, http.StatusOK, h.apiAfter(id, err), err)
}

func (h *Handler) apiAfter(id string, err error) any {
	if a := h.cfg.Tenant.API(id); err == nil && a != nil {
		return apiOut(a)
	}
	return nil
}

func (h *Handler) deleteAPI(w http.ResponseWriter, r *http.Request) {
	done(w, 0, nil, h.cfg.Tenant.DeleteAPI(r.PathValue("id")))
}

type appDoc struct {
	ClientID                string         `json:"client_id"`
	Name                    string         `json:"name"`
	Type                    string         `json:"type"`
	FirstParty              bool           `json:"first_party"`
	RedirectURIs            []string       `json:"redirect_uris"`
	GrantTypes              []string       `json:"grant_types"`
	TokenEndpointAuthMethod string         `json:"token_endpoint_auth_method"`
	JWKS                    *tenant.JWKSet `json:"jwks,omitempty"`
	// ClientSecret is write-only; a response carries it only when the server generated it.
	ClientSecret string `json:"client_secret,omitempty"`
}

func appOut(a *tenant.Application) appDoc {
	return appDoc{ClientID: a.ClientID, Name: a.Name, Type: a.Type, FirstParty: a.FirstParty,
		RedirectURIs: orEmpty(a.RedirectURIs), GrantTypes: orEmpty(a.GrantTypes),
		TokenEndpointAuthMethod: a.TokenEndpointAuthMethod, JWKS: a.JWKS}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// usesSecret reports whether the application will authenticate with a client secret, with the
// tenant's default auth method for its type when none is named.
func usesSecret(a *tenant.Application) bool {
	switch a.TokenEndpointAuthMethod {
	case tenant.AuthClientSecretBasic, tenant.AuthClientSecretPost:
		return true
	case "":
		return a.Type == tenant.RegularWeb || a.Type == tenant.MachineToMachine
	}
	return false
}

// apply writes the document over a. It returns the generated secret when the application needs a
// secret and has none.
func (d *appDoc) apply(a tenant.Application) (tenant.Application, string, *apiError) {
	a.ClientID, a.Name, a.Type, a.FirstParty = d.ClientID, d.Name, d.Type, d.FirstParty
	a.RedirectURIs, a.GrantTypes = slices.Clone(d.RedirectURIs), slices.Clone(d.GrantTypes)
	a.TokenEndpointAuthMethod, a.JWKS = d.TokenEndpointAuthMethod, d.JWKS
	if !usesSecret(&a) {
		if d.ClientSecret != "" {
			return a, "", badRequest("client_secret", "only client_secret_basic and client_secret_post applications have a secret")
		}
		a.ClientSecretSHA256 = ""
		return a, "", nil
	}
	var generated string
	switch {
	case d.ClientSecret != "" && len(d.ClientSecret) < minSecretLen:
		return a, "", badRequest("client_secret", "must be at least %d random characters (it is stored as SHA-256)", minSecretLen)
	case d.ClientSecret != "":
		a.ClientSecretSHA256 = digestHex(d.ClientSecret)
	case a.ClientSecretSHA256 == "":
		generated = tokens.Random(32)
		a.ClientSecretSHA256 = digestHex(generated)
	}
	return a, generated, nil
}

func digestHex(secret string) string {
	d := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(d[:])
}

func (h *Handler) listApps(w http.ResponseWriter, _ *http.Request) {
	cfg := h.cfg.Tenant.Config()
	out := make([]appDoc, 0, len(cfg.Applications))
	for i := range cfg.Applications {
		out = append(out, appOut(&cfg.Applications[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getApp(w http.ResponseWriter, r *http.Request) {
	a := h.cfg.Tenant.Application(r.PathValue("id"))
	if a == nil {
		writeError(w, notFound("no application has client_id %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, appOut(a))
}

func (h *Handler) createApp(w http.ResponseWriter, r *http.Request) {
	var d appDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	if d.ClientID == "" {
		d.ClientID = "app-" + tokens.Random(12)
	}
	a, secret, e := d.apply(tenant.Application{})
	if e != nil {
		writeError(w, e)
		return
	}
	err := h.cfg.Tenant.AddApplication(a)
	done(w, http.StatusCreated, h.appAfter(a.ClientID, secret, err), err)
}

func (h *Handler) updateApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if h.cfg.Tenant.Application(id) == nil {
		writeError(w, notFound("no application has client_id %q", id))
		return
	}
	var d appDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	if d.ClientID == "" {
		d.ClientID = id
	}
	// The merge over the current application happens under the tenant's writer lock: a secret
	// rotated meanwhile (rotateSecret) is kept, not overwritten with the digest read before it.
	var (
		e      *apiError
		secret string
	)
	err := h.cfg.Tenant.UpdateAt(func(c *tenant.Config) (string, error) {
		i := slices.IndexFunc(c.Applications, func(a tenant.Application) bool { return a.ClientID == id })
		if i < 0 {
			return "", fmt.Errorf("%w: no application has client_id %q", tenant.ErrNotFound, id)
		}
		a, s, ae := d.apply(c.Applications[i])
		if ae != nil {
			e = ae
			return "", errRefused
		}
		if a.ClientID != id {
			e = badRequest("client_id", "cannot change: delete the application and create another")
			return "", errRefused
		}
		c.Applications[i], secret = a, s
		return fmt.Sprintf("applications[%d]", i), nil
	})
	if e != nil {
		writeError(w, e)
		return
	}
	done(w, http.StatusOK, h.appAfter(id, secret, err), err)
}

func (h *Handler) appAfter(id, secret string, err error) any {
	a := h.cfg.Tenant.Application(id)
	if err != nil || a == nil {
		return nil
	}
	d := appOut(a)
	d.ClientSecret = secret
	return d
}

// rotateSecret gives a confidential application a new generated secret; the old one stops working.
func (h *Handler) rotateSecret(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var secret string
	err := h.cfg.Tenant.Update(func(c *tenant.Config) error {
		i := slices.IndexFunc(c.Applications, func(a tenant.Application) bool { return a.ClientID == id })
		if i < 0 {
			return fmt.Errorf("%w: no application has client_id %q", tenant.ErrNotFound, id)
		}
		if !usesSecret(&c.Applications[i]) {
			return &tenant.ValidationError{Problems: []tenant.Problem{{Field: "token_endpoint_auth_method", Path: "token_endpoint_auth_method",
				Message: "the application does not authenticate with a client secret"}}}
		}
		secret = tokens.Random(32)
		c.Applications[i].ClientSecretSHA256 = digestHex(secret)
		return nil
	})
	done(w, http.StatusOK, h.appAfter(id, secret, err), err)
}

// deleteApp removes the application, then revokes at run time what users granted it.
func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := h.cfg.Tenant.DeleteApplication(id)
	if err == nil {
		h.cfg.Store.RevokeClient(id)
		// A dynamically registered client's registration access token ends with it, and does not
		// carry over to an application created later under the same client_id.
		registration.ApplicationDeleted(h.cfg.Tenant, id)
	}
	done(w, 0, nil, err)
}

// errRefused stops a Tenant.Update whose closure found the request at fault; the closure keeps the
// answer.
var errRefused = errors.New("admin: request refused")

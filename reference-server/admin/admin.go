// Package admin is the reference server's management API, for the harness to change the tenant
// while the server runs and to observe clients. It is mounted at oauth.PathAdmin below the issuer
// only when an admin token is configured, and every request needs `Authorization: Bearer <token>`
// (401 with a WWW-Authenticate challenge otherwise).
//
// Resources are JSON; lists are arrays; ids are path segments, escaped (an API identifier is a URL:
// /admin/apis/https:%2F%2Fapi.contacts.example). PUT replaces a resource, except that a write-only
// secret (signing_secret, client_secret, password) left out keeps its current value.
//
//	GET    /admin/apis                                  list APIs
//	POST   /admin/apis                                  create: {name, identifier, scopes:[{value, description}],
//	                                                    signing_alg, signing_secret, token_lifetime:"1h", allow_offline_access}
//	GET    /admin/apis/{identifier}                     read (signing_secret is never returned)
//	PUT    /admin/apis/{identifier}                     replace (the identifier cannot change)
//	DELETE /admin/apis/{identifier}                     delete, with its client grants
//	GET    /admin/applications                          list applications
//	POST   /admin/applications                          create: {client_id (generated when empty), name, type, first_party,
//	                                                    redirect_uris, grant_types, token_endpoint_auth_method, jwks,
//	                                                    client_secret}; a confidential client given no secret gets a
//	                                                    generated one, returned once in client_secret
//	GET    /admin/applications/{client_id}              read (the secret is stored as SHA-256 and never returned)
//	PUT    /admin/applications/{client_id}              replace
//	DELETE /admin/applications/{client_id}              delete, revoking its client grants, consents and grants
//	POST   /admin/applications/{client_id}/secret       issue a new generated secret, returned once
//	GET    /admin/client-grants?client_id=&audience=    list client grants (both filters optional)
//	POST   /admin/client-grants                         create: {client_id, audience, scopes}
//	GET    /admin/client-grants/{client_id}/{audience}  read
//	PUT    /admin/client-grants/{client_id}/{audience}  replace the scopes
//	DELETE /admin/client-grants/{client_id}/{audience}  delete
//	GET    /admin/users                                 list users (password hashes are never returned)
//	POST   /admin/users                                 create: {id (generated when empty), email, name, accounts, password}
//	GET    /admin/users/{id}                            read
//	PUT    /admin/users/{id}                            replace (password optional: stored as bcrypt)
//	DELETE /admin/users/{id}                            delete, ending the user's sessions, consents and grants
//	GET    /admin/consents?user_id=&client_id=          list remembered consents
//	DELETE /admin/consents?user_id=&client_id=          withdraw them (at least one filter), revoking the
//	                                                    grants they allowed (refresh tokens fail, access tokens denied)
//	GET    /admin/keys                                  list the published signing keys
//	POST   /admin/keys/rotate                           {"alg":"RS256","overlap":"30s"}: a new active key; the previous
//	                                                    one stays published for overlap ("0s": dropped at once)
//	GET    /admin/requests?client_id=&path=&since=      the request log, oldest first; since is RFC 3339 or a
//	                                                    duration back from now ("5m")
//	DELETE /admin/requests                              clear the request log
//	GET    /admin/defects                               every defect switch with its state
//	PUT    /admin/defects                               {"on": ["api-skips-audience", ...]}: exactly these on
//	GET    /admin/faults                                the faults in force (see package faults)
//	PUT    /admin/faults                                {"rules": [{path, client_id, latency, error_rate, status}],
//	                                                    "tokens": [{client_id, access_token_lifetime, clock_skew,
//	                                                    id_token}]}: replaces them ({} removes every fault)
//
// Errors are {"error", "error_description", "problems": [{"field", "message"}]}: 400 invalid_request
// for a malformed body or a value the tenant validator refuses (its message names the field), 404
// not_found, 409 conflict (the id exists, or the change would break another part of the tenant, such
// as deleting the default audience), 401 invalid_token.
package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
	"net/http"
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// maxBody bounds a request body.
const maxBody = 1 << 20

// Config wires the admin API.
type Config struct {
	// Token is the admin bearer token; required.
	Token    string
	Tenant   *tenant.Tenant
	Store    *store.Store
	Keys     *keys.Keyring
	Requests *requestlog.Log
	Defects  *defects.Set   // nil: the defect routes answer 404
	Faults   *faults.Faults // nil: the fault routes answer 404
}

// Handler serves the admin API.
type Handler struct {
	cfg   Config
	token [sha256.Size]byte
	mux   *http.ServeMux
}

// New builds the admin API. It panics without a token: an open admin API is never what is meant.
func New(cfg Config) *Handler {
	if cfg.Token == "" {
		panic("admin: a token is required")
	}
	return &Handler{cfg: cfg, token: sha256.Sum256([]byte(cfg.Token)), mux: http.NewServeMux()}
}

// Register mounts the API on mux under prefix (the issuer's path plus oauth.PathAdmin).
func (h *Handler) Register(mux *http.ServeMux, prefix string) {
	at := func(method, path string, f http.HandlerFunc) { h.mux.HandleFunc(method+" "+prefix+path, f) }
	at("GET", "/apis", h.listAPIs)
	at("POST", "/apis", h.createAPI)
	at("GET", "/apis/{id}", h.getAPI)
	at("PUT", "/apis/{id}", h.updateAPI)
	at("DELETE", "/apis/{id}", h.deleteAPI)
	at("GET", "/applications", h.listApps)
	at("POST", "/applications", h.createApp)
	at("GET", "/applications/{id}", h.getApp)
	at("PUT", "/applications/{id}", h.updateApp)
	at("DELETE", "/applications/{id}", h.deleteApp)
	at("POST", "/applications/{id}/secret", h.rotateSecret)
	at("GET", "/client-grants", h.listGrants)
	at("POST", "/client-grants", h.createGrant)
	at("GET", "/client-grants/{client}/{audience}", h.getGrant)
	at("PUT", "/client-grants/{client}/{audience}", h.updateGrant)
	at("DELETE", "/client-grants/{client}/{audience}", h.deleteGrant)
	at("GET", "/users", h.listUsers)
	at("POST", "/users", h.createUser)
	at("GET", "/users/{id}", h.getUser)
	at("PUT", "/users/{id}", h.updateUser)
	at("DELETE", "/users/{id}", h.deleteUser)
	at("GET", "/consents", h.listConsents)
	at("DELETE", "/consents", h.revokeConsents)
	at("GET", "/keys", h.listKeys)
	at("POST", "/keys/rotate", h.rotateKey)
	at("GET", "/requests", h.listRequests)
	at("DELETE", "/requests", h.clearRequests)
	if h.cfg.Defects != nil {
		at("GET", "/defects", h.listDefects)
		at("PUT", "/defects", h.setDefects)
	}
	if h.cfg.Faults != nil {
		at("GET", "/faults", h.getFaults)
		at("PUT", "/faults", h.setFaults)
	}
	mux.Handle(prefix+"/", h)
}

// ServeHTTP checks the admin token, then routes. Unknown paths below the prefix are 404 only to an
// authenticated caller, so the API's shape is not visible without the token.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	sent := strings.EqualFold(scheme, "Bearer") && tok != ""
	got := sha256.Sum256([]byte(tok)) // equal lengths: the comparison time says nothing about the token
	if subtle.ConstantTimeCompare(got[:], h.token[:]) != 1 || !sent {
		challenge := `Bearer realm="oauth-harness-admin"`
		if sent {
			challenge += `, error="invalid_token"` // RFC 6750 §3.1: no code when no token was sent
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeError(w, &apiError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "the admin API needs Authorization: Bearer <admin token>"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// apiError is an error answer; Problems name the fields at fault.
type apiError struct {
	Status      int              `json:"-"`
	Code        string           `json:"error"`
	Description string           `json:"error_description"`
	Problems    []tenant.Problem `json:"problems,omitempty"`
}

func badRequest(field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: field + ": " + msg,
		Problems: []tenant.Problem{{Field: field, Path: field, Message: msg}}}
}

// fromTenant maps a tenant mutation's error to an answer.
func fromTenant(err error) *apiError {
	var ve *tenant.ValidationError
	switch {
	case errors.As(err, &ve):
		e := &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Problems: ve.Problems,
			Description: strings.TrimPrefix(ve.Error(), "tenant: ")}
		if ve.Elsewhere {
			e.Status, e.Code = http.StatusConflict, "conflict"
		}
		return e
	case errors.Is(err, tenant.ErrNotFound):
		return &apiError{Status: http.StatusNotFound, Code: "not_found", Description: strings.TrimPrefix(err.Error(), "tenant: ")}
	case errors.Is(err, tenant.ErrExists):
		return &apiError{Status: http.StatusConflict, Code: "conflict", Description: strings.TrimPrefix(err.Error(), "tenant: ")}
	}
	return &apiError{Status: http.StatusInternalServerError, Code: "server_error", Description: err.Error()}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "not_found", Description: fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) { writeJSON(w, e.Status, e) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body strictly: an unknown member is a typo to report, not to ignore.
func decode(w http.ResponseWriter, r *http.Request, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return badRequest(te.Field, "has the wrong JSON type (%s)", te.Value)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest(strings.Trim(f, `"`), "is not a member of this resource")
		}
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the body is not valid JSON: " + err.Error()}
	}
	if dec.More() {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the body has data after the JSON value"}
	}
	return nil
}

// done answers a successful mutation: the resource (201 for a creation) or 204 for a deletion.
func done(w http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		writeError(w, fromTenant(err))
		return
	}
	if v == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, status, v)
}

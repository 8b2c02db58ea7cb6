// Package contacts is the reference resource server: the seeds' contacts API. It validates JWT
// access tokens, then authorizes on scope, on the user's account membership, and on whether the
// caller is an application acting for itself (client credentials) or for a user.
package contacts

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// Scopes the API checks.
const (
	ScopeRead   = "read:contacts"
	ScopeUpdate = "update:contacts"
)

// Realm names the API in WWW-Authenticate challenges.
const Realm = "contacts"

// Config wires the API.
type Config struct {
	Validator    *bearer.Validator
	AccountClaim string           // namespaced claim with the user's account ids
	Accounts     []tenant.Account // seed data
	// Defects, when set, can make the API deliberately vulnerable (see package defects).
	Defects *defects.Set
}

// API serves /accounts/{account}/contacts and /me under a prefix.
type API struct {
	v       *bearer.Validator
	defects *defects.Set

	mu       sync.RWMutex
	accounts map[string][]tenant.Contact
	nextID   int
}

// New seeds the API's contacts from the tenant's accounts.
func New(cfg Config) *API {
	a := &API{v: cfg.Validator, defects: cfg.Defects, accounts: map[string][]tenant.Contact{}}
	// The account claim is decoded with the standard claims, in the validator's single pass.
	a.v.ListClaim = cfg.AccountClaim
	if d := cfg.Defects; d != nil {
		a.v.Insecure = func() bearer.Insecure {
			if !d.Any() {
				return bearer.Insecure{}
			}
			return bearer.Insecure{
				SkipAudience: d.On(defects.APISkipsAudience), SkipIssuer: d.On(defects.APISkipsIssuer),
				IgnoreExpiry: d.On(defects.APIIgnoresExpiry), AcceptNone: d.On(defects.APIAcceptsAlgNone),
				AcceptHSWithPublicKey: d.On(defects.APIAcceptsHSWithRSAKey),
			}
		}
	}
	for _, acc := range cfg.Accounts {
		a.accounts[acc.ID] = slices.Clone(acc.Contacts)
		a.nextID += len(acc.Contacts)
	}
	return a
}

// Register mounts the API under prefix (for example "/api").
func (a *API) Register(mux *http.ServeMux, prefix string) {
	mux.HandleFunc("GET "+prefix+"/me", a.me)
	mux.HandleFunc("GET "+prefix+"/accounts/{account}/contacts", a.list)
	mux.HandleFunc("POST "+prefix+"/accounts/{account}/contacts", a.create)
	mux.HandleFunc("PUT "+prefix+"/accounts/{account}/contacts/{id}", a.update)
}

// authorize validates the bearer token and checks scope and account; it answers the error itself.
// scope and account may be empty (no check).
func (a *API) authorize(w http.ResponseWriter, r *http.Request, scope, account string) (*bearer.Claims, bool) {
	raw, e := bearer.ParseAuthorization(r)
	inQuery := r.URL.RawQuery != "" && r.URL.Query().Has("access_token")
	if e != nil && inQuery && a.defects.On(defects.APIAcceptsQueryToken) {
		raw, e = r.URL.Query().Get("access_token"), nil
	}
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) {
		switch {
		case r.Header.Get("Authorization") != "":
			en.Bearer = requestlog.BearerHeader
		case inQuery:
			en.Bearer = requestlog.BearerQuery
		}
	})
	if e != nil {
		bearer.WriteError(w, Realm, e, scope)
		return nil, false
	}
	claims, err := a.v.Validate(r.Context(), raw)
	if err != nil {
		bearer.WriteError(w, Realm, bearer.AsError(err), "")
		return nil, false
	}
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) { en.ClientID, en.Scope = claims.ClientID, claims.Scope })
	if scope != "" && !claims.HasScope(scope) && !a.defects.On(defects.APISkipsScopeCheck) {
		bearer.WriteError(w, Realm, &bearer.Error{Code: "insufficient_scope", Status: http.StatusForbidden,
			Description: "this request needs the " + scope + " scope"}, scope)
		return nil, false
	}
	if account == "" {
		return claims, true
	}
	if actsForItself(claims) {
		// An application with a client grant acts across accounts, within its scopes.
		if !a.hasAccount(account) {
			writeJSON(w, http.StatusNotFound, apiError{"not_found", "no account " + account})
			return nil, false
		}
		return claims, true
	}
	if !slices.Contains(claims.List(), account) && !a.defects.On(defects.APIIgnoresAccount) {
		writeJSON(w, http.StatusForbidden, apiError{"access_denied", "the token's user is not a member of account " + account})
		return nil, false
	}
	return claims, true
}

// actsForItself tells a client-credentials token (the application is the subject) from a user's.
func actsForItself(c *bearer.Claims) bool {
	return c.GrantType == tokens.GrantTypeClientCredentials && c.Subject == c.ClientID
}

func (a *API) hasAccount(id string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.accounts[id]
	return ok
}

type apiError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// me echoes the validated claims: handy for a partner checking what the API sees.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	claims, ok := a.authorize(w, r, "", "")
	if !ok {
		return
	}
	all, err := claims.Map()
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{"server_error", err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, all)
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.authorize(w, r, ScopeRead, account); !ok {
		return
	}
	a.mu.RLock()
	out := slices.Clone(a.accounts[account])
	a.mu.RUnlock()
	if out == nil {
		out = []tenant.Contact{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": account, "contacts": out})
}

// readContact decodes and checks a contact body.
func readContact(w http.ResponseWriter, r *http.Request) (tenant.Contact, bool) {
	var c tenant.Contact
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		writeJSON(w, http.StatusBadRequest, apiError{"invalid_request", "the body must be a JSON contact {name, email}: " + err.Error()})
		return c, false
	}
	if strings.TrimSpace(c.Name) == "" {
		writeJSON(w, http.StatusBadRequest, apiError{"invalid_request", "name is required"})
		return c, false
	}
	return c, true
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	account := r.PathValue("account")
	if _, ok := a.authorize(w, r, ScopeUpdate, account); !ok {
		return
	}
	c, ok := readContact(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	a.nextID++
	c.ID = "c" + strconv.Itoa(a.nextID)
	a.accounts[account] = append(a.accounts[account], c)
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, c)
}

func (a *API) update(w http.ResponseWriter, r *http.Request) {
	account, id := r.PathValue("account"), r.PathValue("id")
	if _, ok := a.authorize(w, r, ScopeUpdate, account); !ok {
		return
	}
	c, ok := readContact(w, r)
	if !ok {
		return
	}
	c.ID = id
	a.mu.Lock()
	list := a.accounts[account]
	i := slices.IndexFunc(list, func(x tenant.Contact) bool { return x.ID == id })
	if i >= 0 {
		list[i] = c
	}
	a.mu.Unlock()
	if i < 0 {
		writeJSON(w, http.StatusNotFound, apiError{"not_found", "no contact " + id + " in account " + account})
		return
	}
	writeJSON(w, http.StatusOK, c)
}

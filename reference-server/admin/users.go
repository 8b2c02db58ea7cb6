package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
	"golang.org/x/crypto/bcrypt"
)

type grantDoc struct {
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

func grantOut(g *tenant.ClientGrant) grantDoc {
	return grantDoc{ClientID: g.ClientID, Audience: g.Audience, Scopes: orEmpty(g.Scopes)}
}

func (h *Handler) listGrants(w http.ResponseWriter, r *http.Request) {
	client, aud := r.URL.Query().Get("client_id"), r.URL.Query().Get("audience")
	out := []grantDoc{}
	for _, g := range h.cfg.Tenant.Config().ClientGrants {
		if (client == "" || g.ClientID == client) && (aud == "" || g.Audience == aud) {
			out = append(out, grantOut(&g))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getGrant(w http.ResponseWriter, r *http.Request) {
	g := h.cfg.Tenant.ClientGrant(r.PathValue("client"), r.PathValue("audience"))
	if g == nil {
		writeError(w, notFound("%q has no client grant for %q", r.PathValue("client"), r.PathValue("audience")))
		return
	}
	writeJSON(w, http.StatusOK, grantOut(g))
}

func (h *Handler) createGrant(w http.ResponseWriter, r *http.Request) {
	var d grantDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	g := tenant.ClientGrant(d)
	err := h.cfg.Tenant.AddClientGrant(g)
	done(w, http.StatusCreated, h.grantAfter(g, err), err)
}

func (h *Handler) updateGrant(w http.ResponseWriter, r *http.Request) {
	var d grantDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	client, aud := r.PathValue("client"), r.PathValue("audience")
	if (d.ClientID != "" && d.ClientID != client) || (d.Audience != "" && d.Audience != aud) {
		writeError(w, badRequest("client_id", "client_id and audience identify the grant and cannot change"))
		return
	}
	g := tenant.ClientGrant{ClientID: client, Audience: aud, Scopes: d.Scopes}
	err := h.cfg.Tenant.UpdateClientGrant(g)
	done(w, http.StatusOK, h.grantAfter(g, err), err)
}

func (h *Handler) grantAfter(g tenant.ClientGrant, err error) any {
	if cur := h.cfg.Tenant.ClientGrant(g.ClientID, g.Audience); err == nil && cur != nil {
		return grantOut(cur)
	}
	return nil
}

func (h *Handler) deleteGrant(w http.ResponseWriter, r *http.Request) {
	done(w, 0, nil, h.cfg.Tenant.DeleteClientGrant(r.PathValue("client"), r.PathValue("audience")))
}

type userDoc struct {
	ID       string   `json:"id"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Accounts []string `json:"accounts"`
	Password string   `json:"password,omitempty"` // write-only, stored as bcrypt
}

func userOut(u *tenant.User) userDoc {
	return userDoc{ID: u.ID, Email: u.Email, Name: u.Name, Accounts: orEmpty(u.Accounts)}
}

// apply writes the document over u, hashing a new password; a password left out keeps the current one.
func (d *userDoc) apply(u tenant.User) (tenant.User, *apiError) {
	hash, e := d.hash()
	if e != nil {
		return u, e
	}
	return d.merge(u, hash)
}

// hash returns the bcrypt hash of the document's password ("" when it has none). It is slow on
// purpose, so it runs before the tenant is locked.
func (d *userDoc) hash() (string, *apiError) {
	switch {
	case d.Password == "":
		return "", nil
	case len(d.Password) < 8:
		return "", badRequest("password", "must be at least 8 characters")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(d.Password), bcrypt.DefaultCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", badRequest("password", "must be at most 72 bytes (bcrypt's limit)")
	}
	if err != nil {
		return "", &apiError{Status: http.StatusInternalServerError, Code: "server_error", Description: "cannot hash the password"}
	}
	return string(hash), nil
}

// merge writes the document over u with hash, the new password's hash ("" keeps the current one).
func (d *userDoc) merge(u tenant.User, hash string) (tenant.User, *apiError) {
	u.ID, u.Email, u.Name, u.Accounts = d.ID, d.Email, d.Name, slices.Clone(d.Accounts)
	switch {
	case hash != "":
		u.PasswordHash = hash
	case u.PasswordHash == "":
		return u, badRequest("password", "is required")
	}
	return u, nil
}

func (h *Handler) listUsers(w http.ResponseWriter, _ *http.Request) {
	cfg := h.cfg.Tenant.Config()
	out := make([]userDoc, 0, len(cfg.Users))
	for i := range cfg.Users {
		out = append(out, userOut(&cfg.Users[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	u := h.cfg.Tenant.User(r.PathValue("id"))
	if u == nil {
		writeError(w, notFound("no user has id %q", r.PathValue("id")))
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	var d userDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	if d.ID == "" {
		d.ID = "user-" + tokens.Random(12)
	}
	if h.cfg.Tenant.User(d.ID) != nil { // before paying for bcrypt
		writeError(w, fromTenant(fmt.Errorf("%w: a user has id %q", tenant.ErrExists, d.ID)))
		return
	}
	u, e := d.apply(tenant.User{})
	if e != nil {
		writeError(w, e)
		return
	}
	err := h.cfg.Tenant.AddUser(u)
	done(w, http.StatusCreated, h.userAfter(u.ID, err), err)
}

func (h *Handler) updateUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if h.cfg.Tenant.User(id) == nil {
		writeError(w, notFound("no user has id %q", id))
		return
	}
	var d userDoc
	if e := decode(w, r, &d); e != nil {
		writeError(w, e)
		return
	}
	if d.ID == "" {
		d.ID = id
	}
	hash, e := d.hash()
	if e != nil {
		writeError(w, e)
		return
	}
	// The merge over the current user happens under the tenant's writer lock, so that a concurrent
	// change to the user is not undone by a stale copy.
	err := h.cfg.Tenant.UpdateAt(func(c *tenant.Config) (string, error) {
		i := slices.IndexFunc(c.Users, func(u tenant.User) bool { return u.ID == id })
		if i < 0 {
			return "", fmt.Errorf("%w: no user has id %q", tenant.ErrNotFound, id)
		}
		u, ae := d.merge(c.Users[i], hash)
		if ae != nil {
			e = ae
			return "", errRefused
		}
		if u.ID != id {
			e = badRequest("id", "cannot change: tokens and consents refer to it")
			return "", errRefused
		}
		c.Users[i] = u
		return fmt.Sprintf("users[%d]", i), nil
	})
	if e != nil {
		writeError(w, e)
		return
	}
	done(w, http.StatusOK, h.userAfter(id, err), err)
}

func (h *Handler) userAfter(id string, err error) any {
	if u := h.cfg.Tenant.User(id); err == nil && u != nil {
		return userOut(u)
	}
	return nil
}

// deleteUser removes the user, then ends what the user had at run time: sessions, consents, grants.
func (h *Handler) deleteUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := h.cfg.Tenant.DeleteUser(id)
	if err == nil {
		h.cfg.Store.RevokeUser(id)
	}
	done(w, 0, nil, err)
}

// Package registration is OAuth 2.0 Dynamic Client Registration (RFC 7591) with its management
// protocol (RFC 7592), mounted at oauth.PathRegister:
//
//	POST   {path}              register: client metadata in, 201 with client_id, client_secret (for
//	                           client_secret_basic/post), registration_access_token and registration_client_uri
//	GET    {path}/{client_id}  read the registration (RFC 7592 §2.1)
//	PUT    {path}/{client_id}  replace the metadata (§2.2): same checks as registering
//	DELETE {path}/{client_id}  delete the client and everything users granted it (§2.3): 204
//
// Registered clients are always third party, so users always see the consent page, and may only use
// the authorization_code and refresh_token grants. A registration is a tenant mutation: the tenant
// validator checks the resulting application like any other, and its messages (which name the member
// at fault) become the error_description.
//
// Secrets are stored as SHA-256 only: the client secret in the tenant, the registration access token
// here. Because the plaintext is gone, read never returns the client secret, and every read or update
// issues a fresh registration access token (RFC 7592 §3 requires one in the response) that replaces
// the previous one.
package registration

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/oauth-harness/oauth-harness/reference-server/errdesc"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// maxBody bounds a registration request.
const maxBody = 64 << 10

// Config wires a Handler.
type Config struct {
	Tenant *tenant.Tenant
	Store  *store.Store
	// Endpoint is the registration endpoint's absolute URL; a client's configuration endpoint is
	// Endpoint/{client_id}.
	Endpoint string
	// InitialAccessToken, when set, must be presented as a bearer token to register (RFC 7591 §3);
	// when empty, registration is open.
	InitialAccessToken string
	Now                func() time.Time
}

// Handler serves registration and the client configuration endpoints.
type Handler struct {
	cfg     Config
	initial [sha256.Size]byte // digest of the initial access token, when one is required

	mu      sync.Mutex // guards clients and serialises the management operations
	clients map[string]*record
}

// record is what registration keeps beside the tenant's application.
type record struct {
	token    [sha256.Size]byte // digest of the registration access token
	issuedAt int64
	meta     Metadata // as accepted
}

// clientInfo is the client information response (RFC 7591 §3.2.1, RFC 7592 §3).
type clientInfo struct {
	ClientID                string `json:"client_id"`
	ClientSecret            string `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64 `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken string `json:"registration_access_token"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	Metadata
}

// New returns a handler.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, clients: map[string]*record{}}
	if cfg.InitialAccessToken != "" {
		h.initial = sha256.Sum256([]byte(cfg.InitialAccessToken))
	}
	return h
}

// Register mounts the endpoints on mux at path (the issuer's path plus oauth.PathRegister).
func (h *Handler) Register(mux *http.ServeMux, path string) {
	mux.HandleFunc("POST "+path, h.register)
	mux.HandleFunc("GET "+path+"/{client_id}", h.read)
	mux.HandleFunc("PUT "+path+"/{client_id}", h.update)
	mux.HandleFunc("DELETE "+path+"/{client_id}", h.remove)
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	if h.cfg.InitialAccessToken != "" {
		tok, ok := bearerToken(r)
		if d := sha256.Sum256([]byte(tok)); !ok || subtle.ConstantTimeCompare(d[:], h.initial[:]) != 1 {
			writeError(w, r, unauthorized(ok, "registration needs a valid initial access token"))
			return
		}
	}
	m, e := readMetadata(w, r, h.cfg.Tenant)
	if e != nil {
		writeError(w, r, e)
		return
	}
	id := "dcr-" + tokens.Random(16)
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) { en.ClientID = id })
	app := m.application(tenant.Application{ClientID: id})
	var secret string
	if m.usesSecret() {
		secret = tokens.Random(32)
		app.ClientSecretSHA256 = digestHex(secret)
	}
	if err := h.cfg.Tenant.AddApplication(app); err != nil {
		writeError(w, r, tenantError(err))
		return
	}
	rat := tokens.Random(32)
	rec := &record{token: sha256.Sum256([]byte(rat)), issuedAt: h.cfg.Now().Unix(), meta: *m}
	h.mu.Lock()
	h.clients[id] = rec
	h.mu.Unlock()
	writeInfo(w, http.StatusCreated, h.info(id, rec, secret, rat))
}

// client authenticates a management request: the registration access token of the client named in
// the path. It returns the client's record with h.mu held (the caller unlocks), or answers 401.
func (h *Handler) client(w http.ResponseWriter, r *http.Request) (string, *record) {
	id := r.PathValue("client_id")
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) { en.ClientID = id })
	tok, ok := bearerToken(r)
	d := sha256.Sum256([]byte(tok))
	h.mu.Lock()
	rec := h.clients[id]
	want := dummyToken
	if rec != nil {
		want = rec.token
	}
	if subtle.ConstantTimeCompare(d[:], want[:]) != 1 || !ok || rec == nil {
		h.mu.Unlock()
		writeError(w, r, unauthorized(ok, "the registration access token is not valid for this client"))
		return "", nil
	}
	if h.cfg.Tenant.Application(id) == nil {
		// Deleted through the admin API: RFC 7592 §2.1 says 401 and revoke the token.
		delete(h.clients, id)
		h.mu.Unlock()
		writeError(w, r, unauthorized(ok, "the client no longer exists"))
		return "", nil
	}
	return id, rec
}

// dummyToken is compared against for unknown clients, so both failures take the same path.
var dummyToken = sha256.Sum256([]byte("no such client"))

func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	id, rec := h.client(w, r)
	if rec == nil {
		return
	}
	defer h.mu.Unlock()
	writeInfo(w, http.StatusOK, h.info(id, rec, "", h.rotate(rec)))
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	id, rec := h.client(w, r)
	if rec == nil {
		return
	}
	defer h.mu.Unlock()
	body, e := readBody(w, r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	if e := checkUpdateMembers(body, id, h.cfg.Tenant.SecretDigest(id)); e != nil {
		writeError(w, r, e)
		return
	}
	m, e := decodeMetadata(body)
	if e == nil {
		e = m.normalize(h.cfg.Tenant)
	}
	if e != nil {
		writeError(w, r, e)
		return
	}
	app := m.application(*h.cfg.Tenant.Application(id))
	var secret string
	switch {
	case !m.usesSecret():
		app.ClientSecretSHA256 = ""
	case app.ClientSecretSHA256 == "":
		// Newly confidential: it gets a secret, shown once. An existing secret is kept (RFC 7592 §2.2:
		// the client may not choose its own).
		secret = tokens.Random(32)
		app.ClientSecretSHA256 = digestHex(secret)
	}
	if err := h.cfg.Tenant.UpdateApplication(id, app); err != nil {
		writeError(w, r, tenantError(err))
		return
	}
	rec.meta = *m
	writeInfo(w, http.StatusOK, h.info(id, rec, secret, h.rotate(rec)))
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	id, rec := h.client(w, r)
	if rec == nil {
		return
	}
	defer h.mu.Unlock()
	if err := h.cfg.Tenant.DeleteApplication(id); err != nil && !errors.Is(err, tenant.ErrNotFound) {
		writeError(w, r, &Error{Code: "server_error", Description: "the client could not be deleted", Status: http.StatusInternalServerError})
		return
	}
	h.cfg.Store.RevokeClient(id)
	delete(h.clients, id)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// rotate issues a new registration access token for rec (h.mu held); the previous one stops working.
func (h *Handler) rotate(rec *record) string {
	rat := tokens.Random(32)
	rec.token = sha256.Sum256([]byte(rat))
	return rat
}

func (h *Handler) info(id string, rec *record, secret, rat string) clientInfo {
	ci := clientInfo{ClientID: id, ClientSecret: secret, ClientIDIssuedAt: rec.issuedAt, RegistrationAccessToken: rat,
		RegistrationClientURI: h.cfg.Endpoint + "/" + url.PathEscape(id), Metadata: rec.meta}
	if rec.meta.usesSecret() {
		never := int64(0) // the secret does not expire
		ci.ClientSecretExpiresAt = &never
	}
	return ci
}

// checkUpdateMembers applies RFC 7592 §2.2 to an update body: client_id must be the client's own, a
// client_secret must be the current one, and the server-managed members must be absent.
func checkUpdateMembers(body []byte, id string, digest []byte) *Error {
	var u map[string]json.RawMessage
	if err := json.Unmarshal(body, &u); err != nil {
		return badMetadata("the body is not a JSON object of client metadata")
	}
	for _, k := range []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"} {
		if _, ok := u[k]; ok {
			return badMetadata("%s: must not be sent in an update (RFC 7592 section 2.2)", k)
		}
	}
	var cid, secret string
	if json.Unmarshal(u["client_id"], &cid) != nil || cid != id {
		return badMetadata("client_id: must be present and be this client's identifier")
	}
	if raw, ok := u["client_secret"]; ok {
		_ = json.Unmarshal(raw, &secret) // a non-string leaves "", which matches no stored digest
		got := sha256.Sum256([]byte(secret))
		if len(digest) != len(got) || subtle.ConstantTimeCompare(digest, got[:]) != 1 {
			return badMetadata("client_secret: does not match the current secret (a client cannot choose its own)")
		}
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return nil, badMetadata("the request must be application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, badMetadata("the body cannot be read or is larger than %d bytes", maxBody)
	}
	return body, nil
}

func readMetadata(w http.ResponseWriter, r *http.Request, t *tenant.Tenant) (*Metadata, *Error) {
	body, e := readBody(w, r)
	if e != nil {
		return nil, e
	}
	m, e := decodeMetadata(body)
	if e != nil {
		return nil, e
	}
	if e := m.normalize(t); e != nil {
		return nil, e
	}
	return m, nil
}

// bearerToken returns the Authorization header's bearer token (RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

// unauthorized is a 401 invalid_token; its challenge names the error only when a token was sent
// (RFC 6750 §3.1).
func unauthorized(sent bool, desc string) *Error {
	return &Error{Code: "invalid_token", Description: desc, Status: http.StatusUnauthorized, bare: !sent}
}

func digestHex(secret string) string {
	d := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(d[:])
}

func writeInfo(w http.ResponseWriter, status int, ci clientInfo) {
	noStore(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ci)
}

func writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	noStore(w)
	if e.Status == http.StatusUnauthorized {
		challenge := `Bearer realm="registration"`
		if !e.bare {
			challenge += `, error="` + e.Code + `"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) { en.Error = e.Code })
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	out := *e
	out.Description = errdesc.Clean(e.Description)
	_ = json.NewEncoder(w).Encode(out)
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

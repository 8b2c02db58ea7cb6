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
//
// Registration is bounded: at most maxRegisteredClients clients registered here at a time (429
// past it), and bounded metadata per client (see checkLimits). A registration belongs to its
// application: a read shows the application as it is now, admin changes included, and when the
// application is deleted (here or through the admin API) the registration access token dies with it.
package registration

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/oauth-harness/oauth-harness/reference-server/errdesc"

	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// maxBody bounds a registration request.
const maxBody = 64 << 10

// maxRegisteredClients bounds the clients registered through this endpoint (those an admin or the
// configuration created do not count), so that open registration cannot grow the tenant without
// bound: every tenant change copies and revalidates the whole tenant.
const maxRegisteredClients = 1000

// clientLimit is maxRegisteredClients; tests lower it.
var clientLimit = maxRegisteredClients

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

	// mu guards clients and reserved. It is held only for short bookkeeping (token checks and
	// rotation), never while reading a request. Lock order: the tenant's writer lock (inside a
	// Tenant.Update closure), then mu; never the other way round.
	mu       sync.Mutex
	clients  map[string]*record
	reserved int // registrations admitted under the limit whose application is being added
}

// record is what registration keeps beside the tenant's application. A record belongs to one
// application: when that application is deleted (here, through the admin API, see
// ApplicationDeleted, or found missing) the record goes, so that an application created later under
// the same client_id is not managed by the old registration access token.
type record struct {
	token    [sha256.Size]byte // digest of the registration access token
	issuedAt int64
	meta     Metadata // as last accepted: the members the tenant does not keep (scope, contacts, ...)
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
	if cfg.Tenant != nil {
		watch(cfg.Tenant, h)
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

// The handlers serving each tenant, for ApplicationDeleted. Weak pointers: a handler (or tenant) no
// longer used elsewhere is not kept alive by this list.
var (
	watchMu  sync.Mutex
	watchers = map[weak.Pointer[tenant.Tenant]][]weak.Pointer[Handler]{}
)

func watch(t *tenant.Tenant, h *Handler) {
	watchMu.Lock()
	defer watchMu.Unlock()
	for k, hs := range watchers {
		if hs = slices.DeleteFunc(hs, func(p weak.Pointer[Handler]) bool { return p.Value() == nil }); k.Value() == nil || len(hs) == 0 {
			delete(watchers, k)
		} else {
			watchers[k] = hs
		}
	}
	k := weak.Make(t)
	watchers[k] = append(watchers[k], weak.Make(h))
}

// ApplicationDeleted tells the registration endpoints serving t that the application clientID was
// deleted by other means (the admin API): its registration, and its registration access token, end
// with it, and it no longer counts against the registration limit. Call it after the deletion.
func ApplicationDeleted(t *tenant.Tenant, clientID string) {
	watchMu.Lock()
	hs := slices.Clone(watchers[weak.Make(t)])
	watchMu.Unlock()
	for _, p := range hs {
		if h := p.Value(); h != nil {
			h.mu.Lock()
			delete(h.clients, clientID)
			h.mu.Unlock()
		}
	}
}

// errLimit answers a registration past maxRegisteredClients.
var errLimit = &Error{Code: "invalid_client_metadata", Description: "the server holds the maximum number of registered clients",
	Status: http.StatusTooManyRequests}

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
	if !h.reserve() {
		writeError(w, r, errLimit)
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
	err := h.cfg.Tenant.AddApplication(app)
	rat := tokens.Random(32)
	rec := &record{token: sha256.Sum256([]byte(rat)), issuedAt: h.cfg.Now().Unix(), meta: *m}
	h.mu.Lock()
	h.reserved--
	if err == nil {
		h.clients[id] = rec
	}
	h.mu.Unlock()
	if err != nil {
		writeError(w, r, tenantError(err))
		return
	}
	writeInfo(w, http.StatusCreated, h.info(id, rec.issuedAt, *m, secret, rat))
}

// reserve admits one registration under the limit. Records whose application is gone (deleted
// without ApplicationDeleted, by a configuration replaced wholesale) are dropped before refusing.
func (h *Handler) reserve() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clients)+h.reserved >= clientLimit {
		for id := range h.clients {
			if h.cfg.Tenant.Application(id) == nil {
				delete(h.clients, id)
			}
		}
	}
	if len(h.clients)+h.reserved >= clientLimit {
		return false
	}
	h.reserved++
	return true
}

// client authenticates a management request: the registration access token of the client named in
// the path. It returns the client's record and its application as the tenant holds it, or answers
// 401: for a bad token, and for a client whose application is gone (RFC 7592 §2.1: the token is
// revoked with it). When rotate is set, it also replaces the token (in the same step as the check,
// so that a token serves one read only) and returns the new one. h.mu is not held on return.
func (h *Handler) client(w http.ResponseWriter, r *http.Request, rotate bool) (string, *record, *tenant.Application, string) {
	id := r.PathValue("client_id")
	requestlog.Annotate(r.Context(), func(en *requestlog.Entry) { en.ClientID = id })
	tok, ok := bearerToken(r)
	d := sha256.Sum256([]byte(tok))
	// The application is looked up before the record is checked: an application deleted and
	// recreated since this look-up has also dropped the record (ApplicationDeleted), so a record
	// found below belongs to this application.
	app := h.cfg.Tenant.Application(id)
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := h.clients[id]
	want := dummyToken
	if rec != nil {
		want = rec.token
	}
	if subtle.ConstantTimeCompare(d[:], want[:]) != 1 || !ok || rec == nil {
		writeError(w, r, unauthorized(ok, "the registration access token is not valid for this client"))
		return "", nil, nil, ""
	}
	if app == nil {
		delete(h.clients, id)
		writeError(w, r, errGone)
		return "", nil, nil, ""
	}
	var rat string
	if rotate {
		rat = h.rotate(rec)
	}
	return id, rec, app, rat
}

// errGone answers a management request for a client deleted by other means (the admin API): RFC 7592
// §2.1 says 401 and revoke the token.
var errGone = unauthorized(true, "the client no longer exists")

// dummyToken is compared against for unknown clients, so both failures take the same path.
var dummyToken = sha256.Sum256([]byte("no such client"))

// forget drops rec if it is still id's record.
func (h *Handler) forget(id string, rec *record) {
	h.mu.Lock()
	if h.clients[id] == rec {
		delete(h.clients, id)
	}
	h.mu.Unlock()
}

// current reports whether rec is still id's record.
func (h *Handler) current(id string, rec *record) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.clients[id] == rec
}

func (h *Handler) read(w http.ResponseWriter, r *http.Request) {
	id, rec, app, rat := h.client(w, r, true)
	if rec == nil {
		return
	}
	h.mu.Lock()
	meta := rec.meta
	h.mu.Unlock()
	writeInfo(w, http.StatusOK, h.info(id, rec.issuedAt, live(meta, app), "", rat))
}

// errStale stops a Tenant.Update whose client was deleted since it was authenticated.
var errStale = errors.New("registration: the client no longer exists")

// appIndex returns the index of the application of id in c, provided rec still registers it (the
// caller holds the tenant's writer lock, so neither can change until it returns), or -1.
func (h *Handler) appIndex(c *tenant.Config, id string, rec *record) int {
	i := slices.IndexFunc(c.Applications, func(a tenant.Application) bool { return a.ClientID == id })
	if i < 0 || !h.current(id, rec) {
		return -1
	}
	return i
}

func (h *Handler) update(w http.ResponseWriter, r *http.Request) {
	// The body is the client's to send as slowly as it likes: read and check it before anything
	// is locked.
	body, e := readBody(w, r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	id, rec, _, _ := h.client(w, r, false)
	if rec == nil {
		return
	}
	sent, e := checkUpdateMembers(body, id)
	if e != nil {
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
	// The read-modify-write of the application happens under the tenant's writer lock, so that a
	// concurrent admin change (a secret rotation, say) is neither lost nor overwritten.
	var (
		secret string
		app    tenant.Application
	)
	err := h.cfg.Tenant.UpdateAt(func(c *tenant.Config) (string, error) {
		i := h.appIndex(c, id, rec)
		if i < 0 {
			return "", errStale
		}
		at := fmt.Sprintf("applications[%d]", i)
		cur := &c.Applications[i]
		if e := checkSecret(sent, cur.ClientSecretSHA256); e != nil {
			return "", e
		}
		a := m.application(*cur)
		switch {
		case !m.usesSecret():
			a.ClientSecretSHA256 = ""
		case a.ClientSecretSHA256 == "":
			// Newly confidential: it gets a secret, shown once. An existing secret is kept (RFC 7592
			// §2.2: the client may not choose its own).
			secret = tokens.Random(32)
			a.ClientSecretSHA256 = digestHex(secret)
		}
		c.Applications[i] = a
		app = a
		return at, nil
	})
	var me *Error
	switch {
	case errors.Is(err, errStale):
		h.forget(id, rec)
		writeError(w, r, errGone)
		return
	case errors.As(err, &me):
		writeError(w, r, me)
		return
	case err != nil:
		writeError(w, r, tenantError(err))
		return
	}
	h.mu.Lock()
	if h.clients[id] != rec { // deleted by the admin API since the update
		h.mu.Unlock()
		writeError(w, r, errGone)
		return
	}
	rec.meta = *m
	rat := h.rotate(rec)
	h.mu.Unlock()
	writeInfo(w, http.StatusOK, h.info(id, rec.issuedAt, live(*m, &app), secret, rat))
}

func (h *Handler) remove(w http.ResponseWriter, r *http.Request) {
	id, rec, _, _ := h.client(w, r, false)
	if rec == nil {
		return
	}
	// As tenant.DeleteApplication, but only while rec still registers the application.
	err := h.cfg.Tenant.Update(func(c *tenant.Config) error {
		i := h.appIndex(c, id, rec)
		if i < 0 {
			return errStale
		}
		c.Applications = slices.Delete(c.Applications, i, i+1)
		c.ClientGrants = slices.DeleteFunc(c.ClientGrants, func(g tenant.ClientGrant) bool { return g.ClientID == id })
		c.Consents = slices.DeleteFunc(c.Consents, func(s tenant.Consent) bool { return s.ClientID == id })
		return nil
	})
	switch {
	case errors.Is(err, errStale):
		h.forget(id, rec)
		writeError(w, r, errGone)
		return
	case err != nil:
		writeError(w, r, &Error{Code: "server_error", Description: "the client could not be deleted", Status: http.StatusInternalServerError})
		return
	}
	h.cfg.Store.RevokeClient(id)
	h.forget(id, rec)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// rotate issues a new registration access token for rec (h.mu held); the previous one stops working.
func (h *Handler) rotate(rec *record) string {
	rat := tokens.Random(32)
	rec.token = sha256.Sum256([]byte(rat))
	return rat
}

func (h *Handler) info(id string, issuedAt int64, m Metadata, secret, rat string) clientInfo {
	ci := clientInfo{ClientID: id, ClientSecret: secret, ClientIDIssuedAt: issuedAt, RegistrationAccessToken: rat,
		RegistrationClientURI: h.cfg.Endpoint + "/" + url.PathEscape(id), Metadata: m}
	if m.usesSecret() {
		never := int64(0) // the secret does not expire
		ci.ClientSecretExpiresAt = &never
	}
	return ci
}

// live is the client's metadata as the server holds it now (RFC 7592 §2.1): the members the tenant
// keeps come from app, which the admin API may have changed since the registration; the others (scope,
// contacts, URIs of the client's pages, software identity) are as last registered, in m.
func live(m Metadata, app *tenant.Application) Metadata {
	m.ClientName = app.Name
	if app.Name == app.ClientID {
		m.ClientName = "" // the default name registration gives a client that sent none
	}
	m.RedirectURIs = orEmpty(slices.Clone(app.RedirectURIs))
	m.GrantTypes = orEmpty(slices.Clone(app.GrantTypes))
	m.ResponseTypes = []string{}
	if slices.Contains(app.GrantTypes, tenant.GrantAuthorizationCode) {
		m.ResponseTypes = []string{"code"}
	}
	m.TokenEndpointAuthMethod = app.TokenEndpointAuthMethod
	m.ApplicationType = appTypeWeb
	if app.Type == tenant.Native {
		m.ApplicationType = appTypeNative
	}
	m.JWKS = app.JWKS
	return m
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkUpdateMembers applies RFC 7592 §2.2 to an update body: client_id must be the client's own and
// the server-managed members must be absent. It returns the client_secret sent, if any, for
// checkSecret ("" for a non-string, which matches no secret).
func checkUpdateMembers(body []byte, id string) (*string, *Error) {
	var u map[string]json.RawMessage
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, badMetadata("the body is not a JSON object of client metadata")
	}
	for _, k := range []string{"registration_access_token", "registration_client_uri", "client_secret_expires_at", "client_id_issued_at"} {
		if _, ok := u[k]; ok {
			return nil, badMetadata("%s: must not be sent in an update (RFC 7592 section 2.2)", k)
		}
	}
	var cid string
	if json.Unmarshal(u["client_id"], &cid) != nil || cid != id {
		return nil, badMetadata("client_id: must be present and be this client's identifier")
	}
	raw, ok := u["client_secret"]
	if !ok {
		return nil, nil
	}
	var secret string
	_ = json.Unmarshal(raw, &secret)
	return &secret, nil
}

// checkSecret refuses a client_secret sent in an update unless it is the current one (digestHex is
// the application's client_secret_sha256): a client cannot choose its own.
func checkSecret(sent *string, digestHex string) *Error {
	if sent == nil {
		return nil
	}
	digest, _ := hex.DecodeString(digestHex)
	got := sha256.Sum256([]byte(*sent))
	if len(digest) != len(got) || subtle.ConstantTimeCompare(digest, got[:]) != 1 {
		return badMetadata("client_secret: does not match the current secret (a client cannot choose its own)")
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

package tenant

import (
	"encoding/hex"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tenant answers look-ups on a validated Config. Look-ups sit on the token hot path, so they read an
// immutable index through an atomic pointer (no lock); Replace and the mutations in mutate.go swap in
// a whole new index. Writers hold mu, so that two read-modify-write changes cannot lose each other.
type Tenant struct {
	idx atomic.Pointer[index]
	mu  sync.Mutex // serialises writers only
}

type grantKey struct{ clientID, audience string }

type index struct {
	cfg          *Config
	apis         map[string]*API
	apps         map[string]*Application
	grants       map[grantKey]*ClientGrant
	users        map[string]*User
	usersByEmail map[string]*User
	accounts     map[string]*Account
	secrets      map[string][]byte // client_id -> decoded client_secret_sha256
	spaOrigins   map[string]bool   // origins of SPA redirect URIs, as browsers send them
}

// New indexes a Config that Parse or Validate has accepted.
func New(cfg *Config) *Tenant {
	t := &Tenant{}
	t.idx.Store(buildIndex(cfg))
	return t
}

// Replace validates cfg and makes it the tenant's configuration. The tenant keeps cfg: the caller must
// not change it afterwards.
func (t *Tenant) Replace(cfg *Config) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.replaceLocked(cfg)
}

func (t *Tenant) replaceLocked(cfg *Config) error {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	t.idx.Store(buildIndex(cfg))
	return nil
}

func buildIndex(cfg *Config) *index {
	ix := &index{
		cfg:          cfg,
		apis:         make(map[string]*API, len(cfg.APIs)),
		apps:         make(map[string]*Application, len(cfg.Applications)),
		grants:       make(map[grantKey]*ClientGrant, len(cfg.ClientGrants)),
		users:        make(map[string]*User, len(cfg.Users)),
		usersByEmail: make(map[string]*User, len(cfg.Users)),
		accounts:     make(map[string]*Account, len(cfg.Accounts)),
		secrets:      map[string][]byte{},
		spaOrigins:   map[string]bool{},
	}
	for i := range cfg.APIs {
		ix.apis[cfg.APIs[i].Identifier] = &cfg.APIs[i]
	}
	for i := range cfg.Applications {
		a := &cfg.Applications[i]
		ix.apps[a.ClientID] = a
		if d, err := hex.DecodeString(a.ClientSecretSHA256); err == nil && len(d) > 0 {
			ix.secrets[a.ClientID] = d
		}
		if a.Type == SPA {
			for _, r := range a.RedirectURIs {
				if o := origin(r); o != "" {
					ix.spaOrigins[o] = true
				}
			}
		}
	}
	for i := range cfg.ClientGrants {
		g := &cfg.ClientGrants[i]
		ix.grants[grantKey{g.ClientID, g.Audience}] = g
	}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		ix.users[u.ID] = u
		ix.usersByEmail[strings.ToLower(u.Email)] = u
	}
	for i := range cfg.Accounts {
		ix.accounts[cfg.Accounts[i].ID] = &cfg.Accounts[i]
	}
	return ix
}

// origin serialises the origin of an http(s) URI the way a browser sends it in the Origin header
// (RFC 6454 §6.1): lower-case scheme and host, the port only when it is not the scheme's default.
// It returns "" for other URIs.
func origin(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(u.Scheme == "https" && p == "443") && !(u.Scheme == "http" && p == "80") {
		host += ":" + p
	}
	return u.Scheme + "://" + host
}

// Config returns the configuration in force. Callers must not modify it.
func (t *Tenant) Config() *Config { return t.idx.Load().cfg }

// API returns the API whose identifier (audience) is id, or nil.
func (t *Tenant) API(id string) *API { return t.idx.Load().apis[id] }

// Application returns the application with this client_id, or nil.
func (t *Tenant) Application(clientID string) *Application { return t.idx.Load().apps[clientID] }

// ClientGrant returns the grant letting clientID obtain tokens for audience, or nil.
func (t *Tenant) ClientGrant(clientID, audience string) *ClientGrant {
	return t.idx.Load().grants[grantKey{clientID, audience}]
}

// User returns the user with this id, or nil.
func (t *Tenant) User(id string) *User { return t.idx.Load().users[id] }

// UserByEmail returns the user with this email (case-insensitive), or nil.
func (t *Tenant) UserByEmail(email string) *User {
	return t.idx.Load().usersByEmail[strings.ToLower(strings.TrimSpace(email))]
}

// Account returns the account with this id, or nil.
func (t *Tenant) Account(id string) *Account { return t.idx.Load().accounts[id] }

// RefreshTokenLifetime is the absolute lifetime of a refresh-token family.
func (t *Tenant) RefreshTokenLifetime() time.Duration {
	return time.Duration(t.idx.Load().cfg.RefreshTokenLifetime)
}

// SecretDigest returns the SHA-256 digest of clientID's secret, decoded from client_secret_sha256
// when the tenant was indexed, or nil when the client has none. Callers must not modify it.
func (t *Tenant) SecretDigest(clientID string) []byte { return t.idx.Load().secrets[clientID] }

// AllowedOrigin reports whether a browser origin (scheme://host[:port], exactly as sent in the Origin
// header) is the origin of a redirect URI registered by an SPA application: the origins allowed to
// call the token endpoint, userinfo and the API cross-origin.
func (t *Tenant) AllowedOrigin(origin string) bool { return t.idx.Load().spaOrigins[origin] }

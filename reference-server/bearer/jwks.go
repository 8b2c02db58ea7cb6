package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
)

// DefaultMinRefresh bounds how often an unknown kid may trigger a JWKS fetch, so a flood of tokens
// with made-up kids cannot turn the API into a load generator against the authorization server.
const DefaultMinRefresh = 10 * time.Second

// maxJWKSBytes caps the size of a key set we are willing to parse.
const maxJWKSBytes = 1 << 20

// JWKSCache is a KeySource that fetches a JWKS over HTTP, keeps it, and fetches again when a token
// names a kid it does not know (key rotation), at most once per MinRefresh.
type JWKSCache struct {
	URL        string
	Client     *http.Client  // nil: a client with a 5 s timeout
	MinRefresh time.Duration // zero: DefaultMinRefresh

	mu      sync.RWMutex
	keys    map[string]cachedKey
	fetched time.Time

	fetchMu sync.Mutex // one fetch at a time; waiters reuse its result
}

// cachedKey is a published key and what go-jose verifies with for it: an OpenSSL copy of an RSA
// or ECDSA key when OpenSSL is enabled (see osslcrypto), made once when the set is loaded.
type cachedKey struct {
	jwk    jose.JSONWebKey
	verify any
}

// Key returns the public key with this kid.
func (c *JWKSCache) Key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k, err := c.cached(ctx, kid)
	if err != nil {
		return nil, err
	}
	return &k.jwk, nil
}

// verificationKey implements verifierSource.
func (c *JWKSCache) verificationKey(ctx context.Context, kid string) (*jose.JSONWebKey, any, error) {
	k, err := c.cached(ctx, kid)
	if err != nil {
		return nil, nil, err
	}
	return &k.jwk, k.verify, nil
}

func (c *JWKSCache) cached(ctx context.Context, kid string) (cachedKey, error) {
	c.mu.RLock()
	k, ok := c.keys[kid]
	fetched := c.fetched
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	if err := c.refresh(ctx, fetched); err != nil {
		return cachedKey{}, err
	}
	c.mu.RLock()
	k, ok = c.keys[kid]
	c.mu.RUnlock()
	if !ok {
		return cachedKey{}, fmt.Errorf("unknown kid %q", kid)
	}
	return k, nil
}

// Prefetch loads the key set now, so the first request does not wait for it (and cannot be the
// one whose failed fetch starts the rate-limit window).
func (c *JWKSCache) Prefetch(ctx context.Context) error {
	return c.refresh(ctx, time.Time{})
}

// fetchTimeout bounds one JWKS fetch, independently of the request that triggered it.
const fetchTimeout = 5 * time.Second

// refresh fetches the set unless another caller fetched since seen, or the last fetch was too recent.
// The fetch is detached from the caller's context: a client that disconnects must not cancel the
// fetch and so lock every caller out for MinRefresh.
func (c *JWKSCache) refresh(ctx context.Context, seen time.Time) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	last := c.fetched
	c.mu.RUnlock()
	if last.After(seen) {
		return nil // someone else fetched while we waited
	}
	every := c.MinRefresh
	if every <= 0 {
		every = DefaultMinRefresh
	}
	if !last.IsZero() && time.Since(last) < every {
		return nil
	}
	jwks, err := c.fetch(ctx)
	var keys map[string]cachedKey
	if err == nil {
		keys = prepare(jwks) // before taking mu: readers of the old set go on meanwhile
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fetched = time.Now() // failures count too: they are rate-limited like successes
	if err != nil {
		return err
	}
	c.keys = keys
	return nil
}

// prepare pairs each key with what go-jose verifies with. A key OpenSSL does not take stays with Go,
// which applies its own rules to it: the set comes from elsewhere, and one odd key must not stop
// the others from verifying.
func prepare(jwks map[string]jose.JSONWebKey) map[string]cachedKey {
	keys := make(map[string]cachedKey, len(jwks))
	for kid, k := range jwks {
		v, err := osslcrypto.VerificationKey(k.Key)
		if err != nil {
			v = k.Key
		}
		keys[kid] = cachedKey{jwk: k, verify: v}
	}
	return keys
}

func (c *JWKSCache) fetch(ctx context.Context) (map[string]jose.JSONWebKey, error) {
	client := c.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: fetch %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: %s answered %s", c.URL, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("jwks: read %s: %w", c.URL, err)
	}
	return ParseJWKS(b)
}

// ParseJWKS decodes a key set, keeping public signing keys that have a kid.
func ParseJWKS(b []byte) (map[string]jose.JSONWebKey, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: not a JWK set: %w", err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		keys[k.KeyID] = k
	}
	if len(keys) == 0 {
		return nil, errors.New("jwks: the set has no public signing key with a kid")
	}
	return keys, nil
}

// Package keys holds the authorization server's asymmetric signing keys: one active key per
// algorithm, each named by its RFC 7638 thumbprint, published together as a JWKS.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
)

// Asymmetric lists the algorithms the keyring holds a key for.
var Asymmetric = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA}

// Key is one signing key pair.
type Key struct {
	KID     string
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
}

// Public returns the key's public half as a JWK.
func (k *Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.Private.Public(), KeyID: k.KID, Algorithm: string(k.Alg), Use: "sig"}
}

// Keyring is safe for concurrent use. Readers (signing, the JWKS endpoint, PublicKey) load an
// immutable set without locking; changes build a new set under mu and swap it in. The changes are
// Rotate and, lazily, dropping a key whose overlap has ended: the reads that find one due take mu
// once to prune, so no timer or goroutine is needed.
type Keyring struct {
	set         atomic.Pointer[keySet]
	signers     sync.Map // signerKey -> jose.Signer
	signingKeys sync.Map // kid -> the key go-jose signs with, see signingKey
	mu          sync.Mutex
	clock       atomic.Pointer[func() time.Time]
}

type keySet struct {
	active map[jose.SignatureAlgorithm]*Key
	keys   []published // in publication order
	byKID  map[string]*published
	jwks   []byte    // the published JWKS, marshalled once per change
	expiry time.Time // the earliest retirement among keys; zero when none retires
}

// published is a key in the JWKS: the active key of its algorithm, or a previous one that stays
// until retires (zero: for good) so that tokens it signed still verify.
type published struct {
	jwk     jose.JSONWebKey
	alg     jose.SignatureAlgorithm
	retires time.Time
}

type signerKey struct {
	kid, typ string
}

// Generate creates a keyring with a fresh key for every algorithm in Asymmetric (RSA keys are 2048-bit).
func Generate() (*Keyring, error) {
	var ks []*Key
	for _, alg := range Asymmetric {
		k, err := NewKey(alg)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return FromKeys(ks...)
}

// FromKeys builds a keyring from existing keys; the last key given for an algorithm is its active
// one, and the others stay published (until a Rotate of their algorithm retires them).
func FromKeys(ks ...*Key) (*Keyring, error) {
	active := map[jose.SignatureAlgorithm]*Key{}
	var pub []published
	for _, k := range ks {
		active[k.Alg] = k
		pub = append(pub, published{jwk: k.Public(), alg: k.Alg})
	}
	set, err := newSet(active, pub)
	if err != nil {
		return nil, err
	}
	r := &Keyring{}
	r.set.Store(set)
	return r, nil
}

func newSet(active map[jose.SignatureAlgorithm]*Key, pub []published) (*keySet, error) {
	set := &keySet{active: active, keys: pub, byKID: make(map[string]*published, len(pub))}
	jwks := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(pub))}
	for i := range pub {
		p := &set.keys[i]
		set.byKID[p.jwk.KeyID] = p
		jwks.Keys = append(jwks.Keys, p.jwk)
		if !p.retires.IsZero() && (set.expiry.IsZero() || p.retires.Before(set.expiry)) {
			set.expiry = p.retires
		}
	}
	b, err := json.Marshal(jwks)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal jwks: %w", err)
	}
	set.jwks = b
	return set, nil
}

// Clone returns a keyring with the same keys that rotates independently of r: tests share one
// keyring's (slowly generated) keys between servers, some of which rotate.
func (r *Keyring) Clone() *Keyring {
	c := &Keyring{}
	c.set.Store(r.set.Load())
	c.clock.Store(r.clock.Load())
	return c
}

// SetClock sets the clock that decides when a rotated-out key's overlap ends (time.Now by default).
func (r *Keyring) SetClock(now func() time.Time) { r.clock.Store(&now) }

func (r *Keyring) now() time.Time {
	if f := r.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// Rotate makes a new active key for alg and returns it. The key it replaces, and any older key of
// alg still published, stay in the JWKS (and verify tokens through PublicKey) until overlap has
// passed, then drop out; with overlap 0 they drop at once, so that tokens they signed stop verifying
// and a client that cached the JWKS fails until it fetches it again.
func (r *Keyring) Rotate(alg jose.SignatureAlgorithm, overlap time.Duration) (*Key, error) {
	k, err := NewKey(alg) // outside the lock: an RSA key takes a while
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old, now := r.set.Load(), r.now()
	until := now.Add(overlap)
	pub := make([]published, 0, len(old.keys)+1)
	for _, p := range old.keys {
		if p.alg == alg && (p.retires.IsZero() || until.Before(p.retires)) {
			p.retires = until
		}
		if p.retires.IsZero() || now.Before(p.retires) {
			pub = append(pub, p)
		}
	}
	pub = append(pub, published{jwk: k.Public(), alg: alg})
	active := maps.Clone(old.active)
	active[alg] = k
	if err := r.swap(old, active, pub); err != nil {
		return nil, err
	}
	return k, nil
}

// swap publishes a set of active and pub (r.mu held) and forgets the signers of the keys that left.
func (r *Keyring) swap(old *keySet, active map[jose.SignatureAlgorithm]*Key, pub []published) error {
	set, err := newSet(active, pub)
	if err != nil {
		return err
	}
	r.set.Store(set)
	r.signers.Range(func(k, _ any) bool {
		if kid := k.(signerKey).kid; old.byKID[kid] != nil && set.byKID[kid] == nil {
			r.signers.Delete(k)
		}
		return true
	})
	r.signingKeys.Range(func(kid, _ any) bool {
		if old.byKID[kid.(string)] != nil && set.byKID[kid.(string)] == nil {
			r.signingKeys.Delete(kid)
		}
		return true
	})
	return nil
}

// current returns the key set in force, first dropping the keys whose overlap has ended. The check
// is one clock read while nothing is due, so readers stay lock-free.
func (r *Keyring) current() *keySet {
	s := r.set.Load()
	if s.expiry.IsZero() || r.now().Before(s.expiry) {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, now := r.set.Load(), r.now()
	if s.expiry.IsZero() || now.Before(s.expiry) {
		return s // another reader pruned it
	}
	pub := make([]published, 0, len(s.keys))
	for _, p := range s.keys {
		if p.retires.IsZero() || now.Before(p.retires) {
			pub = append(pub, p)
		}
	}
	if err := r.swap(s, s.active, pub); err != nil {
		return s // cannot happen: these keys were marshalled before
	}
	return r.set.Load()
}

// KeyInfo describes a published key, for the admin API.
type KeyInfo struct {
	KID     string                  `json:"kid"`
	Alg     jose.SignatureAlgorithm `json:"alg"`
	Active  bool                    `json:"active"`
	Retires time.Time               `json:"retires,omitzero"` // zero: published for good
}

// Keys lists the published keys in JWKS order.
func (r *Keyring) Keys() []KeyInfo {
	s := r.current()
	out := make([]KeyInfo, len(s.keys))
	for i, p := range s.keys {
		a := s.active[p.alg]
		out[i] = KeyInfo{KID: p.jwk.KeyID, Alg: p.alg, Active: a != nil && a.KID == p.jwk.KeyID, Retires: p.retires}
	}
	return out
}

// NewKey generates a key for alg and names it by its thumbprint.
func NewKey(alg jose.SignatureAlgorithm) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("keys: no asymmetric key type for %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keys: thumbprint: %w", err)
	}
	return &Key{KID: base64.RawURLEncoding.EncodeToString(tp), Alg: alg, Private: priv}, nil
}

// Active returns the signing key in use for alg, or nil.
func (r *Keyring) Active(alg jose.SignatureAlgorithm) *Key { return r.set.Load().active[alg] }

// PublicKey returns the published key with this kid, or nil (also once its overlap has ended).
func (r *Keyring) PublicKey(kid string) *jose.JSONWebKey {
	p := r.current().byKID[kid]
	if p == nil {
		return nil
	}
	k := p.jwk
	return &k
}

// Algorithms lists the algorithms the keyring has an active key for.
func (r *Keyring) Algorithms() []jose.SignatureAlgorithm {
	var out []jose.SignatureAlgorithm
	for _, alg := range Asymmetric {
		if r.Active(alg) != nil {
			out = append(out, alg)
		}
	}
	return out
}

// JWKS returns the published key set as JSON. The slice is shared: do not modify it.
func (r *Keyring) JWKS() []byte { return r.current().jwks }

// Sign signs payload as a compact JWS with the active key for alg, with header typ (and kid).
func (r *Keyring) Sign(alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	k := r.Active(alg)
	if k == nil {
		return "", fmt.Errorf("keys: no active key for %s", alg)
	}
	s, err := r.signer(k, typ)
	if err != nil {
		return "", err
	}
	return SignCompact(s, payload)
}

// signer caches one go-jose signer per key and typ: building one is costlier than using it.
func (r *Keyring) signer(k *Key, typ string) (jose.Signer, error) {
	sk := signerKey{k.KID, typ}
	if s, ok := r.signers.Load(sk); ok {
		return s.(jose.Signer), nil
	}
	key, err := r.signingKey(k)
	if err != nil {
		return nil, err
	}
	jwk := jose.JSONWebKey{Key: key, KeyID: k.KID, Algorithm: string(k.Alg)}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: jwk}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", k.Alg, err)
	}
	r.signers.Store(sk, s)
	return s, nil
}

// signingKey returns the key go-jose signs with for k: with OpenSSL enabled, a copy of an RSA or
// ECDSA key in OpenSSL (see osslcrypto), made on first use, once per key (not once per typ).
func (r *Keyring) signingKey(k *Key) (any, error) {
	if key, ok := r.signingKeys.Load(k.KID); ok {
		return key, nil
	}
	key, err := osslcrypto.SigningKey(k.Private)
	if err != nil {
		// No silent fall back to Go: the backend the server announced must be the one it uses.
		return nil, fmt.Errorf("keys: %s key %s: %w (set %s=go to sign in Go)", k.Alg, k.KID, err, osslcrypto.EnvVar)
	}
	key, _ = r.signingKeys.LoadOrStore(k.KID, key)
	return key, nil
}

// SignCompact signs payload with s and serializes the JWS compactly.
func SignCompact(s jose.Signer, payload []byte) (string, error) {
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

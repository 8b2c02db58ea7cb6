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
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v4"
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

// Keyring is safe for concurrent use. Readers (signing, the JWKS endpoint) never lock: they load an
// immutable set; changes build a new set.
type Keyring struct {
	set     atomic.Pointer[keySet]
	signers sync.Map // signerKey -> jose.Signer
}

type keySet struct {
	active map[jose.SignatureAlgorithm]*Key
	byKID  map[string]jose.JSONWebKey
	jwks   []byte // the published JWKS, marshalled once per change
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

// FromKeys builds a keyring from existing keys; the last key given for an algorithm is its active one.
func FromKeys(ks ...*Key) (*Keyring, error) {
	r := &Keyring{}
	set := &keySet{active: map[jose.SignatureAlgorithm]*Key{}, byKID: map[string]jose.JSONWebKey{}}
	var pub jose.JSONWebKeySet
	for _, k := range ks {
		set.active[k.Alg] = k
		set.byKID[k.KID] = k.Public()
		pub.Keys = append(pub.Keys, k.Public())
	}
	b, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal jwks: %w", err)
	}
	set.jwks = b
	r.set.Store(set)
	return r, nil
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

// PublicKey returns the published key with this kid, or nil.
func (r *Keyring) PublicKey(kid string) *jose.JSONWebKey {
	k, ok := r.set.Load().byKID[kid]
	if !ok {
		return nil
	}
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
func (r *Keyring) JWKS() []byte { return r.set.Load().jwks }

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
	jwk := jose.JSONWebKey{Key: k.Private, KeyID: k.KID, Algorithm: string(k.Alg)}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: jwk}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", k.Alg, err)
	}
	r.signers.Store(sk, s)
	return s, nil
}

// SignCompact signs payload with s and serializes the JWS compactly.
func SignCompact(s jose.Signer, payload []byte) (string, error) {
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

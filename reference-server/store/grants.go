// Package store keeps the authorization server's run-time state in memory: authorization codes,
// grant families with their refresh tokens and access-token ids, the jti denylist, browser sessions,
// remembered consents and the replay cache of client assertions. Every operation is safe for
// concurrent use, and every single-use credential is consumed atomically, so racing redemptions
// succeed at most once.
package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// Errors returned when a credential cannot be used.
var (
	ErrNotFound = errors.New("store: not found or expired")
	ErrReplayed = errors.New("store: already used")
	ErrRevoked  = errors.New("store: grant revoked")
)

// sweepEvery bounds how often expired entries are dropped; sweeping happens on writes, so an idle
// server does no work.
const sweepEvery = 30 * time.Second

// codeTombstoneLife keeps redeemed codes long enough to recognise a replay after the code's own life.
const codeTombstoneLife = 10 * time.Minute

// ExpiryGrace is how long the store keeps track of an access token after its exp: a validator accepts
// a token for its clock-skew leeway past exp (bearer.MaxLeeway at most), and revoking the token's
// grant in that window must still deny it.
const ExpiryGrace = time.Minute

// issuedPruneMin is the length of a family's issued-token list from which RecordAccessToken drops
// expired entries; after a pruning the next one waits until the list has doubled, so the cost per
// recorded token stays constant.
const issuedPruneMin = 8

// AuthCode is what an authorization code stands for.
type AuthCode struct {
	ClientID            string
	RedirectURI         string
	UserID              string
	Audience            string
	Scopes              []string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	AuthTime            time.Time
	Expires             time.Time
}

// Family is one authorization grant: the refresh tokens rotated from it and the access tokens it issued.
type Family struct {
	ID       string
	ClientID string
	UserID   string
	Audience string
	Scopes   []string
	AuthTime time.Time
	Expires  time.Time

	revoked      bool
	hasRefresh   bool
	tokensExpire time.Time // when the last access token it issued expires: it is kept until then
	current      [32]byte  // hash of the one refresh token that may be used next
	issued       []issuedToken
	pruneAt      int // len(issued) at which expired entries are dropped next
}

type issuedToken struct {
	jti     string
	expires time.Time
}

type redeemedCode struct {
	familyID string
	expires  time.Time
}

// Store is the in-memory state. The zero value is not usable: call New.
type Store struct {
	now func() time.Time

	codeMu    sync.Mutex
	codes     map[string]*AuthCode
	redeemed  map[string]redeemedCode
	codeSweep time.Time

	famMu     sync.Mutex
	families  map[string]*Family
	refresh   map[[32]byte]string // refresh-token hash -> family id (rotated ones too, to detect reuse)
	famSweep  time.Time
	denyMu    sync.RWMutex
	denied    map[string]time.Time // jti -> when the token expires anyway
	denySweep time.Time
	denyCount atomic.Int64

	sessMu    sync.Mutex
	sessions  map[string]*Session
	sessSweep time.Time

	consentMu sync.RWMutex
	consents  map[consentKey][]string

	assertions replayCache // jtis of client assertions already used (replay.go)
}

// New returns an empty store. now may be nil (time.Now).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:      now,
		codes:    map[string]*AuthCode{},
		redeemed: map[string]redeemedCode{},
		families: map[string]*Family{},
		refresh:  map[[32]byte]string{},
		denied:   map[string]time.Time{},
		sessions: map[string]*Session{},
		consents: map[consentKey][]string{},
	}
}

// PutCode stores a fresh authorization code.
func (s *Store) PutCode(code string, c *AuthCode) {
	s.codeMu.Lock()
	defer s.codeMu.Unlock()
	now := s.now()
	if now.Sub(s.codeSweep) > sweepEvery {
		s.codeSweep = now
		for k, v := range s.codes {
			if now.After(v.Expires) {
				delete(s.codes, k)
			}
		}
		for k, v := range s.redeemed {
			if now.After(v.expires) {
				delete(s.redeemed, k)
			}
		}
	}
	s.codes[code] = c
}

// RedeemCode consumes a code once and opens the grant family its tokens will belong to. A second
// redemption returns ErrReplayed and revokes that family (RFC 6749 §4.1.2: the server SHOULD revoke
// the tokens issued from a replayed code).
func (s *Store) RedeemCode(code string) (*AuthCode, *Family, error) {
	s.codeMu.Lock()
	c, ok := s.codes[code]
	now := s.now()
	if !ok {
		r, replay := s.redeemed[code]
		s.codeMu.Unlock()
		if replay {
			s.RevokeFamily(r.familyID)
			return nil, nil, ErrReplayed
		}
		return nil, nil, ErrNotFound
	}
	delete(s.codes, code)
	if now.After(c.Expires) {
		s.codeMu.Unlock()
		return nil, nil, ErrNotFound
	}
	f := &Family{ID: tokens.Random(16), ClientID: c.ClientID, UserID: c.UserID, Audience: c.Audience,
		Scopes: c.Scopes, AuthTime: c.AuthTime, Expires: now.Add(codeTombstoneLife)}
	// The family must exist before the tombstone is visible: a replay racing this redemption
	// revokes it by id (lock order: codeMu, then famMu).
	s.famMu.Lock()
	s.families[f.ID] = f
	s.sweepFamiliesLocked() // a server that never issues refresh tokens sweeps here
	s.famMu.Unlock()
	s.redeemed[code] = redeemedCode{familyID: f.ID, expires: now.Add(codeTombstoneLife)}
	s.codeMu.Unlock()
	return c, f, nil
}

// NewFamily opens a grant family that did not come from a code (for example the password grant).
func (s *Store) NewFamily(f *Family) *Family {
	f.ID = tokens.Random(16)
	f.Expires = s.now().Add(codeTombstoneLife)
	s.famMu.Lock()
	s.families[f.ID] = f
	s.sweepFamiliesLocked()
	s.famMu.Unlock()
	return f
}

// RecordAccessToken remembers that family issued the access token jti, so revoking the family
// denies it. If the family was revoked meanwhile (a racing code replay), the token is denied at once
// and ErrRevoked tells the caller not to hand it out.
func (s *Store) RecordAccessToken(familyID, jti string, expires time.Time) error {
	s.famMu.Lock()
	f := s.families[familyID]
	if f == nil || f.revoked {
		s.famMu.Unlock()
		s.deny(jti, expires)
		return ErrRevoked
	}
	if len(f.issued) >= max(f.pruneAt, issuedPruneMin) {
		f.pruneIssued(s.now())
	}
	f.issued = append(f.issued, issuedToken{jti, expires})
	if expires.After(f.tokensExpire) {
		f.tokensExpire = expires
	}
	s.famMu.Unlock()
	return nil
}

// SetRefreshToken makes token the family's current refresh token; the first call sets the family's
// absolute expiry to lifetime from now (a family without refresh tokens lives only as long as a
// code's replay window).
func (s *Store) SetRefreshToken(familyID, token string, lifetime time.Duration) error {
	h := tokens.Hash(token)
	s.famMu.Lock()
	defer s.famMu.Unlock()
	f := s.families[familyID]
	if f == nil || f.revoked {
		return ErrRevoked
	}
	if !f.hasRefresh {
		f.hasRefresh = true
		f.Expires = s.now().Add(lifetime)
	}
	f.current = h
	s.refresh[h] = familyID
	s.sweepFamiliesLocked()
	return nil
}

// UseRefreshToken consumes the family's current refresh token if check (which sees a copy of the
// family, under the lock) accepts it; a refused check leaves the token usable and returns ErrNotFound.
// Presenting a rotated (already used) token is treated as theft: the whole family is revoked
// (RFC 9700 §4.14.2) and ErrReplayed returned.
func (s *Store) UseRefreshToken(token string, check func(*Family) bool) (*Family, error) {
	h := tokens.Hash(token)
	s.famMu.Lock()
	id, ok := s.refresh[h]
	f := s.families[id]
	switch {
	case !ok || f == nil || s.now().After(f.Expires):
		s.famMu.Unlock()
		return nil, ErrNotFound
	case f.revoked:
		s.famMu.Unlock()
		return nil, ErrRevoked
	case f.current != h:
		s.famMu.Unlock()
		s.RevokeFamily(id)
		return nil, ErrReplayed
	}
	if check != nil {
		cp := *f
		if !check(&cp) {
			s.famMu.Unlock()
			return nil, ErrNotFound
		}
	}
	f.current = [32]byte{} // consumed: the caller sets the rotated token next
	cp := *f
	s.famMu.Unlock()
	return &cp, nil
}

// PeekRefreshToken returns a copy of the family a refresh token belongs to without consuming it (for
// introspection and revocation), and whether the token is the family's current one rather than a
// rotated one. An unknown or expired token gives ErrNotFound, a revoked family ErrRevoked.
func (s *Store) PeekRefreshToken(token string) (*Family, bool, error) {
	h := tokens.Hash(token)
	s.famMu.Lock()
	defer s.famMu.Unlock()
	f := s.families[s.refresh[h]]
	switch {
	case f == nil || s.now().After(f.Expires):
		return nil, false, ErrNotFound
	case f.revoked:
		return nil, false, ErrRevoked
	}
	cp := *f
	cp.issued = nil // the caller must not share the live list
	return &cp, f.current == h, nil
}

// DenyAccessToken revokes one access token by its jti until it expires (RFC 7009).
func (s *Store) DenyAccessToken(jti string, expires time.Time) { s.deny(jti, expires) }

// RevokeFamily revokes a grant: its refresh tokens stop working and its access tokens are denied.
func (s *Store) RevokeFamily(id string) {
	s.famMu.Lock()
	f := s.families[id]
	if f == nil || f.revoked {
		s.famMu.Unlock()
		return
	}
	f.revoked = true
	issued := f.issued
	f.issued = nil
	s.famMu.Unlock()
	for _, t := range issued {
		s.deny(t.jti, t.expires)
	}
}

// RevokeFamiliesOf revokes every grant of userID to clientID (used when consent is withdrawn).
func (s *Store) RevokeFamiliesOf(userID, clientID string) {
	var ids []string
	s.famMu.Lock()
	for id, f := range s.families {
		if f.UserID == userID && f.ClientID == clientID && !f.revoked {
			ids = append(ids, id)
		}
	}
	s.famMu.Unlock()
	for _, id := range ids {
		s.RevokeFamily(id)
	}
}

// pruneIssued drops the access tokens that have expired (past ExpiryGrace): revoking the family no
// longer needs to deny them. A family refreshed for its whole refresh lifetime would otherwise keep
// one entry per refresh.
func (f *Family) pruneIssued(now time.Time) {
	live := f.issued[:0]
	for _, t := range f.issued {
		if !now.After(t.expires.Add(ExpiryGrace)) {
			live = append(live, t)
		}
	}
	clear(f.issued[len(live):]) // release the dropped jtis
	f.issued = live
	f.pruneAt = 2 * len(live)
}

func (s *Store) sweepFamiliesLocked() {
	now := s.now()
	if now.Sub(s.famSweep) < sweepEvery {
		return
	}
	s.famSweep = now
	for h, id := range s.refresh {
		if f := s.families[id]; f == nil || now.After(f.Expires) {
			delete(s.refresh, h)
		}
	}
	for id, f := range s.families {
		if now.After(f.Expires) && now.After(f.tokensExpire.Add(ExpiryGrace)) {
			delete(s.families, id)
		}
	}
}

func (s *Store) deny(jti string, expires time.Time) {
	s.denyMu.Lock()
	defer s.denyMu.Unlock()
	if now := s.now(); now.Sub(s.denySweep) > sweepEvery {
		s.denySweep = now
		for k, exp := range s.denied {
			if now.After(exp.Add(ExpiryGrace)) {
				delete(s.denied, k)
			}
		}
	}
	s.denied[jti] = expires
	s.denyCount.Store(int64(len(s.denied)))
}

// Denied reports whether the access token jti was revoked. It costs one atomic load while nothing is
// denied, which is the common case on the validation hot path.
func (s *Store) Denied(jti string) bool {
	if s.denyCount.Load() == 0 {
		return false
	}
	s.denyMu.RLock()
	_, ok := s.denied[jti]
	s.denyMu.RUnlock()
	return ok
}

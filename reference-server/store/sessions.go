package store

import (
	"slices"
	"time"
)

// Session is a logged-in browser.
type Session struct {
	UserID   string
	AuthTime time.Time
	Expires  time.Time
}

// SessionLifetime bounds a browser session.
const SessionLifetime = 8 * time.Hour

// PutSession stores a session under its (random, unguessable) id.
func (s *Store) PutSession(id string, sess *Session) {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	if now := s.now(); now.Sub(s.sessSweep) > sweepEvery {
		s.sessSweep = now
		for k, v := range s.sessions {
			if now.After(v.Expires) {
				delete(s.sessions, k)
			}
		}
	}
	s.sessions[id] = sess
}

// Session returns the live session with this id, or nil.
func (s *Store) Session(id string) *Session {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	sess := s.sessions[id]
	if sess == nil || s.now().After(sess.Expires) {
		return nil
	}
	cp := *sess
	return &cp
}

// DeleteSession logs a browser out.
func (s *Store) DeleteSession(id string) {
	s.sessMu.Lock()
	delete(s.sessions, id)
	s.sessMu.Unlock()
}

type consentKey struct{ userID, clientID, audience string }

// Consent returns the scopes userID has granted clientID for audience (nil when none).
func (s *Store) Consent(userID, clientID, audience string) []string {
	s.consentMu.RLock()
	defer s.consentMu.RUnlock()
	return slices.Clone(s.consents[consentKey{userID, clientID, audience}])
}

// Consented reports whether userID has consented to clientID for audience at all and that consent
// covers every scope in scopes. Unlike Covers(Consent(...), scopes), it is false for an empty scope
// list when the user never consented: a request for no scope must not skip the consent page.
func (s *Store) Consented(userID, clientID, audience string, scopes []string) bool {
	s.consentMu.RLock()
	defer s.consentMu.RUnlock()
	granted, ok := s.consents[consentKey{userID, clientID, audience}]
	return ok && Covers(granted, scopes)
}

// GrantConsent remembers that userID granted scopes to clientID for audience, adding to what was
// granted before. A grant of no scope is remembered too: Consented then reports that the user
// consented, to nothing beyond the empty set.
func (s *Store) GrantConsent(userID, clientID, audience string, scopes []string) {
	k := consentKey{userID, clientID, audience}
	s.consentMu.Lock()
	defer s.consentMu.Unlock()
	old := s.consents[k]
	merged := make([]string, len(old), len(old)+len(scopes)) // never nil: the key records the consent
	copy(merged, old)
	for _, sc := range scopes {
		if !slices.Contains(merged, sc) {
			merged = append(merged, sc)
		}
	}
	s.consents[k] = merged
}

// RevokeConsent forgets every consent of userID to clientID and revokes the grants it allowed.
func (s *Store) RevokeConsent(userID, clientID string) {
	s.consentMu.Lock()
	for k := range s.consents {
		if k.userID == userID && k.clientID == clientID {
			delete(s.consents, k)
		}
	}
	s.consentMu.Unlock()
	s.RevokeFamiliesOf(userID, clientID)
}

// Covers reports whether granted includes every scope in wanted.
func Covers(granted, wanted []string) bool {
	for _, w := range wanted {
		if !slices.Contains(granted, w) {
			return false
		}
	}
	return true
}

package store

import (
	"cmp"
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

// ConsentRecord is one remembered consent.
type ConsentRecord struct {
	UserID   string   `json:"user_id"`
	ClientID string   `json:"client_id"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

// ListConsents returns the consents of userID to clientID ("" matches any), sorted by user, client
// and audience.
func (s *Store) ListConsents(userID, clientID string) []ConsentRecord {
	out := []ConsentRecord{}
	s.consentMu.RLock()
	for k, scopes := range s.consents {
		if (userID == "" || k.userID == userID) && (clientID == "" || k.clientID == clientID) {
			out = append(out, ConsentRecord{k.userID, k.clientID, k.audience, slices.Clone(scopes)})
		}
	}
	s.consentMu.RUnlock()
	slices.SortFunc(out, func(a, b ConsentRecord) int {
		return cmp.Or(cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.Audience, b.Audience))
	})
	return out
}

// RevokeClient forgets every consent given to clientID and revokes all its grants, whoever the user:
// the application is gone.
func (s *Store) RevokeClient(clientID string) {
	s.forgetConsents(func(k consentKey) bool { return k.clientID == clientID })
	s.revokeFamiliesWhere(func(f *Family) bool { return f.ClientID == clientID })
}

// RevokeUser forgets the user's consents, revokes the user's grants and ends the user's browser
// sessions: the user is gone.
func (s *Store) RevokeUser(userID string) {
	s.forgetConsents(func(k consentKey) bool { return k.userID == userID })
	s.revokeFamiliesWhere(func(f *Family) bool { return f.UserID == userID })
	s.sessMu.Lock()
	for id, sess := range s.sessions {
		if sess.UserID == userID {
			delete(s.sessions, id)
		}
	}
	s.sessMu.Unlock()
}

func (s *Store) forgetConsents(match func(consentKey) bool) {
	s.consentMu.Lock()
	for k := range s.consents {
		if match(k) {
			delete(s.consents, k)
		}
	}
	s.consentMu.Unlock()
}

// revokeFamiliesWhere revokes every live family that match accepts (it sees the family under famMu).
func (s *Store) revokeFamiliesWhere(match func(*Family) bool) {
	var ids []string
	s.famMu.Lock()
	for id, f := range s.families {
		if !f.revoked && match(f) {
			ids = append(ids, id)
		}
	}
	s.famMu.Unlock()
	for _, id := range ids {
		s.RevokeFamily(id)
	}
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

package store

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// maxAssertionJTIs bounds the replay cache of client assertions. An assertion is accepted only a few
// minutes before its exp, so the cache holds the assertions of the last few minutes; past the bound
// new ones are refused: forgetting a live entry early would let that assertion be replayed.
const maxAssertionJTIs = 100_000

// maxAssertionJTIsPerClient keeps one client (a self-registered one, say) from filling the cache and
// locking every other private_key_jwt client out: past it, only that client is refused.
const maxAssertionJTIsPerClient = 1_000

// ErrFull is returned when the assertion replay cache cannot take another entry.
var ErrFull = errors.New("store: too many client assertions in flight")

// replayCache remembers the jti of each client assertion until it expires (RFC 7523 §3 item 7).
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // client_id NUL jti -> remembered until
	perClient map[string]int       // live entries of each client
	swept     time.Time
}

// UseAssertion records that clientID used an assertion with this jti, remembered until until (its
// exp plus the clock-skew leeway). A jti the client already used gives ErrReplayed.
func (s *Store) UseAssertion(clientID, jti string, until time.Time) error {
	c := &s.assertions
	key := clientID + "\x00" + jti
	now := s.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen, c.perClient = map[string]time.Time{}, map[string]int{}
	}
	if exp, ok := c.seen[key]; ok {
		if !now.After(exp) {
			return ErrReplayed
		}
		delete(c.seen, key) // expired but not swept yet: counted again below
		c.perClient[clientID]--
	}
	full := len(c.seen) >= maxAssertionJTIs || c.perClient[clientID] >= maxAssertionJTIsPerClient
	// When full, sweep at most once a second: each sweep walks the whole map.
	if now.Sub(c.swept) > sweepEvery || (full && now.Sub(c.swept) > time.Second) {
		c.swept = now
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
				owner, _, _ := strings.Cut(k, "\x00")
				if c.perClient[owner]--; c.perClient[owner] <= 0 {
					delete(c.perClient, owner)
				}
			}
		}
	}
	if len(c.seen) >= maxAssertionJTIs || c.perClient[clientID] >= maxAssertionJTIsPerClient {
		return ErrFull
	}
	c.seen[key] = until
	c.perClient[clientID]++
	return nil
}

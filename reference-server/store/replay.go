package store

import (
	"errors"
	"sync"
	"time"
)

// maxAssertionJTIs bounds the replay cache of client assertions. An assertion is accepted only a few
// minutes before its exp, so the cache holds the assertions of the last few minutes; past the bound
// new ones are refused: forgetting a live entry early would let that assertion be replayed.
const maxAssertionJTIs = 100_000

// ErrFull is returned when the assertion replay cache cannot take another entry.
var ErrFull = errors.New("store: too many client assertions in flight")

// replayCache remembers the jti of each client assertion until it expires (RFC 7523 §3 item 7).
type replayCache struct {
	mu    sync.Mutex
	seen  map[string]time.Time // client_id NUL jti -> remembered until
	swept time.Time
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
		c.seen = map[string]time.Time{}
	}
	if exp, ok := c.seen[key]; ok && !now.After(exp) {
		return ErrReplayed
	}
	full := len(c.seen) >= maxAssertionJTIs
	// When full, sweep at most once a second: each sweep walks the whole map.
	if now.Sub(c.swept) > sweepEvery || (full && now.Sub(c.swept) > time.Second) {
		c.swept = now
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
	}
	if len(c.seen) >= maxAssertionJTIs {
		return ErrFull
	}
	c.seen[key] = until
	return nil
}

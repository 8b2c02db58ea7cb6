package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
)

// PeekRefreshToken looks a refresh token up for introspection and revocation: it never consumes it.
func TestPeekRefreshToken(t *testing.T) {
	s, c := newStore()
	f := s.NewFamily(&store.Family{ClientID: "contacts-web", UserID: "user-paul", Scopes: []string{"read:contacts"}})
	must(t, s.SetRefreshToken(f.ID, "rt-1", refreshLife))
	must(t, s.RecordAccessToken(f.ID, "at-1", c.Now().Add(time.Hour)))

	for range 2 { // peeking twice changes nothing
		got, current, err := s.PeekRefreshToken("rt-1")
		if err != nil || !current || got.ID != f.ID || got.ClientID != "contacts-web" || got.UserID != "user-paul" {
			t.Fatalf("Peek(rt-1) = %+v, current %v, %v", got, current, err)
		}
		if !got.Expires.Equal(c.Now().Add(refreshLife)) {
			t.Errorf("Expires = %v, want the family's refresh lifetime", got.Expires)
		}
	}
	if _, err := s.UseRefreshToken("rt-1", nil); err != nil {
		t.Fatalf("the peeked token cannot be used: %v", err)
	}
	must(t, s.SetRefreshToken(f.ID, "rt-2", refreshLife))
	cases := []struct {
		token       string
		current     bool
		err         error
		description string
	}{
		{"rt-2", true, nil, "the rotated-in token"},
		{"rt-1", false, nil, "a rotated-out token still names its family"},
		{"unknown", false, store.ErrNotFound, "an unknown token"},
		{"", false, store.ErrNotFound, "the empty token"},
	}
	for _, tc := range cases {
		got, current, err := s.PeekRefreshToken(tc.token)
		if !errors.Is(err, tc.err) || current != tc.current || (err == nil && got.ID != f.ID) {
			t.Errorf("%s: Peek(%q) = %+v, current %v, %v; want current %v, %v", tc.description, tc.token, got, current, err, tc.current, tc.err)
		}
	}
	// Peeking a rotated-out token is not a reuse: the family lives on.
	if _, err := s.UseRefreshToken("rt-2", nil); err != nil {
		t.Errorf("the family was revoked by a peek at a rotated token: %v", err)
	}

	s.RevokeFamily(f.ID)
	if _, _, err := s.PeekRefreshToken("rt-2"); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("Peek after revocation = %v, want ErrRevoked", err)
	}
	g := s.NewFamily(&store.Family{ClientID: "c", UserID: "u"})
	must(t, s.SetRefreshToken(g.ID, "rt-g", time.Hour))
	c.Advance(time.Hour + time.Second)
	if _, _, err := s.PeekRefreshToken("rt-g"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Peek after the family expired = %v, want ErrNotFound", err)
	}
}

func TestDenyAccessToken(t *testing.T) {
	s, c := newStore()
	s.DenyAccessToken("jti-1", c.Now().Add(time.Minute))
	if !s.Denied("jti-1") || s.Denied("jti-2") {
		t.Fatalf("Denied jti-1=%v jti-2=%v; want true false", s.Denied("jti-1"), s.Denied("jti-2"))
	}
	c.Advance(time.Minute + store.ExpiryGrace + time.Second)
	s.DenyAccessToken("jti-2", c.Now().Add(time.Minute)) // sweeps
	if s.Denied("jti-1") || !s.Denied("jti-2") {
		t.Errorf("after jti-1's expiry: Denied jti-1=%v jti-2=%v; want false true", s.Denied("jti-1"), s.Denied("jti-2"))
	}
}

// UseAssertion is the replay cache of client assertions: a jti once per client until it expires.
func TestUseAssertion(t *testing.T) {
	s, c := newStore()
	until := c.Now().Add(time.Minute)
	steps := []struct {
		client, jti string
		want        error
	}{
		{"bot", "j1", nil},
		{"bot", "j1", store.ErrReplayed},
		{"bot", "j2", nil},
		{"other-bot", "j1", nil}, // jti values are unique per issuer (RFC 7519 §4.1.7)
		{"other-bot", "j1", store.ErrReplayed},
	}
	for i, st := range steps {
		if err := s.UseAssertion(st.client, st.jti, until); !errors.Is(err, st.want) {
			t.Errorf("step %d: UseAssertion(%s, %s) = %v, want %v", i, st.client, st.jti, err, st.want)
		}
	}
	c.Advance(time.Minute + time.Second)
	if err := s.UseAssertion("bot", "j1", c.Now().Add(time.Minute)); err != nil {
		t.Errorf("a jti after its assertion expired: %v", err)
	}
}

// Racing uses of one assertion: exactly one wins.
func TestUseAssertionConcurrently(t *testing.T) {
	s, c := newStore()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 32 {
		wg.Go(func() {
			if s.UseAssertion("bot", "same", c.Now().Add(time.Minute)) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d racing uses of one assertion succeeded, want 1", wins)
	}
}

// The cache is bounded: when full of live entries it refuses new ones (forgetting one early would
// allow its replay), and takes them again once entries expire.
func TestUseAssertionBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("fills the cache")
	}
	s, c := newStore()
	until := c.Now().Add(time.Minute)
	var err error
	n := 0
	for ; err == nil && n < 200_000; n++ {
		err = s.UseAssertion("bot", fmt.Sprint(n), until)
	}
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("after %d assertions: %v, want ErrFull", n, err)
	}
	if err := s.UseAssertion("bot", "0", until); !errors.Is(err, store.ErrReplayed) {
		t.Errorf("a remembered jti when full = %v, want ErrReplayed", err)
	}
	c.Advance(time.Minute + time.Second)
	if err := s.UseAssertion("bot", "fresh", c.Now().Add(time.Minute)); err != nil {
		t.Errorf("after the entries expired: %v", err)
	}
}

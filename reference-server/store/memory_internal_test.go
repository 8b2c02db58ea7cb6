package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestStore() (*Store, *testClock) {
	c := &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return New(c.Now), c
}

func (s *Store) familyCount() int {
	s.famMu.Lock()
	defer s.famMu.Unlock()
	return len(s.families)
}

func (s *Store) issuedCount(id string) int {
	s.famMu.Lock()
	defer s.famMu.Unlock()
	return len(s.families[id].issued)
}

func redeemOne(t *testing.T, s *Store, c *testClock, code string) *Family {
	t.Helper()
	s.PutCode(code, &AuthCode{ClientID: "acme-cms", UserID: "user-paul", Audience: "https://api.example",
		Expires: c.Now().Add(time.Minute)})
	_, f, err := s.RedeemCode(code)
	if err != nil {
		t.Fatalf("RedeemCode(%s): %v", code, err)
	}
	return f
}

// A server that never issues refresh tokens never calls SetRefreshToken; code redemptions and new
// families must sweep the families that have outlived the replay window, or each code leaks one.
func TestFamiliesWithoutRefreshTokensAreSwept(t *testing.T) {
	t.Run("from RedeemCode", func(t *testing.T) {
		s, c := newTestStore()
		for i := range 100 {
			f := redeemOne(t, s, c, fmt.Sprint("code-", i))
			if err := s.RecordAccessToken(f.ID, fmt.Sprint("jti-", i), c.Now().Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Minute)
		}
		// Families live for the 10-minute replay window (their 5-minute tokens expire first), plus a
		// sweep period of slack: far fewer than the 100 codes redeemed.
		if n := s.familyCount(); n > 10+int(sweepEvery/time.Minute)+2 {
			t.Errorf("%d families kept after 100 redemptions over 100 minutes; expired ones are not swept", n)
		}
	})
	t.Run("from NewFamily", func(t *testing.T) {
		s, c := newTestStore()
		for range 100 {
			s.NewFamily(&Family{ClientID: "ops-console", UserID: "user-paul"})
			c.Advance(time.Minute)
		}
		if n := s.familyCount(); n > 10+int(sweepEvery/time.Minute)+2 {
			t.Errorf("%d families kept after 100 new families over 100 minutes", n)
		}
	})
	t.Run("not while a token it issued is valid", func(t *testing.T) {
		s, c := newTestStore()
		f := redeemOne(t, s, c, "long")
		if err := s.RecordAccessToken(f.ID, "long-lived", c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Hour + ExpiryGrace/2) // expired, but a validator's leeway may still accept it
		redeemOne(t, s, c, "trigger-sweep")
		s.RevokeFamiliesOf("user-paul", "acme-cms")
		if !s.Denied("long-lived") {
			t.Error("a token within the validators' leeway after exp survived revocation: its family was swept")
		}
	})
}

// A family refreshed for its whole life records one access token per refresh; the expired ones must
// not pile up, while the valid ones must stay so that revoking the family denies them.
func TestIssuedTokensArePruned(t *testing.T) {
	s, c := newTestStore()
	f := s.NewFamily(&Family{ClientID: "acme-cms", UserID: "user-paul"})
	if err := s.SetRefreshToken(f.ID, "rt", 720*time.Hour); err != nil {
		t.Fatal(err)
	}
	// Hourly refreshes of one-hour tokens for a month.
	peak := 0
	for i := range 720 {
		if err := s.RecordAccessToken(f.ID, fmt.Sprint("hourly-", i), c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		peak = max(peak, s.issuedCount(f.ID))
		c.Advance(time.Hour)
	}
	if peak > 2*issuedPruneMin {
		t.Errorf("issued list grew to %d entries with at most 2 valid tokens at a time", peak)
	}

	// Many valid tokens at once: none may be dropped.
	for i := range 50 {
		if err := s.RecordAccessToken(f.ID, fmt.Sprint("live-", i), c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.issuedCount(f.ID); n < 50 {
		t.Errorf("issued list has %d entries, fewer than the 50 valid tokens", n)
	}
	// A token just past exp, within the grace: kept.
	c.Advance(time.Hour + ExpiryGrace/2)
	for i := range 2 * 60 {
		if err := s.RecordAccessToken(f.ID, fmt.Sprint("later-", i), c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s.RevokeFamily(f.ID)
	for _, jti := range []string{"live-0", "live-49", "later-0", "later-119"} {
		if !s.Denied(jti) {
			t.Errorf("%s not denied after the family was revoked", jti)
		}
	}
}

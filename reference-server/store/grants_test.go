package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
)

// clock is an injectable, advanceable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const refreshLife = 30 * 24 * time.Hour

func newStore() (*store.Store, *clock) {
	c := newClock()
	return store.New(c.Now), c
}

func putCode(s *store.Store, c *clock, code string) {
	s.PutCode(code, &store.AuthCode{ClientID: "acme-cms", RedirectURI: "https://cms.example/cb", UserID: "user-paul",
		Audience: "https://api.example", Scopes: []string{"read:contacts"}, AuthTime: c.Now(), Expires: c.Now().Add(time.Minute)})
}

// redeem puts and redeems a code, failing the test if that does not work.
func redeem(t *testing.T, s *store.Store, c *clock, code string) *store.Family {
	t.Helper()
	putCode(s, c, code)
	ac, f, err := s.RedeemCode(code)
	if err != nil {
		t.Fatalf("RedeemCode(%s): %v", code, err)
	}
	if ac.UserID != "user-paul" || f.UserID != "user-paul" || f.ClientID != "acme-cms" || f.ID == "" {
		t.Fatalf("RedeemCode returned code %+v, family %+v", ac, f)
	}
	return f
}

func TestCodeIsSingleUse(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code-1")
	if err := s.RecordAccessToken(f.ID, "jti-1", c.Now().Add(time.Hour)); err != nil {
		t.Fatalf("RecordAccessToken: %v", err)
	}
	if s.Denied("jti-1") {
		t.Fatal("a fresh access token is denied")
	}

	_, _, err := s.RedeemCode("code-1")
	if !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("second RedeemCode = %v, want ErrReplayed", err)
	}
	if !s.Denied("jti-1") {
		t.Error("replaying the code did not deny the access token issued from it")
	}
	// The family is revoked: new tokens for it are refused and denied on the spot.
	if err := s.RecordAccessToken(f.ID, "jti-2", c.Now().Add(time.Hour)); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("RecordAccessToken on a revoked family = %v, want ErrRevoked", err)
	}
	if !s.Denied("jti-2") {
		t.Error("an access token recorded on a revoked family is not denied")
	}
	if err := s.SetRefreshToken(f.ID, "rt", refreshLife); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("SetRefreshToken on a revoked family = %v, want ErrRevoked", err)
	}
}

func TestRedeemCodeFailures(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*store.Store, *clock)
		want  error
	}{
		{"unknown code", func(*store.Store, *clock) {}, store.ErrNotFound},
		{"expired code", func(s *store.Store, c *clock) {
			putCode(s, c, "the-code")
			c.Advance(time.Minute + time.Second)
		}, store.ErrNotFound},
		{"replayed code", func(s *store.Store, c *clock) {
			putCode(s, c, "the-code")
			if _, _, err := s.RedeemCode("the-code"); err != nil {
				panic(err)
			}
		}, store.ErrReplayed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := newStore()
			tc.setup(s, c)
			ac, f, err := s.RedeemCode("the-code")
			if !errors.Is(err, tc.want) || ac != nil || f != nil {
				t.Errorf("RedeemCode = %v, %v, %v; want %v", ac, f, err, tc.want)
			}
		})
	}
}

func TestCodeStillValidJustBeforeExpiry(t *testing.T) {
	s, c := newStore()
	putCode(s, c, "code")
	c.Advance(time.Minute)
	if _, _, err := s.RedeemCode("code"); err != nil {
		t.Errorf("a code at exactly its expiry was refused: %v", err)
	}
}

func TestRefreshRotation(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	if err := s.SetRefreshToken(f.ID, "rt-1", refreshLife); err != nil {
		t.Fatal(err)
	}
	got, err := s.UseRefreshToken("rt-1", nil)
	if err != nil {
		t.Fatalf("UseRefreshToken(rt-1): %v", err)
	}
	if got.ID != f.ID || got.UserID != "user-paul" || got.Audience != "https://api.example" {
		t.Errorf("UseRefreshToken returned %+v", got)
	}
	if want := c.Now().Add(refreshLife); !got.Expires.Equal(want) {
		t.Errorf("family expires %v, want %v (refresh lifetime from the first refresh token)", got.Expires, want)
	}
	if err := s.SetRefreshToken(f.ID, "rt-2", refreshLife); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Hour)
	if _, err := s.UseRefreshToken("rt-2", nil); err != nil {
		t.Errorf("rotated-in token rt-2 refused: %v", err)
	}
	if _, err := s.UseRefreshToken("never-issued", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown refresh token = %v, want ErrNotFound", err)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	must(t, s.SetRefreshToken(f.ID, "rt-1", refreshLife))
	must(t, s.RecordAccessToken(f.ID, "at-1", c.Now().Add(time.Hour)))
	if _, err := s.UseRefreshToken("rt-1", nil); err != nil {
		t.Fatal(err)
	}
	must(t, s.SetRefreshToken(f.ID, "rt-2", refreshLife))
	must(t, s.RecordAccessToken(f.ID, "at-2", c.Now().Add(time.Hour)))

	// An attacker (or the victim) presents the rotated rt-1.
	if _, err := s.UseRefreshToken("rt-1", nil); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("reuse of rt-1 = %v, want ErrReplayed", err)
	}
	if _, err := s.UseRefreshToken("rt-2", nil); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("newest token after reuse = %v, want ErrRevoked", err)
	}
	for _, jti := range []string{"at-1", "at-2"} {
		if !s.Denied(jti) {
			t.Errorf("access token %s of the revoked family is not denied", jti)
		}
	}
}

func TestRefreshCheckRefusalLeavesTokenUsable(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	must(t, s.SetRefreshToken(f.ID, "rt", refreshLife))

	var seen *store.Family
	_, err := s.UseRefreshToken("rt", func(f *store.Family) bool {
		seen = f
		f.ClientID = "tampered" // a copy: must not leak into the store
		return false
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused check = %v, want ErrNotFound", err)
	}
	if seen == nil || seen.ID != f.ID {
		t.Fatalf("check saw %+v", seen)
	}
	got, err := s.UseRefreshToken("rt", func(f *store.Family) bool { return f.ClientID == "acme-cms" })
	if err != nil {
		t.Fatalf("token unusable after a refused check: %v", err)
	}
	if got.ClientID != "acme-cms" {
		t.Errorf("check's change leaked into the store: client %q", got.ClientID)
	}
}

func TestRefreshExpiry(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	must(t, s.SetRefreshToken(f.ID, "rt", time.Hour))
	c.Advance(time.Hour + time.Second)
	if _, err := s.UseRefreshToken("rt", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired family's refresh token = %v, want ErrNotFound", err)
	}
}

// The absolute lifetime is set once: rotation does not extend the family.
func TestRefreshRotationDoesNotExtendFamily(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	must(t, s.SetRefreshToken(f.ID, "rt-1", time.Hour))
	c.Advance(50 * time.Minute)
	if _, err := s.UseRefreshToken("rt-1", nil); err != nil {
		t.Fatal(err)
	}
	must(t, s.SetRefreshToken(f.ID, "rt-2", time.Hour))
	c.Advance(11 * time.Minute)
	if _, err := s.UseRefreshToken("rt-2", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("rt-2 after the family's absolute lifetime = %v, want ErrNotFound", err)
	}
}

func TestRevokeConsentRevokesFamilies(t *testing.T) {
	s, c := newStore()
	s.GrantConsent("user-paul", "acme-cms", "https://api.example", []string{"read:contacts"})
	s.GrantConsent("user-paul", "other", "https://api.example", []string{"read:contacts"})
	f := redeem(t, s, c, "code")
	must(t, s.SetRefreshToken(f.ID, "rt", refreshLife))
	must(t, s.RecordAccessToken(f.ID, "at", c.Now().Add(time.Hour)))
	other := s.NewFamily(&store.Family{ClientID: "other", UserID: "user-paul"})
	must(t, s.RecordAccessToken(other.ID, "other-at", c.Now().Add(time.Hour)))

	s.RevokeConsent("user-paul", "acme-cms")

	if s.Consent("user-paul", "acme-cms", "https://api.example") != nil {
		t.Error("consent still remembered")
	}
	if s.Consent("user-paul", "other", "https://api.example") == nil {
		t.Error("another client's consent was forgotten")
	}
	if !s.Denied("at") {
		t.Error("access token of the withdrawn grant is not denied")
	}
	if _, err := s.UseRefreshToken("rt", nil); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("refresh token of the withdrawn grant = %v, want ErrRevoked", err)
	}
	if s.Denied("other-at") {
		t.Error("another client's token was denied")
	}
}

// A grant without refresh tokens is kept only for the code-replay window (10 minutes), but its access
// tokens live as long as the API says (one hour for the contacts API). Once a sweep has dropped the
// family, withdrawing consent must still deny those tokens.
func TestRevokeConsentDeniesTokensOutlivingTheFamily(t *testing.T) {
	s, c := newStore()
	f := redeem(t, s, c, "code")
	must(t, s.RecordAccessToken(f.ID, "long-lived", c.Now().Add(time.Hour)))

	c.Advance(11 * time.Minute)
	// Any other client's refresh token triggers the family sweep.
	g := s.NewFamily(&store.Family{ClientID: "contacts-web", UserID: "user-mary"})
	must(t, s.SetRefreshToken(g.ID, "someone-elses-rt", refreshLife))

	s.RevokeConsent("user-paul", "acme-cms")
	if !s.Denied("long-lived") {
		t.Error("an access token still valid for 49 minutes survived RevokeConsent: its family was swept at the " +
			"code-replay window, before the token expired")
	}
}

func TestDenied(t *testing.T) {
	s, c := newStore()
	if s.Denied("anything") || s.Denied("") {
		t.Fatal("fresh store denies a token")
	}
	f := s.NewFamily(&store.Family{ClientID: "c", UserID: "u"})
	must(t, s.RecordAccessToken(f.ID, "a", c.Now().Add(time.Minute)))
	must(t, s.RecordAccessToken(f.ID, "b", c.Now().Add(time.Hour)))
	s.RevokeFamily(f.ID)
	s.RevokeFamily(f.ID) // idempotent
	s.RevokeFamily("no-such-family")
	if !s.Denied("a") || !s.Denied("b") || s.Denied("c") {
		t.Errorf("Denied a=%v b=%v c=%v; want true true false", s.Denied("a"), s.Denied("b"), s.Denied("c"))
	}
	// Unknown family: the token is denied and the caller told not to hand it out.
	if err := s.RecordAccessToken("no-such-family", "orphan", c.Now().Add(time.Hour)); !errors.Is(err, store.ErrRevoked) {
		t.Errorf("RecordAccessToken on an unknown family = %v, want ErrRevoked", err)
	}
	if !s.Denied("orphan") {
		t.Error("orphan token not denied")
	}
	// After the sweep period, expired entries go; live ones stay.
	c.Advance(2 * time.Minute)
	if err := s.RecordAccessToken("no-such-family", "trigger-sweep", c.Now().Add(time.Hour)); !errors.Is(err, store.ErrRevoked) {
		t.Fatal(err)
	}
	if !s.Denied("b") || !s.Denied("orphan") || !s.Denied("trigger-sweep") {
		t.Error("a denied token that has not expired was forgotten")
	}
}

func TestNewFamily(t *testing.T) {
	s, c := newStore()
	a := s.NewFamily(&store.Family{ClientID: "ops-console", UserID: "user-paul", ID: "chosen-by-caller"})
	b := s.NewFamily(&store.Family{ClientID: "ops-console", UserID: "user-paul"})
	if a.ID == "chosen-by-caller" || a.ID == "" || a.ID == b.ID {
		t.Errorf("family ids: %q, %q; want fresh random ids", a.ID, b.ID)
	}
	if !a.Expires.After(c.Now()) {
		t.Errorf("new family already expired: %v", a.Expires)
	}
	must(t, s.SetRefreshToken(a.ID, "rt", refreshLife))
	if _, err := s.UseRefreshToken("rt", nil); err != nil {
		t.Errorf("refresh token of a password-grant family: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A validator accepts a token for its clock-skew leeway after exp, so a revoked token must stay on the
// denylist that long too.
func TestDeniedWithinTheLeewayAfterExpiry(t *testing.T) {
	s, c := newStore()
	f := s.NewFamily(&store.Family{ClientID: "c", UserID: "u"})
	must(t, s.RecordAccessToken(f.ID, "at", c.Now().Add(time.Minute)))
	s.RevokeFamily(f.ID)

	c.Advance(time.Minute + store.ExpiryGrace/2)
	_ = s.RecordAccessToken("no-such-family", "trigger-sweep-1", c.Now().Add(time.Hour))
	if !s.Denied("at") {
		t.Error("a revoked token was forgotten within the validators' leeway after its exp")
	}
	c.Advance(store.ExpiryGrace)
	_ = s.RecordAccessToken("no-such-family", "trigger-sweep-2", c.Now().Add(time.Hour))
	if s.Denied("at") {
		t.Error("a revoked token is still on the denylist after exp + ExpiryGrace")
	}
}

package store_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
)

const racers = 16

// race runs f on racers goroutines released together and returns how many returned nil.
func race(f func() error) (ok int, errs []error) {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		wins  atomic.Int64
	)
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			wins.Add(1)
		}()
	}
	close(start)
	wg.Wait()
	return int(wins.Load()), errs
}

func TestConcurrentCodeRedemption(t *testing.T) {
	for round := range 20 {
		s, c := newStore()
		putCode(s, c, "code")
		wins, errs := race(func() error {
			_, _, err := s.RedeemCode("code")
			return err
		})
		if wins != 1 {
			t.Fatalf("round %d: %d redemptions of one code succeeded, want exactly 1", round, wins)
		}
		for _, err := range errs {
			if !errors.Is(err, store.ErrReplayed) {
				t.Errorf("round %d: losing redemption = %v, want ErrReplayed", round, err)
			}
		}
	}
}

// A replay that races the first redemption must still revoke the grant. RedeemCode publishes the
// code's tombstone (and releases codeMu) before it registers the family, so a replay landing in that
// gap calls RevokeFamily on an id the store does not know yet; the revocation is lost and the winner's
// grant stays live. Contending famMu widens the gap: under -race it is hit within a few rounds, without
// -race in most runs of the 2 s budget. With the family registered first, no round can fail.
func TestCodeReplayRacingRedemptionRevokesFamily(t *testing.T) {
	deadline := time.Now().Add(2 * time.Second)
	for round := 0; round < 5000 && time.Now().Before(deadline); round++ {
		s, c := newStore()
		stop := make(chan struct{})
		var busy sync.WaitGroup
		for range 4 {
			busy.Add(1)
			go func() { // keep famMu contended
				defer busy.Done()
				for {
					select {
					case <-stop:
						return
					default:
						s.RevokeFamily("no-such-family")
					}
				}
			}()
		}
		putCode(s, c, "code")
		var (
			famID atomic.Value
			wins  atomic.Int64
			wg    sync.WaitGroup
			start = make(chan struct{})
		)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, f, err := s.RedeemCode("code"); err == nil {
					famID.Store(f.ID)
					wins.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(stop)
		busy.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d redemptions succeeded, want 1", round, n)
		}
		err := s.RecordAccessToken(famID.Load().(string), "jti", c.Now().Add(time.Hour))
		if !errors.Is(err, store.ErrRevoked) {
			t.Fatalf("round %d: the code was replayed, yet the winner's grant is live (RecordAccessToken = %v, "+
				"want ErrRevoked): the replay's RevokeFamily ran before RedeemCode registered the family", round, err)
		}
	}
}

func TestConcurrentRefreshTokenUse(t *testing.T) {
	for round := range 20 {
		s, c := newStore()
		f := redeem(t, s, c, "code")
		must(t, s.SetRefreshToken(f.ID, "rt", refreshLife))
		wins, errs := race(func() error {
			_, err := s.UseRefreshToken("rt", nil)
			return err
		})
		if wins > 1 {
			t.Fatalf("round %d: %d uses of one refresh token succeeded, want at most 1", round, wins)
		}
		for _, err := range errs {
			if !errors.Is(err, store.ErrReplayed) && !errors.Is(err, store.ErrRevoked) {
				t.Errorf("round %d: losing use = %v, want ErrReplayed or ErrRevoked", round, err)
			}
		}
	}
}

// Mixed traffic on one store: every operation at once, for the race detector.
func TestConcurrentMixedOperations(t *testing.T) {
	s, c := newStore()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := "code-" + string(rune('a'+i))
			putCode(s, c, code)
			_, f, err := s.RedeemCode(code)
			if err != nil {
				t.Error(err)
				return
			}
			rt := "rt-" + code
			if err := s.SetRefreshToken(f.ID, rt, refreshLife); err != nil {
				t.Error(err)
				return
			}
			for j := range 20 {
				jti := code + "-" + string(rune('A'+j))
				_ = s.RecordAccessToken(f.ID, jti, c.Now().Add(time.Hour))
				_ = s.Denied(jti)
				s.GrantConsent("user-paul", "acme-cms", "aud", []string{"read:contacts"})
				_ = s.Consent("user-paul", "acme-cms", "aud")
				s.PutSession(jti, &store.Session{UserID: "u", Expires: c.Now().Add(time.Hour)})
				_ = s.Session(jti)
				c.Advance(100 * time.Millisecond) // 8×20 steps stay well inside a code's 60 s life
			}
			if i%2 == 0 {
				s.RevokeConsent("user-paul", "acme-cms")
			}
		}()
	}
	wg.Wait()
}

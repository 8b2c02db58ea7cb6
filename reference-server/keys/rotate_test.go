package keys_test

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
)

// fakeClock is a settable clock for the keyring.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

func es256Ring(t *testing.T) (*keys.Keyring, *fakeClock) {
	t.Helper()
	k, err := keys.NewKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.FromKeys(k)
	if err != nil {
		t.Fatal(err)
	}
	c := newClock()
	kr.SetClock(c.now)
	return kr, c
}

// verifies checks tok the way a relying party does: the kid from the header, the key from the keyring
// (as oauth.KeyringSource does) and from the published JWKS (as a resource server does).
func verifies(t *testing.T, kr *keys.Keyring, tok string) (viaKeyring, viaJWKS bool) {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	kid := jws.Signatures[0].Header.KeyID
	if k := kr.PublicKey(kid); k != nil {
		_, err := jws.Verify(k.Key)
		viaKeyring = err == nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(kr.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if ks := set.Key(kid); len(ks) == 1 {
		_, err := jws.Verify(ks[0].Key)
		viaJWKS = err == nil
	}
	return viaKeyring, viaJWKS
}

func TestRotateOverlap(t *testing.T) {
	cases := []struct {
		name    string
		overlap time.Duration
		after   time.Duration // time since the rotation
		want    bool          // the old token still verifies
	}{
		{"no overlap, at once", 0, 0, false},
		{"overlap, at once", 30 * time.Second, 0, true},
		{"overlap, near its end", 30 * time.Second, 29 * time.Second, true},
		{"overlap, at its end", 30 * time.Second, 30 * time.Second, false},
		{"overlap, after it", 30 * time.Second, time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kr, clock := es256Ring(t)
			oldKID := kr.Active(jose.ES256).KID
			tok, err := kr.Sign(jose.ES256, "at+jwt", []byte(`{"sub":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			k, err := kr.Rotate(jose.ES256, tc.overlap)
			if err != nil {
				t.Fatal(err)
			}
			if kr.Active(jose.ES256) != k || k.KID == oldKID {
				t.Fatalf("Rotate did not make a new active key (old %s, new %s)", oldKID, k.KID)
			}
			clock.advance(tc.after)
			ring, jwks := verifies(t, kr, tok)
			if ring != tc.want || jwks != tc.want {
				t.Errorf("old token verifies via keyring=%v, via JWKS=%v; want %v", ring, jwks, tc.want)
			}
			fresh, err := kr.Sign(jose.ES256, "at+jwt", []byte(`{"sub":"x"}`))
			if err != nil {
				t.Fatal(err)
			}
			if ring, jwks := verifies(t, kr, fresh); !ring || !jwks {
				t.Error("a token signed by the new key does not verify")
			}
			infos := kr.Keys()
			if want := 1 + map[bool]int{true: 1}[tc.want]; len(infos) != want {
				t.Errorf("Keys() = %+v, want %d keys", infos, want)
			}
			for _, info := range infos {
				if info.Active != (info.KID == k.KID) {
					t.Errorf("key %s: active=%v", info.KID, info.Active)
				}
			}
		})
	}
}

func TestRotateKeepsOtherAlgorithmsAndUniqueKIDs(t *testing.T) {
	es, err := keys.NewKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := keys.NewKey(jose.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keys.FromKeys(es, ed)
	if err != nil {
		t.Fatal(err)
	}
	clock := newClock()
	kr.SetClock(clock.now)
	seen := map[string]bool{es.KID: true, ed.KID: true}
	for range 5 {
		k, err := kr.Rotate(jose.ES256, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.KID] {
			t.Fatalf("kid %s reused", k.KID)
		}
		seen[k.KID] = true
	}
	if kr.Active(jose.EdDSA) != ed || kr.PublicKey(ed.KID) == nil {
		t.Error("rotating ES256 touched the EdDSA key")
	}
	if n := len(kr.Keys()); n != 7 {
		t.Errorf("%d keys published during the overlaps, want 7 (6 ES256 + 1 EdDSA)", n)
	}
	// A rotation without overlap retires every earlier ES256 key at once, overlaps promised or not.
	if _, err := kr.Rotate(jose.ES256, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(kr.Keys()); n != 2 {
		t.Errorf("%d keys after a rotation without overlap, want 2", n)
	}
	if _, err := kr.Rotate(jose.HS256, 0); err == nil {
		t.Error("Rotate(HS256) succeeded: HS256 keys are per-API secrets, not keyring keys")
	}
}

func TestCloneRotatesIndependently(t *testing.T) {
	kr, _ := es256Ring(t)
	c := kr.Clone()
	before := kr.Active(jose.ES256).KID
	if c.Active(jose.ES256).KID != before {
		t.Fatal("the clone has other keys")
	}
	if _, err := c.Rotate(jose.ES256, 0); err != nil {
		t.Fatal(err)
	}
	if kr.Active(jose.ES256).KID != before || kr.PublicKey(before) == nil {
		t.Error("rotating the clone changed the original")
	}
}

// Signing, JWKS reads and key look-ups run lock-free while rotations happen (run with -race); every
// token signed must verify against the keyring when signed and looked up inside its overlap.
func TestRotateConcurrentWithReaders(t *testing.T) {
	kr, clock := es256Ring(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := kr.Sign(jose.ES256, "at+jwt", []byte(`{}`))
				if err != nil {
					t.Error(err)
					return
				}
				if ring, _ := verifies(t, kr, tok); !ring {
					t.Error("a token signed during rotations did not verify within the overlap")
					return
				}
			}
		}()
	}
	for range 20 {
		if _, err := kr.Rotate(jose.ES256, time.Hour); err != nil {
			t.Fatal(err)
		}
		clock.advance(time.Minute)
	}
	close(stop)
	wg.Wait()
}

package bearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/bearer"
	"github.com/oauth-harness/oauth-harness/reference-server/keys"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
)

// jwksServer serves a replaceable body and counts requests.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int64
	body   atomic.Value // []byte
	status atomic.Int64
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	s := &jwksServer{}
	s.body.Store(body)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write(s.body.Load().([]byte))
	}))
	t.Cleanup(s.Close)
	return s
}

func ecKey(t *testing.T) *keys.Key {
	t.Helper()
	k, err := keys.NewKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func jwksOf(t *testing.T, ks ...*keys.Key) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range ks {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKSCacheFetchesOnce(t *testing.T) {
	kr := servertest.Keys(t)
	srv := newJWKSServer(t, kr.JWKS())
	c := &bearer.JWKSCache{URL: srv.URL}
	ctx := context.Background()
	for range 50 {
		for _, alg := range keys.Asymmetric {
			k, err := c.Key(ctx, kr.Active(alg).KID)
			if err != nil {
				t.Fatal(err)
			}
			if k.KeyID != kr.Active(alg).KID || !k.IsPublic() {
				t.Fatalf("Key returned %+v", k)
			}
		}
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("%d fetches for 200 look-ups of known kids, want 1", n)
	}
}

func TestJWKSCachePicksUpRotation(t *testing.T) {
	oldKey, newKey := ecKey(t), ecKey(t)
	srv := newJWKSServer(t, jwksOf(t, oldKey))
	c := &bearer.JWKSCache{URL: srv.URL, MinRefresh: 200 * time.Millisecond}
	ctx := context.Background()
	if _, err := c.Key(ctx, oldKey.KID); err != nil {
		t.Fatal(err)
	}
	srv.body.Store(jwksOf(t, oldKey, newKey)) // the AS rotates

	// Within MinRefresh the unknown kid is refused without a fetch.
	if _, err := c.Key(ctx, newKey.KID); err == nil || !strings.Contains(err.Error(), newKey.KID) {
		t.Errorf("new kid within MinRefresh: err = %v", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("%d fetches within MinRefresh, want 1", n)
	}

	time.Sleep(250 * time.Millisecond)
	k, err := c.Key(ctx, newKey.KID)
	if err != nil {
		t.Fatalf("rotated key not picked up: %v", err)
	}
	if k.KeyID != newKey.KID {
		t.Errorf("got kid %s", k.KeyID)
	}
	if n := srv.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2 (initial + one refetch for the new kid)", n)
	}
	if _, err := c.Key(ctx, oldKey.KID); err != nil {
		t.Errorf("old key lost after the refetch: %v", err)
	}
}

func TestJWKSCacheUnknownKidFloodIsRateLimited(t *testing.T) {
	known := ecKey(t)
	srv := newJWKSServer(t, jwksOf(t, known))
	c := &bearer.JWKSCache{URL: srv.URL, MinRefresh: time.Hour}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				kid := "made-up-" + string(rune('a'+g)) + "-" + string(rune('A'+i))
				if _, err := c.Key(ctx, kid); err == nil {
					t.Errorf("made-up kid %s found", kid)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("800 unknown kids caused %d fetches, want 1 per MinRefresh", n)
	}
	if _, err := c.Key(ctx, known.KID); err != nil {
		t.Errorf("known key refused after the flood: %v", err)
	}
}

func TestJWKSCacheDefaultMinRefresh(t *testing.T) {
	srv := newJWKSServer(t, jwksOf(t, ecKey(t)))
	c := &bearer.JWKSCache{URL: srv.URL} // zero MinRefresh: DefaultMinRefresh
	for range 10 {
		_, _ = c.Key(context.Background(), "unknown")
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("%d fetches with the default MinRefresh (%v), want 1", n, bearer.DefaultMinRefresh)
	}
}

func TestJWKSCacheFetchErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"server error", http.StatusInternalServerError, `{"keys":[]}`, "500"},
		{"not found", http.StatusNotFound, "", "404"},
		{"garbage body", http.StatusOK, "<html>not json</html>", "not a JWK set"},
		{"empty set", http.StatusOK, `{"keys":[]}`, "no public signing key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, []byte(tc.body))
			srv.status.Store(int64(tc.status))
			c := &bearer.JWKSCache{URL: srv.URL, MinRefresh: 150 * time.Millisecond}
			_, err := c.Key(context.Background(), "kid")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
			// The failure is rate-limited like a success, and the cache recovers afterwards.
			_, _ = c.Key(context.Background(), "kid")
			if n := srv.hits.Load(); n != 1 {
				t.Errorf("%d fetches right after a failure, want 1", n)
			}
			good := ecKey(t)
			srv.body.Store(jwksOf(t, good))
			srv.status.Store(http.StatusOK)
			time.Sleep(200 * time.Millisecond)
			if _, err := c.Key(context.Background(), good.KID); err != nil {
				t.Errorf("cache did not recover: %v", err)
			}
		})
	}
}

func TestJWKSCacheUnreachable(t *testing.T) {
	srv := newJWKSServer(t, nil)
	srv.Close()
	c := &bearer.JWKSCache{URL: srv.URL}
	if _, err := c.Key(context.Background(), "kid"); err == nil || !strings.Contains(err.Error(), "jwks") {
		t.Errorf("unreachable JWKS: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = &bearer.JWKSCache{URL: newJWKSServer(t, jwksOf(t, ecKey(t))).URL}
	if _, err := c.Key(ctx, "kid"); err == nil {
		t.Error("a cancelled context still fetched")
	}
}

func TestParseJWKSKeepsOnlyPublicSigningKeysWithKid(t *testing.T) {
	sig := ecKey(t)
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keep := sig.Public()
	noUse := sig.Public()
	noUse.KeyID, noUse.Use = "no-use", ""
	enc := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: "enc", Use: "enc", Algorithm: string(jose.ECDH_ES)}
	private := jose.JSONWebKey{Key: priv, KeyID: "private", Use: "sig", Algorithm: string(jose.ES256)}
	noKid := jose.JSONWebKey{Key: &priv.PublicKey, Use: "sig", Algorithm: string(jose.ES256)}
	oct := jose.JSONWebKey{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct", Algorithm: string(jose.HS256)}
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{keep, noUse, enc, private, noKid, oct}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := bearer.ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("kept %d keys, want 2 (the signing key and the key without use)", len(got))
	}
	if _, ok := got[keep.KeyID]; !ok {
		t.Error("the public signing key was dropped")
	}
	if _, ok := got["no-use"]; !ok {
		t.Error("a public key without use was dropped")
	}
	for _, kid := range []string{"enc", "private", "oct", ""} {
		if _, ok := got[kid]; ok {
			t.Errorf("key %q kept", kid)
		}
	}
	for _, bad := range []string{"", "null", "[]", `{"keys":"x"}`} {
		if _, err := bearer.ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%q) succeeded", bad)
		}
	}
}

// The cache as the validator's key source: the resource-server deployment.
func TestValidatorWithJWKSCache(t *testing.T) {
	kr := servertest.Keys(t)
	srv := newJWKSServer(t, kr.JWKS())
	v := newValidator(t, jose.RS256)
	v.Keys = &bearer.JWKSCache{URL: srv.URL}
	if _, err := v.Validate(context.Background(), forge(t, rsaOpts(t))); err != nil {
		t.Fatalf("valid token refused: %v", err)
	}
	o := rsaOpts(t)
	o.kid = "unknown"
	_, err := v.Validate(context.Background(), forge(t, o))
	wantInvalidToken(t, err)
}

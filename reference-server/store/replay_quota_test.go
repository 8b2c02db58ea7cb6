package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/store"
)

// One client filling its share of the assertion replay cache is refused; other clients are not.
func TestAssertionCacheQuotaIsPerClient(t *testing.T) {
	now := time.Now()
	s := store.New(func() time.Time { return now })
	until := now.Add(5 * time.Minute)
	var err error
	n := 0
	for ; n < 5000; n++ {
		if err = s.UseAssertion("greedy", fmt.Sprint("jti-", n), until); err != nil {
			break
		}
	}
	if !errors.Is(err, store.ErrFull) || n != 1000 {
		t.Fatalf("greedy client: refused after %d assertions with %v, want ErrFull after 1000", n, err)
	}
	if err := s.UseAssertion("acme-reports-bot", "jti-1", until); err != nil {
		t.Fatalf("another client is refused: %v", err)
	}
	if err := s.UseAssertion("acme-reports-bot", "jti-1", until); !errors.Is(err, store.ErrReplayed) {
		t.Errorf("replay: err = %v, want ErrReplayed", err)
	}
	now = now.Add(6 * time.Minute) // the greedy client's assertions have expired and are swept
	if err := s.UseAssertion("greedy", "jti-new", now.Add(time.Minute)); err != nil {
		t.Errorf("after expiry the greedy client is still refused: %v", err)
	}
}

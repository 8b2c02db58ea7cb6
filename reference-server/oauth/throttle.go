package oauth

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Online password guessing is slowed per account and per client address; both are counted for
// every failure, whether or not the account exists, so a lock-out reveals nothing.
const (
	failureWindow      = 15 * time.Minute
	maxAccountFailures = 5  // then the account is locked for lockAccount
	maxAddressFailures = 50 // then the address is locked for lockAddress
	lockAccount        = time.Minute
	lockAddress        = 5 * time.Minute
	maxThrottleEntries = 100_000 // beyond this, the oldest windows are forgotten first
)

type failures struct {
	count  int
	first  time.Time
	locked time.Time // locked until
}

// loginThrottle counts failed logins. It also bounds how many bcrypt comparisons run at once, so a
// burst of login posts cannot take every core from the token endpoint.
type loginThrottle struct {
	mu    sync.Mutex
	byKey map[string]*failures
	swept time.Time
	slots chan struct{}
}

func newLoginThrottle() *loginThrottle {
	return &loginThrottle{byKey: map[string]*failures{}, slots: make(chan struct{}, max(1, runtime.NumCPU()/2))}
}

func throttleKeys(r *http.Request, email string) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"account:" + strings.ToLower(strings.TrimSpace(email)), "address:" + host}
}

// locked reports whether any key is locked now.
func (t *loginThrottle) locked(keys []string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if f := t.byKey[k]; f != nil && now.Before(f.locked) {
			return true
		}
	}
	return false
}

// fail records a failed login against every key.
func (t *loginThrottle) fail(keys []string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(now)
	for _, k := range keys {
		f := t.byKey[k]
		if f == nil || now.Sub(f.first) > failureWindow {
			f = &failures{first: now}
			t.byKey[k] = f
		}
		f.count++
		limit, lock := maxAccountFailures, lockAccount
		if strings.HasPrefix(k, "address:") {
			limit, lock = maxAddressFailures, lockAddress
		}
		if f.count >= limit {
			f.locked = now.Add(lock)
			f.count, f.first = 0, now
		}
	}
}

// succeed forgets an account's failures after a good login.
func (t *loginThrottle) succeed(accountKey string) {
	t.mu.Lock()
	delete(t.byKey, accountKey)
	t.mu.Unlock()
}

func (t *loginThrottle) sweep(now time.Time) {
	if now.Sub(t.swept) < time.Minute && len(t.byKey) < maxThrottleEntries {
		return
	}
	t.swept = now
	for k, f := range t.byKey {
		if now.Sub(f.first) > failureWindow && now.After(f.locked) {
			delete(t.byKey, k)
		}
	}
	for k := range t.byKey { // still too many: forget arbitrary entries rather than grow
		if len(t.byKey) < maxThrottleEntries {
			break
		}
		delete(t.byKey, k)
	}
}

// withSlot runs f while holding one of the bounded bcrypt slots, or fails when ctx ends first.
func (t *loginThrottle) withSlot(ctx context.Context, f func()) error {
	select {
	case t.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-t.slots }()
	f()
	return nil
}

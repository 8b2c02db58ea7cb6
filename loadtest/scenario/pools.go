package scenario

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// refreshPool holds unused refresh tokens. A token is handed out once; the rotated token in its
// answer comes back through give. Tokens ever handed out are remembered, so that a server that
// hands back a spent token (no rotation) cannot make the load reuse it.
type refreshPool struct {
	ch    chan string
	mu    sync.Mutex
	state map[string]bool // true: in the pool; false: spent
	// refused counts tokens the server returned that were already spent or pooled.
	refused atomic.Int64
	minted  int
}

func newRefreshPool(capacity int) *refreshPool {
	return &refreshPool{ch: make(chan string, capacity), state: map[string]bool{}}
}

// give puts an unused token in the pool. It reports whether the token was seen before: such a
// token is refused, never reused. A token that finds the pool full is dropped unused, which is safe.
func (p *refreshPool) give(tok string) (seen bool) {
	p.mu.Lock()
	if _, seen := p.state[tok]; seen || tok == "" {
		p.mu.Unlock()
		p.refused.Add(1)
		return true
	}
	p.state[tok] = true
	p.mu.Unlock()
	select {
	case p.ch <- tok:
	default:
		p.mu.Lock()
		p.state[tok] = false // never handed out, and never to be
		p.mu.Unlock()
	}
	return false
}

// errPoolEmpty stops an attack whose refresh tokens all went to failed requests.
var errPoolEmpty = errors.New("refresh: no unused refresh token is left")

// take hands out a token, waiting up to wait for a rotated one to come back.
func (p *refreshPool) take(wait time.Duration) (string, error) {
	var tok string
	select {
	case tok = <-p.ch:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case tok = <-p.ch:
		case <-t.C:
			return "", fmt.Errorf("%w (%d minted; the others went to failed requests or are still in flight): lower the rate or raise the pool", errPoolEmpty, p.minted)
		}
	}
	p.mu.Lock()
	p.state[tok] = false
	p.mu.Unlock()
	return tok, nil
}

// len is the number of tokens ready.
func (p *refreshPool) len() int { return len(p.ch) }

// maxCodeAge keeps a margin below the 60 s that authorization codes commonly live.
const maxCodeAge = 50 * time.Second

// mintedCode is an authorization code and its PKCE verifier.
type mintedCode struct {
	code, verifier string
	at             time.Time
}

// codePool holds minted codes in minting order; each is taken once.
type codePool struct {
	mu      sync.Mutex
	codes   []mintedCode
	expired int
}

func (p *codePool) add(cs ...mintedCode) {
	p.mu.Lock()
	p.codes = append(p.codes, cs...)
	p.mu.Unlock()
}

// take returns the oldest code still young enough, discarding expired ones.
func (p *codePool) take(now time.Time) (mintedCode, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.codes) > 0 {
		c := p.codes[0]
		p.codes[0] = mintedCode{}
		p.codes = p.codes[1:]
		if now.Sub(c.at) < maxCodeAge {
			return c, nil
		}
		p.expired++
	}
	if p.expired > 0 {
		return mintedCode{}, fmt.Errorf("authorization-code: no code left (%d expired unused: codes live 60 s, so keep each attack under %v)", p.expired, maxCodeAge)
	}
	return mintedCode{}, errors.New("authorization-code: every pre-minted code was used (the attack sent more requests than prepared)")
}

// prune drops the codes minted more than age before now.
func (p *codePool) prune(now time.Time, age time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := 0
	for i < len(p.codes) && now.Sub(p.codes[i].at) > age {
		i++
	}
	p.codes = append([]mintedCode(nil), p.codes[i:]...)
}

// len is the number of codes ready.
func (p *codePool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.codes)
}

// parallel runs do n times on up to workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, do func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				if err := do(ctx); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

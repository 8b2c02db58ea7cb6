package scenario

// Benchmarks of what each request costs the generator before it is sent: the targeter and vegeta's
// building of the http.Request from the target (the attack loop's overhead per hit):
//
//	go test -run XXX -bench . ./loadtest/scenario/

import (
	"context"
	"crypto/rand"
	"net/http"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/target"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func hit(b *testing.B, tr vegeta.Targeter) {
	var t vegeta.Target
	if err := tr(&t); err != nil {
		b.Fatal(err)
	}
	if _, err := t.Request(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkTargeter(b *testing.B) {
	for _, alias := range []string{"Basic", "Post", "Signer"} {
		env := fakeEnv(b, "http://127.0.0.1:1/token")
		env.Profile.Clients = map[string]target.Client{alias: env.Profile.Clients[alias]}
		sc, err := New(context.Background(), env, ClientCredentials, Options{})
		if err != nil {
			b.Fatal(err)
		}
		method := env.Profile.Clients[alias].AuthMethod
		b.Run("client-credentials/"+method, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				hit(b, sc.Targeter)
			}
		})
	}
	b.Run("refresh", func(b *testing.B) {
		pool := newRefreshPool(64)
		pool.give(rand.Text())
		auth, _ := newClientAuth(target.Client{ClientID: "c", ClientSecret: "s"}, "")
		sc := refreshScenario("http://127.0.0.1:1/token", auth, pool)
		next := rand.Text()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			hit(b, sc.Targeter)
			// What Observe does with the answer: the rotated token back into the pool.
			pool.give(next + string(rune('a'+i%26)) + string(rune(i)))
		}
	})
	b.Run("authorization-code", func(b *testing.B) {
		pool := &codePool{}
		auth, _ := newClientAuth(target.Client{ClientID: "c", ClientSecret: "s"}, "")
		verifier, _ := pkce()
		codes := make([]mintedCode, b.N)
		for i := range codes {
			codes[i] = mintedCode{code: rand.Text(), verifier: verifier, at: time.Now()}
		}
		pool.add(codes...)
		tr := codeTargeter("http://127.0.0.1:1/token", "https://app/cb", auth, pool)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			hit(b, tr)
		}
	})
	b.Run("api", func(b *testing.B) {
		var targets []vegeta.Target
		for range 8 {
			targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: "http://127.0.0.1:1/api/accounts/globex/contacts",
				Header: http.Header{"Authorization": {"Bearer " + rand.Text()}, "Accept": {"application/json"}}})
		}
		tr := cycle(targets)
		b.ReportAllocs()
		for b.Loop() {
			hit(b, tr)
		}
	})
}

// Package steps holds the conformance suite's step definitions, in the language of the seeds
// ("Acme Sync asks for a token for the Contacts API"), resolving every alias through the target
// profile, and the runner that executes the features against a target. State lives in the scenario's
// context, so scenarios may run concurrently.
package steps

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

// httpTimeout bounds every request the suite makes.
const httpTimeout = 15 * time.Second

// reply is an HTTP answer as a step saw it.
type reply struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any // nil when the body is not a JSON object
}

func (r *reply) String() string {
	if r == nil {
		return "no answer"
	}
	body := string(r.body)
	if len(body) > 600 {
		body = body[:600] + "…"
	}
	return fmt.Sprintf("HTTP %d: %s", r.status, body)
}

// world is one scenario's state.
type world struct {
	target *target.Profile
	client *http.Client

	discovery map[string]any
	jwks      *reply

	tokenReply  *reply
	lastAuth    string            // the client authentication method of the last token request
	accessToken string            // the last access token obtained
	tokens      map[string]string // access tokens by client alias
	apiReply    *reply

	skipReason string                        // set when the target lacks a capability the scenario needs
	cleanups   []func(context.Context) error // undone after the scenario (faults set on the target...)
}

type worldKey struct{}

func worldOf(ctx context.Context) *world { return ctx.Value(worldKey{}).(*world) }

func newWorld(t *target.Profile) *world {
	return &world{target: t, client: &http.Client{Timeout: httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tokens: map[string]string{}}
}

// do sends a request and reads the whole answer.
func (w *world) do(ctx context.Context, req *http.Request) (*reply, error) {
	resp, err := w.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", req.Method, req.URL, err)
	}
	r := &reply{status: resp.StatusCode, header: resp.Header, body: body}
	_ = json.Unmarshal(body, &r.json)
	return r, nil
}

func (w *world) get(ctx context.Context, url string) (*reply, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return w.do(ctx, req)
}

// jwtParts decodes a compact JWT's header and claims without verifying it (the steps that assert
// on claims verify the signature in a step of their own).
func jwtParts(token string) (header, claims map[string]any, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("the access token is not a JWT (it has %d parts)", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, fmt.Errorf("the access token's part %d is not base64url: %w", i+1, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return nil, nil, fmt.Errorf("the access token's part %d is not a JSON object: %w", i+1, err)
		}
	}
	return header, claims, nil
}

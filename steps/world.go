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
	"sync"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/browser"
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
	label  string         // what the request was, when several were sent
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

	tokenReply       *reply
	lastAuth         string            // the client authentication method of the last token request
	accessToken      string            // the last access token obtained
	idToken          string            // the last ID token obtained
	refreshToken     string            // the last refresh token obtained
	usedRefresh      []string          // refresh tokens already redeemed, newest last
	refreshSent      string            // the refresh token of the last refresh request
	refreshClient    string            // who sent it
	unrotatedRefresh string            // a race on a refresh token the target need not rotate
	tokens           map[string]string // access tokens by client alias
	apiReply         *reply
	replies          []*reply // answers to requests sent at once (races)
	untested         []string // what a step could not try on this target (the next step says so)

	browsers *lazyBrowser             // the run's Chromium, started by the first scenario that needs it
	tab      *browser.Tab             // this scenario's incognito tab
	flow     *authFlow                // the authorization request in progress
	extra    map[string]target.Client // clients registered during the scenario, by name
	checked  []checkedToken           // tokens decoded since the last step, attached to it

	// client certification
	partner      *target.Partner
	began        time.Time // the scenario's start: the request log is read from here
	appOutcome   string    // "enabled", or the error message the app showed
	appError     bool
	appTokenLife time.Duration
	syncReplies  []*reply
	refusedAt    time.Time

	mu        sync.Mutex    // guards exchanges: a race step sends from several goroutines
	exchanges []sentRequest // the requests of the step that is running, shown if it fails

	release    func()                        // lets go of the run's isolation lock
	skipReason string                        // set when the target lacks a capability the scenario needs
	cleanups   []func(context.Context) error // undone after the scenario (faults set on the target...)
}

type worldKey struct{}

func worldOf(ctx context.Context) *world { return ctx.Value(worldKey{}).(*world) }

func newWorld(t *target.Profile, b *lazyBrowser) *world {
	return &world{target: t, browsers: b, extra: map[string]target.Client{}, client: &http.Client{Timeout: httpTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		tokens: map[string]string{}}
}

// do sends a request and reads the whole answer.
// Every request is recorded, masked, for the report of a step that fails.
func (w *world) do(ctx context.Context, req *http.Request) (r *reply, err error) {
	sent := bodyOf(req)
	defer func() {
		w.mu.Lock()
		w.record(req, sent, r, err)
		w.mu.Unlock()
	}()
	resp, err := w.client.Do(req.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, maskURL(req.URL), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", req.Method, maskURL(req.URL), err)
	}
	r = &reply{status: resp.StatusCode, header: resp.Header, body: body}
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

// app finds a client by name: one registered during the scenario, else the target's.
func (w *world) app(name string) (target.Client, error) {
	if c, ok := w.extra[name]; ok {
		return c, nil
	}
	return w.target.Client(name)
}

// user finds a user by alias.
func (w *world) user(alias string) (target.User, error) { return w.target.User(alias) }

package oauth_test

// Shared helpers for the integration tests of the authorization server's HTTP surface: a live
// server per test and the authorization-code flow driven with golang.org/x/oauth2. The browser and
// its page parsing are in browser_test.go; raw token-endpoint requests and JWT helpers in
// tokenreq_test.go.

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"golang.org/x/oauth2"
)

// API identifiers of the default tenant.
const (
	contactsAPI = "https://api.contacts.example"
	reportsAPI  = "https://reports.contacts.example"
	billingAPI  = "https://billing.contacts.example"
)

// env is one live reference server and what the tests know about its tenant.
type env struct {
	t      testing.TB
	srv    *server.Server
	issuer string
	creds  *fixtures.Credentials
	// ctx carries an HTTP client for x/oauth2 and go-oidc that checks every token-endpoint answer
	// for Cache-Control: no-store.
	ctx context.Context
	now func() time.Time // the server's clock
}

func newEnv(t testing.TB, opts server.Options) *env {
	t.Helper()
	srv := servertest.Start(t, opts)
	e := &env{t: t, srv: srv, issuer: srv.IssuerURL(), creds: servertest.Credentials(t), now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	hc := &http.Client{Transport: noStoreCheck{t: t, path: oauth.PathToken}}
	e.ctx = context.WithValue(oidc.ClientContext(context.Background(), hc), oauth2.HTTPClient, hc)
	return e
}

// noStoreCheck fails the test when a token-endpoint response may be cached (RFC 6749 §5.1).
type noStoreCheck struct {
	t    testing.TB
	path string
}

func (c noStoreCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.URL.Path == c.path && !hasNoStore(resp.Header) {
		c.t.Errorf("token endpoint answered %d without Cache-Control: no-store (got %q)", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	return resp, err
}

func hasNoStore(h http.Header) bool {
	return strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store")
}

// in returns the env bound to (sub)test t, for helpers that fail the test.
func (e *env) in(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func (e *env) url(path string) string { return e.issuer + path }

func (e *env) app(clientID string) *tenant.Application {
	e.t.Helper()
	app := e.srv.Tenant.Application(clientID)
	if app == nil {
		e.t.Fatalf("no application %q in the tenant", clientID)
	}
	return app
}

func (e *env) user(alias string) fixtures.User {
	e.t.Helper()
	u, ok := e.creds.Users[alias]
	if !ok {
		e.t.Fatalf("no user %q in credentials.yaml", alias)
	}
	return u
}

// config is the x/oauth2 configuration a real client of this tenant would use.
func (e *env) config(clientID string, scopes ...string) *oauth2.Config {
	app := e.app(clientID)
	c := &oauth2.Config{
		ClientID: clientID, ClientSecret: e.creds.Clients[clientID], Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.url(oauth.PathAuthorize), TokenURL: e.url(oauth.PathToken),
			AuthStyle: oauth2.AuthStyleInParams},
	}
	if app.TokenEndpointAuthMethod == tenant.AuthClientSecretBasic {
		c.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	}
	if len(app.RedirectURIs) > 0 {
		c.RedirectURL = app.RedirectURIs[0]
	}
	return c
}

func randomString() string { return rand.Text() }

// flow is one authorization request of the code flow, with PKCE unless Verifier is empty.
type flow struct {
	Cfg      *oauth2.Config
	State    string
	Nonce    string
	Verifier string
	Params   map[string]string // extra authorization parameters (audience, prompt, max_age...)
}

func (e *env) flow(clientID string, scopes ...string) *flow {
	return &flow{Cfg: e.config(clientID, scopes...), State: randomString(), Nonce: randomString(),
		Verifier: oauth2.GenerateVerifier(), Params: map[string]string{}}
}

func (f *flow) with(k, v string) *flow {
	f.Params[k] = v
	return f
}

func (f *flow) authURL() string {
	var opts []oauth2.AuthCodeOption
	if f.Verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(f.Verifier))
	}
	if f.Nonce != "" {
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	for k, v := range f.Params {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	return f.Cfg.AuthCodeURL(f.State, opts...)
}

// exchange redeems code with x/oauth2, sending the flow's PKCE verifier.
func (e *env) exchange(f *flow, code string) (*oauth2.Token, error) {
	var opts []oauth2.AuthCodeOption
	if f.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(f.Verifier))
	}
	return f.Cfg.Exchange(e.ctx, code, opts...)
}

// tokens runs the whole flow in browser b (logging in as user when asked, allowing consent) and
// redeems the code.
func (e *env) tokens(b *browser, f *flow, user string) *oauth2.Token {
	e.t.Helper()
	code := e.code(b, f, user)
	tok, err := e.exchange(f, code)
	if err != nil {
		e.t.Fatalf("exchange the code: %v", err)
	}
	return tok
}

// code runs the authorization request to its code: it logs in as user on a login page (fatal when
// user is empty) and allows a consent page.
func (e *env) code(b *browser, f *flow, user string) string {
	e.t.Helper()
	p := b.finish(b.get(f.authURL()), user, "allow")
	q := e.callback(f, p)
	if q.Get("error") != "" {
		e.t.Fatalf("authorization failed: %s: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("code") == "" {
		e.t.Fatalf("no code in the callback %v", q)
	}
	return q.Get("code")
}

// callback checks that p redirects to the flow's redirect URI with its state and the issuer (RFC
// 9207), and returns the query parameters of the redirect.
func (e *env) callback(f *flow, p *page) url.Values {
	e.t.Helper()
	return e.redirectedTo(p, f.Cfg.RedirectURL, f.State)
}

// redirectedTo checks that p redirects to redirectURI with state and iss, and returns its query.
func (e *env) redirectedTo(p *page, redirectURI, state string) url.Values {
	e.t.Helper()
	return e.redirectParams(p, redirectURI, state, false)
}

// redirectedToFragment is redirectedTo for responses in the fragment (implicit flow, response_mode
// fragment): the parameters must be there and the query must be empty.
func (e *env) redirectedToFragment(p *page, redirectURI, state string) url.Values {
	e.t.Helper()
	return e.redirectParams(p, redirectURI, state, true)
}

func (e *env) redirectParams(p *page, redirectURI, state string, fragment bool) url.Values {
	e.t.Helper()
	loc := p.Header.Get("Location")
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		e.t.Fatalf("want a redirect to %s, got %d %s %s", redirectURI, p.Status, p.kind(), p.snippet())
	}
	sep := "?"
	if fragment {
		sep = "#"
	}
	if !strings.HasPrefix(loc, redirectURI+sep) {
		e.t.Fatalf("redirect to %q, want %s%s...", loc, redirectURI, sep)
	}
	u, err := url.Parse(loc)
	if err != nil {
		e.t.Fatalf("parse Location %q: %v", loc, err)
	}
	q := u.Query()
	if fragment {
		if q, err = url.ParseQuery(u.EscapedFragment()); err != nil {
			e.t.Fatalf("parse the fragment of %q: %v", loc, err)
		}
	}
	if got := q.Get("state"); got != state {
		e.t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != e.issuer {
		e.t.Errorf("iss = %q, want the issuer %q (RFC 9207)", got, e.issuer)
	}
	if !hasNoStore(p.Header) {
		e.t.Errorf("authorization response without Cache-Control: no-store")
	}
	return q
}

// checkPageHeaders checks the anti-framing and caching headers of an HTML page.
func checkPageHeaders(t testing.TB, p *page) {
	t.Helper()
	csp := p.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("%s page: Content-Security-Policy %q lacks frame-ancestors 'none'", p.kind(), csp)
	}
	if got := p.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s page: X-Frame-Options = %q, want DENY", p.kind(), got)
	}
	if !hasNoStore(p.Header) {
		t.Errorf("%s page: Cache-Control = %q, want no-store", p.kind(), p.Header.Get("Cache-Control"))
	}
}

// fakeClock is a settable clock for server.Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

package scenario

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/target"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Scenario names.
const (
	ClientCredentials = "client-credentials"
	Refresh           = "refresh"
	AuthorizationCode = "authorization-code"
	API               = "api"
	Introspect        = "introspect"
	UserInfo          = "userinfo"
	JWKS              = "jwks"
	Mixed             = "mixed"
)

// Names lists every scenario, mixed last.
func Names() []string {
	return []string{ClientCredentials, Refresh, AuthorizationCode, API, Introspect, UserInfo, JWKS, Mixed}
}

// DefaultMix weighs the mixed scenario like a contacts API's day: mostly API calls, some token
// issuance, a little of the rest.
var DefaultMix = map[string]int{API: 50, ClientCredentials: 15, Introspect: 10, UserInfo: 10, JWKS: 5, Refresh: 5, AuthorizationCode: 5}

// Op is a signature operation the server performs per successful request.
type Op struct {
	Alg    string  `json:"alg"`
	Verify bool    `json:"verify"` // false: a signature made
	Count  float64 `json:"count"`  // per request (a mix gives fractions)
}

func (o Op) String() string {
	kind := "sign"
	if o.Verify {
		kind = "verify"
	}
	return fmt.Sprintf("%.3g×%s %s", o.Count, o.Alg, kind)
}

// Scenario is one load path, ready to attack: vegeta's Targeter plus the hooks the path needs.
type Scenario struct {
	Name        string
	Description string
	// Targeter gives each request. Safe for concurrent use; an error stops the attack (vegeta's
	// contract), which the pools use when they run dry.
	Targeter vegeta.Targeter
	// Observe sees each result (of this scenario's requests) before it is recorded: it takes back
	// what the path needs (a rotated refresh token) and may fail a 2xx whose body is wrong by setting
	// Result.Error. Nil when the status code says all. Safe for concurrent use.
	Observe func(*vegeta.Result)
	// Prepare readies what the next attack of n requests will use (single-use codes). Nil when
	// nothing is needed.
	Prepare func(ctx context.Context, n int) error
	// Crypto is the signature work the server does per successful request, as the target's profile
	// and discovery tell it: the yardstick of the crypto ceiling.
	Crypto []Op

	url string // results whose URL this is are this scenario's (for the mix's Observe)
}

// Options choose the clients and users from the target profile.
type Options struct {
	// API is the API the load calls and asks tokens for (alias or identifier); "Contacts API".
	API string
	// CodeClient is the client of the code flow, refresh tokens and userinfo; "Contacts Web".
	CodeClient string
	// User logs in for the code flow; "paul".
	User string
	// RefreshPool is how many refresh tokens are minted beforehand; it should exceed the requests
	// in flight at once (the attack's worker limit). 128 by default.
	RefreshPool int
	// Tokens is how many access tokens the api, introspect and userinfo paths cycle through; 8.
	Tokens int
	// Mix weighs the mixed scenario's paths; DefaultMix when nil.
	Mix map[string]int
	// Clients limits client credentials (and the tokens of api and introspect) to these aliases;
	// every client with a grant on the API when empty.
	Clients []string
}

func (o *Options) defaults() {
	if o.API == "" {
		o.API = "Contacts API"
	}
	if o.CodeClient == "" {
		o.CodeClient = "Contacts Web"
	}
	if o.User == "" {
		o.User = "paul"
	}
	if o.RefreshPool <= 0 {
		o.RefreshPool = 128
	}
	if o.Tokens <= 0 {
		o.Tokens = 8
	}
	if o.Mix == nil {
		o.Mix = DefaultMix
	}
}

// New builds a scenario by name, obtaining beforehand the tokens it needs.
func New(ctx context.Context, env *Env, name string, opts Options) (*Scenario, error) {
	opts.defaults()
	b := builder{env: env, opts: opts}
	var err error
	if b.apiAlias, b.api, err = findAPI(env.Profile, opts.API); err != nil {
		return nil, err
	}
	build := map[string]func(context.Context) (*Scenario, error){
		ClientCredentials: b.clientCredentials, Refresh: b.refresh, AuthorizationCode: b.authorizationCode,
		API: b.apiCalls, Introspect: b.introspect, UserInfo: b.userInfo, JWKS: b.jwks, Mixed: b.mixed,
	}[name]
	if build == nil {
		return nil, fmt.Errorf("unknown scenario %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	s, err := build(ctx)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	s.Name = name
	return s, nil
}

type builder struct {
	env      *Env
	opts     Options
	apiAlias string
	api      target.API
}

func findAPI(p *target.Profile, name string) (string, target.API, error) {
	if a, ok := p.APIs[name]; ok {
		return name, a, nil
	}
	for alias, a := range p.APIs {
		if a.Identifier == name {
			return alias, a, nil
		}
	}
	_, err := p.API(name)
	return "", target.API{}, err
}

func (b *builder) need(capability string) error {
	if len(b.env.Profile.Capabilities) > 0 && !b.env.Profile.Has(capability) {
		return fmt.Errorf("the target %q lacks the %s capability", b.env.Profile.Name, capability)
	}
	return nil
}

// ccClients are the profile's clients with a client grant on the API, by alias.
func (b *builder) ccClients() ([]string, error) {
	var out []string
	for alias, c := range b.env.Profile.Clients {
		if len(c.Grants[b.apiAlias]) > 0 && c.AuthMethod != AuthNone &&
			(len(b.opts.Clients) == 0 || slices.Contains(b.opts.Clients, alias) || slices.Contains(b.opts.Clients, c.ClientID)) {
			out = append(out, alias)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no client in the target profile (of %v) has a client grant for the %s", b.opts.Clients, b.apiAlias)
	}
	return out, nil
}

// signs is the work of one issued token response: the access token, and an ID token with openid.
func (b *builder) signs(idToken bool) []Op {
	ops := []Op{{Alg: b.api.SigningAlg, Count: 1}}
	if idToken {
		alg := "RS256" // OIDC Core §15.1's default when discovery does not say
		if len(b.env.Endpoints.IDTokenAlgs) > 0 {
			alg = b.env.Endpoints.IDTokenAlgs[0]
		}
		ops = addOp(ops, Op{Alg: alg, Count: 1})
	}
	return ops
}

// formTarget is a POST of a form, the body built once.
func formTarget(u string, form url.Values, h http.Header) vegeta.Target {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("Accept", "application/json")
	return vegeta.Target{Method: http.MethodPost, URL: u, Body: []byte(form.Encode()), Header: h}
}

// cycle returns a targeter handing out targets in turn.
func cycle(targets []vegeta.Target) vegeta.Targeter {
	var next atomicCounter
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		*t = targets[next.inc()%uint64(len(targets))]
		return nil
	}
}

// clientCredentials asks for tokens for the API with every client that has a grant, each with its
// own authentication method; private_key_jwt clients sign a fresh assertion per request.
func (b *builder) clientCredentials(context.Context) (*Scenario, error) {
	if err := b.need(target.CapClientCredentials); err != nil {
		return nil, err
	}
	aliases, err := b.ccClients()
	if err != nil {
		return nil, err
	}
	type ccClient struct {
		auth   *clientAuth
		static vegeta.Target
	}
	var clients []ccClient
	var desc []string
	jwt := map[string]float64{}
	for _, alias := range aliases {
		c := b.env.Profile.Clients[alias]
		a, err := newClientAuth(c, b.env.Endpoints.Token)
		if err != nil {
			return nil, err
		}
		cc := ccClient{auth: a}
		if !a.perRequest() {
			form, h := b.ccForm(), http.Header{}
			_ = a.apply(form, h) // cannot fail without an assertion
			cc.static = formTarget(b.env.Endpoints.Token, form, h)
		} else {
			jwt[a.alg]++ // the server verifies each assertion
		}
		clients = append(clients, cc)
		desc = append(desc, fmt.Sprintf("%s (%s)", alias, a.method))
	}
	crypto := b.signs(false)
	for alg, n := range jwt {
		crypto = append(crypto, Op{Alg: alg, Verify: true, Count: n / float64(len(clients))})
	}
	var next atomicCounter
	return &Scenario{
		Description: "client credentials for the " + b.apiAlias + ", in turn: " + strings.Join(desc, ", "),
		Targeter: func(t *vegeta.Target) error {
			if t == nil {
				return vegeta.ErrNilTarget
			}
			c := clients[next.inc()%uint64(len(clients))]
			if !c.auth.perRequest() {
				*t = c.static
				return nil
			}
			form := b.ccForm()
			if err := c.auth.apply(form, nil); err != nil {
				return err
			}
			*t = formTarget(b.env.Endpoints.Token, form, nil)
			return nil
		},
		Crypto: crypto,
		url:    b.env.Endpoints.Token,
	}, nil
}

func (b *builder) ccForm() url.Values {
	form := b.env.Profile.AudienceParams(b.api) // resource (RFC 8707), audience, both or none: the profile's dialect
	form.Set("grant_type", "client_credentials")
	return form
}

// codeSession logs the code client's user in.
func (b *builder) codeSession(ctx context.Context) (*session, error) {
	if err := b.need(target.CapAuthorizationCode); err != nil {
		return nil, err
	}
	c, err := b.env.Profile.Client(b.opts.CodeClient)
	if err != nil {
		return nil, err
	}
	u, err := b.env.Profile.User(b.opts.User)
	if err != nil {
		return nil, err
	}
	return b.env.session(ctx, c, u, b.api.Identifier)
}

// apiScopes are the API's scopes, sorted (a code flow asks for all of them).
func (b *builder) apiScopes() string {
	var s []string
	for v := range b.api.Scopes {
		s = append(s, v)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// mintTokens runs n code flows (prompt=none, then redemption) and returns the token responses.
func mintTokens(ctx context.Context, s *session, n int, scope string) ([]*tokenResponse, error) {
	out := make(chan *tokenResponse, n)
	err := parallel(ctx, n, 4, func(ctx context.Context) error {
		code, verifier, err := s.mintCode(ctx, scope)
		if err != nil {
			return err
		}
		tr, err := s.token(ctx, s.redeemForm(code, verifier))
		if err != nil {
			return err
		}
		out <- tr
		return nil
	})
	close(out)
	var trs []*tokenResponse
	for tr := range out {
		trs = append(trs, tr)
	}
	return trs, err
}

// refresh rotates refresh tokens: each request spends one from the pool, and the rotated token in
// the answer replaces it, so no token is ever presented twice.
func (b *builder) refresh(ctx context.Context) (*Scenario, error) {
	if err := b.need(target.CapRefreshTokens); err != nil {
		return nil, err
	}
	s, err := b.codeSession(ctx)
	if err != nil {
		return nil, err
	}
	scope := "offline_access " + b.apiScopes()
	trs, err := mintTokens(ctx, s, b.opts.RefreshPool, scope)
	if err != nil {
		return nil, err
	}
	pool := newRefreshPool(b.opts.RefreshPool)
	for _, tr := range trs {
		if tr.RefreshToken == "" {
			return nil, fmt.Errorf("%s got no refresh token with offline_access", s.client.ClientID)
		}
		pool.give(tr.RefreshToken)
	}
	pool.minted = len(trs)
	if s.auth.perRequest() {
		return nil, fmt.Errorf("the code client %s must authenticate with a secret or none", s.client.ClientID)
	}
	sc := refreshScenario(b.env.Endpoints.Token, s.auth, pool)
	sc.Description = fmt.Sprintf("refresh grant of %s for %s, rotating a pool of %d refresh tokens", s.client.ClientID, b.opts.User, pool.len())
	sc.Crypto = b.signs(false)
	// Before each attack, replace the tokens that went to failed requests, so that a search's
	// slower steps do not start from a pool that its overloaded steps drained.
	sc.Prepare = func(ctx context.Context, _ int) error {
		trs, err := mintTokens(ctx, s, cap(pool.ch)-pool.len(), scope)
		for _, tr := range trs {
			pool.give(tr.RefreshToken)
		}
		pool.minted += len(trs)
		return err
	}
	return sc, nil
}

// refreshScenario spends the pool's tokens at tokenURL, authenticating with auth (a static
// method), and puts each answer's rotated token back.
func refreshScenario(tokenURL string, auth *clientAuth, pool *refreshPool) *Scenario {
	h, base := http.Header{}, url.Values{}
	_ = auth.apply(base, h)
	tmpl := formTarget(tokenURL, base, h)
	return &Scenario{
		Targeter: func(t *vegeta.Target) error {
			if t == nil {
				return vegeta.ErrNilTarget
			}
			tok, err := pool.take(2 * time.Second)
			if err != nil {
				return err
			}
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}
			for k, v := range base {
				form[k] = v
			}
			*t = tmpl
			t.Body = []byte(form.Encode())
			return nil
		},
		Observe: func(r *vegeta.Result) {
			if r.Code != http.StatusOK {
				return
			}
			var tr tokenResponse
			if err := jsonUnmarshal(r.Body, &tr); err == nil && tr.RefreshToken != "" && pool.give(tr.RefreshToken) {
				r.Error = "refresh: the answer's refresh token was seen before (no rotation?); not reused"
			}
		},
		url: tokenURL,
	}
}

// authorizationCode redeems codes minted beforehand by prompt=none requests, each with its own
// PKCE verifier.
func (b *builder) authorizationCode(ctx context.Context) (*Scenario, error) {
	s, err := b.codeSession(ctx)
	if err != nil {
		return nil, err
	}
	if s.auth.perRequest() {
		return nil, fmt.Errorf("the code client %s must authenticate with a secret or none", s.client.ClientID)
	}
	scope := "openid " + b.apiScopes()
	pool := &codePool{}
	return &Scenario{
		Description: fmt.Sprintf("authorization code redemption (PKCE S256) by %s for %s; codes minted with prompt=none before each attack", s.client.ClientID, b.opts.User),
		Targeter:    codeTargeter(b.env.Endpoints.Token, s.client.RedirectURI, s.auth, pool),
		Prepare: func(ctx context.Context, n int) error {
			// Codes left from an earlier attack may not outlive this one: only fresh ones count.
			pool.prune(time.Now(), maxCodeAge/2)
			if n = n + n/20 + 10 - pool.len(); n <= 0 {
				return nil
			}
			codes := make(chan mintedCode, n)
			err := parallel(ctx, n, 4, func(ctx context.Context) error {
				code, verifier, err := s.mintCode(ctx, scope)
				if err == nil {
					codes <- mintedCode{code: code, verifier: verifier, at: time.Now()}
				}
				return err
			})
			close(codes)
			var cs []mintedCode
			for c := range codes {
				cs = append(cs, c)
			}
			slices.SortFunc(cs, func(a, b mintedCode) int { return a.at.Compare(b.at) })
			pool.add(cs...)
			return err
		},
		Crypto: b.signs(true),
		url:    b.env.Endpoints.Token,
	}, nil
}

// codeTargeter redeems the pool's codes at tokenURL, authenticating with auth (a static method).
func codeTargeter(tokenURL, redirectURI string, auth *clientAuth, pool *codePool) vegeta.Targeter {
	h, base := http.Header{}, url.Values{}
	_ = auth.apply(base, h)
	tmpl := formTarget(tokenURL, base, h)
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		c, err := pool.take(time.Now())
		if err != nil {
			return err
		}
		form := url.Values{"grant_type": {"authorization_code"}, "code": {c.code}, "redirect_uri": {redirectURI},
			"code_verifier": {c.verifier}}
		for k, v := range base {
			form[k] = v
		}
		*t = tmpl
		t.Body = []byte(form.Encode())
		return nil
	}
}

// ccTokens gets n access tokens for the API from the client-credentials clients, in turn.
func (b *builder) ccTokens(ctx context.Context, n int) ([]string, []string, error) {
	aliases, err := b.ccClients()
	if err != nil {
		return nil, nil, err
	}
	var toks, owners []string
	for i := range n {
		alias := aliases[i%len(aliases)]
		a, err := newClientAuth(b.env.Profile.Clients[alias], b.env.Endpoints.Token)
		if err != nil {
			return nil, nil, err
		}
		form, h := b.ccForm(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		if err := a.apply(form, h); err != nil {
			return nil, nil, err
		}
		tr, err := postToken(ctx, b.env, h, form)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", alias, err)
		}
		toks, owners = append(toks, tr.AccessToken), append(owners, alias)
	}
	return toks, owners, nil
}

// apiCalls reads contacts with valid machine tokens: the API's token validation path.
func (b *builder) apiCalls(ctx context.Context) (*Scenario, error) {
	if err := b.need(target.CapContactsAPI); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(b.env.Profile.APIBaseURL, "/")
	if base == "" {
		return nil, fmt.Errorf("the target profile has no api_base_url")
	}
	toks, _, err := b.ccTokens(ctx, b.opts.Tokens)
	if err != nil {
		return nil, err
	}
	accounts := map[string]bool{}
	for _, u := range b.env.Profile.Users {
		for _, a := range u.Accounts {
			accounts[a] = true
		}
	}
	var urls []string
	for a := range accounts {
		urls = append(urls, base+"/accounts/"+url.PathEscape(a)+"/contacts")
	}
	if len(urls) == 0 {
		urls = []string{base + "/me"} // no account known: the claims echo still validates the token
	}
	sort.Strings(urls)
	var targets []vegeta.Target
	for _, tok := range toks {
		for _, u := range urls {
			targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: u,
				Header: http.Header{"Authorization": {"Bearer " + tok}, "Accept": {"application/json"}}})
		}
	}
	return &Scenario{
		Description: fmt.Sprintf("GET the %s (%s) with %d client-credentials tokens", b.apiAlias, strings.Join(urls, ", "), len(toks)),
		Targeter:    cycle(targets),
		Crypto:      []Op{{Alg: b.api.SigningAlg, Verify: true, Count: 1}},
	}, nil
}

// introspect asks about valid access tokens, as the client they were issued to (a client may always
// introspect its own tokens), and fails an answer that says inactive.
func (b *builder) introspect(ctx context.Context) (*Scenario, error) {
	if err := b.need(target.CapIntrospection); err != nil {
		return nil, err
	}
	if b.env.Endpoints.Introspection == "" {
		return nil, fmt.Errorf("the discovery document has no introspection_endpoint")
	}
	aliases, err := b.ccClients()
	if err != nil {
		return nil, err
	}
	alias := ""
	for _, a := range aliases {
		if m := b.env.Profile.Clients[a].AuthMethod; m == AuthBasic || m == AuthPost || m == "" {
			alias = a
			break
		}
	}
	if alias == "" {
		return nil, fmt.Errorf("no client with a secret and a grant for the %s to introspect with", b.apiAlias)
	}
	a, err := newClientAuth(b.env.Profile.Clients[alias], b.env.Endpoints.Token)
	if err != nil {
		return nil, err
	}
	var targets []vegeta.Target
	for range b.opts.Tokens {
		form, h := b.ccForm(), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
		_ = a.apply(form, h)
		tr, err := postToken(ctx, b.env, h, form)
		if err != nil {
			return nil, err
		}
		q, h := url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}, http.Header{}
		_ = a.apply(q, h)
		targets = append(targets, formTarget(b.env.Endpoints.Introspection, q, h))
	}
	return &Scenario{
		Description: fmt.Sprintf("introspection of %d access tokens by %s (%s), each answer checked active", len(targets), alias, a.method),
		Targeter:    cycle(targets),
		Observe: func(r *vegeta.Result) {
			var in struct {
				Active bool `json:"active"`
			}
			if r.Code == http.StatusOK && (jsonUnmarshal(r.Body, &in) != nil || !in.Active) {
				r.Error = "introspect: the answer is not active:true"
			}
		},
		Crypto: []Op{{Alg: b.api.SigningAlg, Verify: true, Count: 1}},
		url:    b.env.Endpoints.Introspection,
	}, nil
}

// userInfo reads the user's claims with access tokens from the code flow (openid).
func (b *builder) userInfo(ctx context.Context) (*Scenario, error) {
	if err := b.need(target.CapUserInfo); err != nil {
		return nil, err
	}
	if b.env.Endpoints.UserInfo == "" {
		return nil, fmt.Errorf("the discovery document has no userinfo_endpoint")
	}
	s, err := b.codeSession(ctx)
	if err != nil {
		return nil, err
	}
	trs, err := mintTokens(ctx, s, b.opts.Tokens, "openid profile email")
	if err != nil {
		return nil, err
	}
	var targets []vegeta.Target
	for _, tr := range trs {
		targets = append(targets, vegeta.Target{Method: http.MethodGet, URL: b.env.Endpoints.UserInfo,
			Header: http.Header{"Authorization": {"Bearer " + tr.AccessToken}, "Accept": {"application/json"}}})
	}
	return &Scenario{
		Description: fmt.Sprintf("userinfo with %d access tokens of %s from the code flow", len(targets), b.opts.User),
		Targeter:    cycle(targets),
		Observe: func(r *vegeta.Result) {
			var in struct {
				Sub string `json:"sub"`
			}
			if r.Code == http.StatusOK && (jsonUnmarshal(r.Body, &in) != nil || in.Sub == "") {
				r.Error = "userinfo: the answer has no sub"
			}
		},
		Crypto: []Op{{Alg: b.api.SigningAlg, Verify: true, Count: 1}},
		url:    b.env.Endpoints.UserInfo,
	}, nil
}

// jwks fetches the key set, what every resource server does on a cold cache.
func (b *builder) jwks(context.Context) (*Scenario, error) {
	if b.env.Endpoints.JWKS == "" {
		return nil, fmt.Errorf("the discovery document has no jwks_uri")
	}
	return &Scenario{
		Description: "GET " + b.env.Endpoints.JWKS,
		Targeter:    cycle([]vegeta.Target{{Method: http.MethodGet, URL: b.env.Endpoints.JWKS}}),
	}, nil
}

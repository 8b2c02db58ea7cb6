package steps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/cucumber/godog"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
	"github.com/oauth-harness/oauth-harness/steps/browser"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// lazyBrowser is the run's one Chromium, started by the first scenario that drives a browser, so a
// run without browser scenarios needs no Chromium at all. It keeps one spare incognito tab ready and
// closes used ones in the background: opening and closing a browser context costs 0.4 to 0.8 s,
// which would otherwise sit in every browser scenario.
type lazyBrowser struct {
	mu      sync.Mutex
	b       *browser.Browser
	err     error
	spare   chan tabOrError // holds the next tab once it is ready
	pending bool            // a spare is being opened
	closing sync.WaitGroup  // tabs being closed, and the spare being opened
}

type tabOrError struct {
	tab *browser.Tab
	err error
}

func (l *lazyBrowser) start() (*browser.Browser, error) {
	if l.b == nil && l.err == nil {
		l.b, l.err = browser.Start(context.Background())
		l.spare = make(chan tabOrError, 1)
	}
	return l.b, l.err
}

// tab hands out a fresh incognito tab: the spare if it is ready, else a new one.
func (l *lazyBrowser) tab() (*browser.Tab, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, err := l.start()
	if err != nil {
		return nil, err
	}
	var got tabOrError
	select {
	case got = <-l.spare:
		l.pending = false
	default:
		got.tab, got.err = b.NewTab()
	}
	if !l.pending {
		l.pending = true
		l.closing.Add(1)
		go func() {
			defer l.closing.Done()
			t, err := b.NewTab()
			l.spare <- tabOrError{t, err}
		}()
	}
	return got.tab, got.err
}

// release closes a scenario's tab without making the scenario wait for it.
func (l *lazyBrowser) release(t *browser.Tab) {
	l.closing.Add(1)
	go func() {
		defer l.closing.Done()
		t.Close()
	}()
}

func (l *lazyBrowser) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b == nil {
		return
	}
	l.closing.Wait()
	select {
	case s := <-l.spare:
		if s.tab != nil {
			s.tab.Close()
		}
	default:
	}
	_ = l.b.Close()
	l.b = nil
}

// authFlow is one authorization request, as the user's browser (or the harness) sent it.
type authFlow struct {
	clientAlias string
	client      target.Client
	api         target.API
	scopes      []string
	state       string
	nonce       string
	verifier    string // empty when the request carried no PKCE challenge
	redirectURI string

	loginShown   bool
	consentShown bool
	errorPage    bool     // the server showed its own error page instead of answering the client
	response     *url.URL // the authorization response the client's redirect URI received
	code         string
}

// params are the authorization response's parameters (query, or fragment for the implicit flow).
func (f *authFlow) params() url.Values {
	if f.response == nil {
		return nil
	}
	if f.response.Fragment != "" {
		v, _ := url.ParseQuery(f.response.Fragment)
		return v
	}
	return f.response.Query()
}

func browserSteps(sc *godog.ScenarioContext) {
	step(sc, `^(\w+) (?:signs in to|enables) (.+?) asking for "([^"]*)"(?: on the (.+?))?( without PKCE)?$`, signsIn)
	step(sc, `^(\w+) has enabled (.+?) with "([^"]*)" on the (.+)$`, hasEnabled)
	step(sc, `^(\w+) uses the implicit flow to sign in to (.+?) asking for "([^"]*)" on the (.+)$`, signsInImplicit)
	step(sc, `^(.+?) sends a browser with no session to authorize with prompt=none asking for "([^"]*)" on the (.+)$`, promptNone)
	step(sc, `^(\w+) opens (.+?)'s authorization request with the redirect URI "([^"]*)"$`, opensWithRedirect)
	step(sc, `^the consent page names (.+?) and describes (every requested scope|"[^"]*")$`, consentPageDescribes)
	step(sc, `^(\w+) (allows|denies) the request$`, decides)
	step(sc, `^no consent page was shown$`, noConsentShown)
	step(sc, `^no consent page was shown to the first-party app$`, noConsentShownFirstParty)
	step(sc, `^no login page was shown$`, noLoginShown)
	step(sc, `^(.+?) receives an authorization code with the state it sent$`, receivesCode)
	step(sc, `^(.+?) receives the error "([^"]*)" with the state it sent$`, receivesError)
	step(sc, `^the authorization response's iss is the target's issuer$`, responseIss)
	step(sc, `^(.+?) receives the tokens in the fragment with the state it sent$`, receivesFragmentTokens)
	step(sc, `^the browser shows the authorization server's error page$`, showsErrorPage)
	step(sc, `^nothing was sent to "([^"]*)"$`, nothingSentTo)
	step(sc, `^(\w+) has not yet consented to (.+)$`, revokeConsent)
	step(sc, `^(\w+) revokes the consent of (.+)$`, revokeConsent)
}

// ensureTab opens the scenario's incognito tab on the run's browser.
func (w *world) ensureTab() (*browser.Tab, error) {
	if w.tab != nil {
		return w.tab, nil
	}
	t, err := w.browsers.tab()
	if err != nil {
		return nil, fmt.Errorf("this scenario drives a browser: %w", err)
	}
	w.tab = t
	return t, nil
}

// screenshot attaches a picture of the tab, when the scenario has one.
func (w *world) screenshot(ctx context.Context, name string) context.Context {
	if w.tab == nil {
		return ctx
	}
	png, err := w.tab.Screenshot()
	if err != nil {
		return godog.Attach(ctx, godog.Attachment{Body: []byte("no screenshot: " + err.Error()), FileName: name + ".txt", MediaType: "text/plain"})
	}
	return godog.Attach(ctx, godog.Attachment{Body: png, FileName: name, MediaType: "image/png"})
}

// newFlow prepares an authorization request of client for scopes on the API.
func (w *world) newFlow(clientAlias, scopes, apiAlias string, pkce bool) (*authFlow, error) {
	c, err := w.app(clientAlias)
	if err != nil {
		return nil, err
	}
	var api target.API // none: a request for OpenID's own scopes (userinfo) names no API
	if apiAlias != "" {
		if api, err = w.target.API(apiAlias); err != nil {
			return nil, err
		}
	}
	if c.RedirectURI == "" {
		return nil, fmt.Errorf("the target profile gives %s no redirect_uri", clientAlias)
	}
	f := &authFlow{clientAlias: clientAlias, client: c, api: api, scopes: strings.Fields(scopes),
		state: tokens.Random(16), nonce: tokens.Random(16), redirectURI: c.RedirectURI}
	if pkce {
		f.verifier = tokens.Random(32) // 43 characters of base64url
	}
	w.flow = f
	return f, nil
}

// authorizeURL is the authorization request of f, with extra parameters; an extra given as ""
// removes that parameter (a request without a nonce).
func (w *world) authorizeURL(ctx context.Context, f *authFlow, responseType string, extra url.Values) (string, error) {
	d, err := discover(ctx)
	if err != nil {
		return "", err
	}
	ep, _ := d["authorization_endpoint"].(string)
	if ep == "" {
		return "", fmt.Errorf("the discovery document has no authorization_endpoint")
	}
	q := w.target.AudienceParams(f.api)
	scopes := w.target.Scopes(strings.Join(f.scopes, " "))
	q.Set("response_type", responseType)
	q.Set("client_id", f.client.ClientID)
	q.Set("redirect_uri", f.redirectURI)
	q.Set("scope", strings.Join(scopes, " "))
	q.Set("state", f.state)
	// A nonce belongs to OpenID Connect requests only (OIDC Core §3.1.2.1); a plain OAuth request
	// carrying one may be refused.
	if slices.Contains(scopes, "openid") {
		q.Set("nonce", f.nonce)
	} else {
		f.nonce = ""
	}
	// OIDC Core §11: a provider issues a refresh token for offline_access only when the request
	// has prompt=consent (unless it has other conditions of its own).
	if slices.Contains(scopes, "offline_access") && slices.Contains(scopes, "openid") {
		q.Set("prompt", "consent")
	}
	if f.verifier != "" {
		sum := sha256.Sum256([]byte(f.verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	for k, v := range extra {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
			continue
		}
		q[k] = v
	}
	sep := "?"
	if strings.Contains(ep, "?") {
		sep = "&"
	}
	return ep + sep + q.Encode(), nil
}

// callbackPrefix is the redirect URI without its query: what the browser must not really visit.
func callbackPrefix(redirectURI string) string {
	prefix, _, _ := strings.Cut(redirectURI, "?")
	return prefix
}

// browse opens the authorization URL and walks the pages: it logs in as user (when the login page
// comes) and stops at the consent page, the client's callback, or the server's error page.
func (w *world) browse(ctx context.Context, f *authFlow, authURL, userAlias string) (context.Context, error) {
	tab, err := w.ensureTab()
	if err != nil {
		return ctx, err
	}
	tab.StopCapture()
	if err := tab.CaptureRedirects(callbackPrefix(f.redirectURI)); err != nil {
		return ctx, err
	}
	if err := tab.Navigate(authURL); err != nil {
		return ctx, err
	}
	return w.advance(ctx, f, userAlias)
}

// advance waits for the next page of the interaction and handles it.
func (w *world) advance(ctx context.Context, f *authFlow, userAlias string) (context.Context, error) {
	sel := w.target.Selectors
	for range 3 { // login, then consent or callback: never more pages than that
		page, err := w.whichPage()
		if err != nil {
			return ctx, err
		}
		switch page {
		case pageLogin:
			if f.loginShown {
				return ctx, w.loginFailed()
			}
			f.loginShown = true
			if userAlias == "" {
				return ctx, fmt.Errorf("the login page was shown, but no user is signing in")
			}
			u, err := w.user(userAlias)
			if err != nil {
				return ctx, err
			}
			if err := w.tab.Fill(sel.Login.Username, u.Username); err != nil {
				return ctx, err
			}
			if err := w.tab.Fill(sel.Login.Password, u.Password); err != nil {
				return ctx, err
			}
			if err := w.tab.Click(sel.Login.Submit); err != nil {
				return ctx, err
			}
		case pageConsent:
			f.consentShown = true
			return w.screenshot(ctx, "consent-page.png"), nil
		case pageCallback:
			u, err := w.tab.Redirected()
			if err != nil {
				return ctx, err
			}
			if f.response, err = url.Parse(u); err != nil {
				return ctx, fmt.Errorf("the client's callback URL %q does not parse: %w", u, err)
			}
			f.code = f.params().Get("code")
			return ctx, nil
		case pageError:
			f.errorPage = true
			return w.screenshot(ctx, "error-page.png"), nil
		}
	}
	return ctx, fmt.Errorf("the login page came back after a login (wrong credentials in the target profile?)")
}

type page int

const (
	pageLogin page = iota
	pageConsent
	pageCallback
	pageError
)

// whichPage waits until one of the interaction's pages is visible and names it.
func (w *world) whichPage() (page, error) {
	sel := w.target.Selectors
	candidates := []struct {
		p   page
		css string
	}{{pageCallback, browser.CallbackSelector}, {pageConsent, sel.Consent.Page}, {pageLogin, sel.Login.Username}, {pageError, sel.ErrorPage}}
	var all []string
	for _, c := range candidates {
		all = append(all, c.css)
	}
	if err := w.tab.WaitVisible(strings.Join(all, ", ")); err != nil {
		where, _ := w.tab.URL()
		return 0, fmt.Errorf("none of the login page, the consent page, the client's callback or an error page came up (at %s): %w", where, err)
	}
	for _, c := range candidates {
		ok, err := w.tab.Visible(c.css)
		if err != nil {
			return 0, err
		}
		if ok {
			return c.p, nil
		}
	}
	return 0, fmt.Errorf("the page changed while the harness was reading it")
}

func (w *world) loginFailed() error {
	msg, _ := w.tab.Text(w.target.Selectors.Login.Error)
	return fmt.Errorf("the login page came back after a login (wrong credentials in the target profile?): %q", msg)
}

func signsIn(ctx context.Context, userAlias, clientAlias, scopes, apiAlias, noPKCE string) (context.Context, error) {
	w := worldOf(ctx)
	f, err := w.newFlow(clientAlias, scopes, apiAlias, noPKCE == "")
	if err != nil {
		return ctx, err
	}
	u, err := w.authorizeURL(ctx, f, "code", nil)
	if err != nil {
		return ctx, err
	}
	return w.browse(ctx, f, u, userAlias)
}

// hasEnabled runs a whole flow, allowing the consent page if it comes, and expects a code.
func hasEnabled(ctx context.Context, userAlias, clientAlias, scopes, apiAlias string) (context.Context, error) {
	ctx, err := signsIn(ctx, userAlias, clientAlias, scopes, apiAlias, "")
	if err != nil {
		return ctx, err
	}
	if f := worldOf(ctx).flow; f.consentShown && f.response == nil {
		if ctx, err = decides(ctx, userAlias, "allows"); err != nil {
			return ctx, err
		}
	}
	return ctx, receivesCode(ctx, clientAlias)
}

func signsInImplicit(ctx context.Context, userAlias, clientAlias, scopes, apiAlias string) (context.Context, error) {
	w := worldOf(ctx)
	f, err := w.newFlow(clientAlias, scopes, apiAlias, false)
	if err != nil {
		return ctx, err
	}
	u, err := w.authorizeURL(ctx, f, "id_token token", nil)
	if err != nil {
		return ctx, err
	}
	if ctx, err = w.browse(ctx, f, u, userAlias); err != nil {
		return ctx, err
	}
	if f.response == nil {
		return ctx, fmt.Errorf("the implicit flow did not come back to %s (consent shown: %v, error page: %v)", clientAlias, f.consentShown, f.errorPage)
	}
	p := f.params()
	w.accessToken, w.idToken = p.Get("access_token"), p.Get("id_token")
	return ctx, nil
}

func promptNone(ctx context.Context, clientAlias, scopes, apiAlias string) (context.Context, error) {
	w := worldOf(ctx)
	f, err := w.newFlow(clientAlias, scopes, apiAlias, true)
	if err != nil {
		return ctx, err
	}
	u, err := w.authorizeURL(ctx, f, "code", url.Values{"prompt": {"none"}})
	if err != nil {
		return ctx, err
	}
	return w.browse(ctx, f, u, "")
}

func opensWithRedirect(ctx context.Context, userAlias, clientAlias, redirectURI string) (context.Context, error) {
	w := worldOf(ctx)
	api, err := w.anyAPIScope()
	if err != nil {
		return ctx, err
	}
	f, err := w.newFlow(clientAlias, api.scope, api.alias, true)
	if err != nil {
		return ctx, err
	}
	f.redirectURI = redirectURI
	u, err := w.authorizeURL(ctx, f, "code", nil)
	if err != nil {
		return ctx, err
	}
	return w.browse(ctx, f, u, userAlias)
}

// anyAPIScope picks a scope of an API of the target, for requests whose scope does not matter.
func (w *world) anyAPIScope() (struct{ alias, scope string }, error) {
	for _, alias := range sortedAliases(w.target.APIs) {
		for _, s := range sortedAliases(w.target.APIs[alias].Scopes) {
			return struct{ alias, scope string }{alias, s}, nil
		}
	}
	return struct{ alias, scope string }{}, fmt.Errorf("the target profile lists no API with a scope")
}

// consentPageDescribes checks the consent page names the app and describes the scopes: every one
// requested, or those given (a provider may list only what is not granted yet: incremental
// consent, OIDC Core §3.1.2.4).
func consentPageDescribes(ctx context.Context, clientAlias, which string) error {
	w := worldOf(ctx)
	f := w.flow
	if f == nil || !f.consentShown {
		return fmt.Errorf("no consent page was shown (%s)", flowOutcome(f))
	}
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	if c.FirstParty {
		return fmt.Errorf("the profile declares %s first_party, but the scenario expects a third-party app's consent page", clientAlias)
	}
	sel := w.target.Selectors.Consent
	name, err := w.tab.Text(sel.ClientName)
	if err != nil {
		return err
	}
	if !strings.Contains(name, c.Name) {
		return fmt.Errorf("the consent page names the app %q, expected %q", name, c.Name)
	}
	listed, err := w.tab.Texts(sel.Scope)
	if err != nil {
		return err
	}
	// Every API scope asked for must be described (RFC 6749 §10.2: the user must know what the app
	// gets). How a provider shows OpenID's own scopes (openid, profile) is its choice.
	described := strings.Join(f.scopes, " ")
	if which != "every requested scope" {
		described = strings.Trim(which, `"`)
	}
	for _, s := range w.target.Scopes(described) {
		if target.IsOIDCScope(s) {
			continue
		}
		want := s
		if desc := f.api.Scopes[s]; desc != "" {
			want = desc
		}
		if !slices.ContainsFunc(listed, func(t string) bool { return strings.Contains(t, want) || strings.Contains(t, s) }) {
			return fmt.Errorf("the consent page does not describe %s (as %q or by name); it lists %q", s, want, listed)
		}
	}
	return nil
}

func decides(ctx context.Context, userAlias, decision string) (context.Context, error) {
	w := worldOf(ctx)
	if w.flow == nil || !w.flow.consentShown {
		return ctx, fmt.Errorf("%s cannot decide: no consent page is shown (%s)", userAlias, flowOutcome(w.flow))
	}
	button := w.target.Selectors.Consent.Allow
	if decision == "denies" {
		button = w.target.Selectors.Consent.Deny
	}
	if err := w.tab.Click(button); err != nil {
		return ctx, err
	}
	w.flow.consentShown = false // the next page decides what happened
	ctx, err := w.advance(ctx, w.flow, userAlias)
	w.flow.consentShown = true
	return ctx, err
}

// flowOutcome says where an authorization request ended, for error messages.
func flowOutcome(f *authFlow) string {
	switch {
	case f == nil:
		return "no authorization request was made"
	case f.response != nil:
		return "the client received " + f.response.String()
	case f.errorPage:
		return "the server showed its error page"
	case f.consentShown:
		return "the consent page is shown"
	}
	return "the request is still in progress"
}

func noConsentShown(ctx context.Context) error {
	f := worldOf(ctx).flow
	if f == nil {
		return fmt.Errorf("no authorization request was made")
	}
	if f.consentShown {
		return fmt.Errorf("a consent page was shown, expected none")
	}
	return nil
}

// noConsentShownFirstParty: whether an app is spared the consent page is the provider's policy for
// the apps it calls its own; it is checked for a client the profile declares first_party.
func noConsentShownFirstParty(ctx context.Context) error {
	f := worldOf(ctx).flow
	if f != nil && !f.client.FirstParty {
		return notApplicable("the profile does not declare %s first_party, so a consent page for it is the provider's choice", f.clientAlias)
	}
	return noConsentShown(ctx)
}

func noLoginShown(ctx context.Context) error {
	f := worldOf(ctx).flow
	if f == nil {
		return fmt.Errorf("no authorization request was made")
	}
	if f.loginShown {
		return fmt.Errorf("the login page was shown, expected none (%s)", flowOutcome(f))
	}
	return nil
}

// answered checks that the client received the authorization response, with its state.
func answered(ctx context.Context, clientAlias string) (url.Values, error) {
	w := worldOf(ctx)
	f := w.flow
	if f == nil || f.response == nil {
		return nil, fmt.Errorf("%s received no authorization response (%s)", clientAlias, flowOutcome(f))
	}
	if c, err := w.app(clientAlias); err != nil {
		return nil, err
	} else if c.ClientID != f.client.ClientID {
		return nil, fmt.Errorf("the authorization request was made by %s, not %s", f.clientAlias, clientAlias)
	}
	p := f.params()
	if got := p.Get("state"); got != f.state {
		return p, fmt.Errorf("the authorization response's state: expected %q (what %s sent), got %q in %s", f.state, clientAlias, got, f.response)
	}
	return p, nil
}

func receivesCode(ctx context.Context, clientAlias string) error {
	p, err := answered(ctx, clientAlias)
	if err != nil {
		return err
	}
	if p.Get("code") == "" {
		return fmt.Errorf("%s expected an authorization code, got %s", clientAlias, worldOf(ctx).flow.response)
	}
	return nil
}

func receivesError(ctx context.Context, clientAlias, code string) error {
	p, err := answered(ctx, clientAlias)
	if err != nil {
		return err
	}
	if got := p.Get("error"); got != code {
		return fmt.Errorf("%s expected the error %q, got %s", clientAlias, code, worldOf(ctx).flow.response)
	}
	if p.Get("code") != "" {
		return fmt.Errorf("an error response carries a code: %s", worldOf(ctx).flow.response)
	}
	return nil
}

func responseIss(ctx context.Context) error {
	w := worldOf(ctx)
	f := w.flow
	if f == nil || f.response == nil {
		return fmt.Errorf("no authorization response was received (%s)", flowOutcome(f))
	}
	d, err := discover(ctx)
	if err != nil {
		return err
	}
	if d["authorization_response_iss_parameter_supported"] != true {
		return notApplicable("the target does not advertise authorization_response_iss_parameter_supported (RFC 9207 §3 makes iss optional then)")
	}
	if got, want := f.params().Get("iss"), w.target.Issuer; got != want { // RFC 9207 §2: identical to the issuer
		return fmt.Errorf("the authorization response's iss: expected %q, got %q in %s", want, got, f.response)
	}
	return nil
}

func showsErrorPage(ctx context.Context) error {
	f := worldOf(ctx).flow
	if f == nil || !f.errorPage {
		return fmt.Errorf("expected the authorization server's error page (%s)", flowOutcome(f))
	}
	return nil
}

func nothingSentTo(ctx context.Context, prefix string) error {
	w := worldOf(ctx)
	if w.flow == nil {
		return fmt.Errorf("no authorization request was made")
	}
	if r := w.flow.response; r != nil && strings.HasPrefix(r.String(), prefix) {
		return fmt.Errorf("the browser was sent to %s", r)
	}
	if w.tab != nil {
		for _, u := range w.tab.Captured() {
			if strings.HasPrefix(u, prefix) {
				return fmt.Errorf("the browser was sent to %s", u)
			}
		}
	}
	return nil
}

// revokeConsent withdraws the user's consent to the app through the admin API (capability admin),
// which also revokes the refresh tokens the consent gave.
func revokeConsent(ctx context.Context, userAlias, clientAlias string) error {
	w := worldOf(ctx)
	if !w.target.Has(target.CapAdmin) {
		if w.target.Dialect.ConsentPerSession && w.tab == nil {
			return nil // a browser session not yet opened holds no consent
		}
		return notApplicable("withdrawing %s's consent to %s needs the admin capability (or, before any sign-in, a provider whose consents live in the session: dialect.consent_per_session)", userAlias, clientAlias)
	}
	u, err := w.user(userAlias)
	if err != nil {
		return err
	}
	c, err := w.app(clientAlias)
	if err != nil {
		return err
	}
	if u.Subject == "" {
		return fmt.Errorf("the target profile gives no subject for %s", userAlias)
	}
	_, err = admin(ctx, http.MethodDelete, "/consents?"+url.Values{"user_id": {u.Subject}, "client_id": {c.ClientID}}.Encode(), nil)
	return err
}

// checkedToken is a token a step decoded, kept to attach to that step.
type checkedToken struct{ kind, token string }

// noteToken records that a step looked at a token.
func (w *world) noteToken(kind, token string) {
	if token == "" || slices.Contains(w.checked, checkedToken{kind, token}) {
		return
	}
	w.checked = append(w.checked, checkedToken{kind, token})
}

// attachChecked attaches the decoded tokens of the step that just ran.
func (w *world) attachChecked(ctx context.Context) context.Context {
	for _, t := range w.checked {
		h, c, err := jwtParts(t.token)
		if err != nil {
			continue
		}
		b, _ := json.MarshalIndent(map[string]any{"kind": t.kind, "header": h, "claims": c}, "", "  ")
		ctx = godog.Attach(ctx, godog.Attachment{Body: b, FileName: "token-" + strings.ReplaceAll(t.kind, " ", "-") + ".json", MediaType: "application/json"})
	}
	w.checked = nil
	return ctx
}

func sortedAliases[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// receivesFragmentTokens checks an implicit response: tokens in the fragment, never in the query.
func receivesFragmentTokens(ctx context.Context, clientAlias string) error {
	p, err := answered(ctx, clientAlias)
	if err != nil {
		return err
	}
	r := worldOf(ctx).flow.response
	switch {
	case r.Fragment == "":
		return fmt.Errorf("the implicit response must use the fragment (OIDC Core §3.2.2.5), got %s", r)
	case r.Query().Get("access_token") != "":
		return fmt.Errorf("the access token is in the query string: %s", r)
	case p.Get("access_token") == "" || p.Get("id_token") == "":
		return fmt.Errorf("expected an access_token and an id_token in the fragment, got %s", r)
	case !strings.EqualFold(p.Get("token_type"), "Bearer"):
		return fmt.Errorf("token_type: expected Bearer, got %q", p.Get("token_type"))
	}
	return nil
}

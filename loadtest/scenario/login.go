package scenario

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/oauth-harness/oauth-harness/steps/target"
	"golang.org/x/net/html"
)

// maxHops bounds the redirects and pages one authorization request may go through.
const maxHops = 10

// session is a user logged in at the target through its real login form, once, with a cookie jar.
// Afterwards each authorization request with prompt=none returns a code at once: codes are minted
// with one cheap request each and no browser.
type session struct {
	env    *Env
	client target.Client
	auth   *clientAuth
	jar    http.Client // a copy of env.Client with the cookie jar
	issuer *url.URL    // pages on this host are followed; a redirect elsewhere is the client's
	// audience is the API the codes are for (the audience parameter; servers without it ignore it).
	audience string
}

// tokenResponse is the part of a token response the scenarios use.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
}

// login opens an authorization request for client and logs user in through the login form (and
// allows the consent page, if one comes), so that later requests with prompt=none need no page.
// audience is the API the codes are for.
func login(ctx context.Context, env *Env, client target.Client, user target.User, audience string) (*session, error) {
	if env.Endpoints.Authorization == "" {
		return nil, fmt.Errorf("the target has no authorization_endpoint")
	}
	if client.RedirectURI == "" {
		return nil, fmt.Errorf("client %s has no redirect_uri in the target profile", client.ClientID)
	}
	auth, err := newClientAuth(client, env.Endpoints.Token)
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	issuer, err := url.Parse(env.Endpoints.Authorization)
	if err != nil {
		return nil, fmt.Errorf("authorization_endpoint: %w", err)
	}
	s := &session{env: env, client: client, auth: auth, jar: *env.Client, issuer: issuer, audience: audience}
	s.jar.Jar = jar
	s.jar.CheckRedirect = NoRedirects
	authURL, _, state := s.authorizeURL("", "")
	if _, err := s.walk(ctx, authURL, state, &user); err != nil {
		return nil, fmt.Errorf("log %s in for %s: %w", user.Username, client.ClientID, err)
	}
	return s, nil
}

// pkce makes a code verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request with PKCE; prompt and scope are optional.
func (s *session) authorizeURL(prompt, scope string) (u, verifier, state string) {
	verifier, challenge := pkce()
	state = rand.Text()
	q := url.Values{"response_type": {"code"}, "client_id": {s.client.ClientID}, "redirect_uri": {s.client.RedirectURI},
		"state": {state}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	for k, v := range s.env.Profile.AudienceParams(target.API{Identifier: s.audience}) { // the provider's dialect
		q[k] = v
	}
	if prompt != "" {
		q.Set("prompt", prompt)
	}
	sep := "?"
	if strings.Contains(s.env.Endpoints.Authorization, "?") {
		sep = "&"
	}
	return s.env.Endpoints.Authorization + sep + q.Encode(), verifier, state
}

// mintCode asks for a code with prompt=none: the session cookie is the login.
func (s *session) mintCode(ctx context.Context, scope string) (code, verifier string, err error) {
	u, verifier, state := s.authorizeURL("none", scope)
	code, err = s.walk(ctx, u, state, nil)
	return code, verifier, err
}

// walk follows an authorization request through the target's pages until it redirects to the
// client, and returns the code. With user it fills the login form and allows consent; without, a
// page is an error (prompt=none must not show one).
func (s *session) walk(ctx context.Context, u, state string, user *target.User) (string, error) {
	method, form := http.MethodGet, url.Values(nil)
	for range maxHops {
		resp, doc, err := s.fetch(ctx, method, u, form)
		if err != nil {
			return "", err
		}
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return "", fmt.Errorf("bad Location %q: %w", loc, err)
			}
			if next.Host == s.issuer.Host && next.Scheme == s.issuer.Scheme {
				method, u, form = http.MethodGet, next.String(), nil
				continue
			}
			return codeFrom(next, state)
		}
		if user == nil || doc == nil {
			return "", fmt.Errorf("%s %s: HTTP %d instead of a redirect to the client", method, u, resp.StatusCode)
		}
		sel := s.env.Profile.Selectors
		if f, err := fillLogin(doc, sel.Login, user); err == nil && f != nil {
			method, form, u = http.MethodPost, f.values, resolve(resp.Request.URL, f.action)
			user = &target.User{} // one login per walk: a second login page means it failed
			continue
		} else if err != nil {
			return "", err
		}
		if f := consentForm(doc, sel.Consent); f != nil {
			method, form, u = http.MethodPost, f.values, resolve(resp.Request.URL, f.action)
			continue
		}
		return "", fmt.Errorf("%s %s: HTTP %d, a page that is neither the login nor the consent form", method, u, resp.StatusCode)
	}
	return "", fmt.Errorf("more than %d redirects and pages", maxHops)
}

func (s *session) fetch(ctx context.Context, method, u string, form url.Values) (*http.Response, *html.Node, error) {
	var req *http.Request
	var err error
	if form != nil {
		req, err = http.NewRequestWithContext(ctx, method, u, strings.NewReader(form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, method, u, nil)
	}
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.jar.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return resp, nil, nil
	}
	doc, err := html.Parse(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return resp, doc, nil
}

// codeFrom reads the authorization response at the client's redirect URI (query or fragment).
func codeFrom(u *url.URL, state string) (string, error) {
	q := u.Query()
	if q.Get("code") == "" && q.Get("error") == "" && u.Fragment != "" {
		q, _ = url.ParseQuery(u.Fragment)
	}
	switch {
	case q.Get("error") != "":
		return "", fmt.Errorf("the authorization failed: %s: %s", q.Get("error"), q.Get("error_description"))
	case q.Get("state") != state:
		return "", fmt.Errorf("the authorization response's state %q is not the request's", q.Get("state"))
	case q.Get("code") == "":
		return "", fmt.Errorf("the redirect to %s carries no code", u.Redacted())
	}
	return q.Get("code"), nil
}

// redeemForm is the token request for a code; the client's credentials are added by the caller.
func (s *session) redeemForm(code, verifier string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {s.client.RedirectURI},
		"code_verifier": {verifier}}
}

// token posts a token request with the client's credentials.
func (s *session) token(ctx context.Context, form url.Values) (*tokenResponse, error) {
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if err := s.auth.apply(form, h); err != nil {
		return nil, err
	}
	return postToken(ctx, s.env, h, form)
}

// postToken sends a token request and decodes a successful answer.
func postToken(ctx context.Context, env *Env, h http.Header, form url.Values) (*tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.Endpoints.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header = h
	status, body, err := env.do(req)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", env.Endpoints.Token, err)
	}
	var tr tokenResponse
	_ = json.Unmarshal(body, &tr)
	if status != http.StatusOK || tr.AccessToken == "" {
		return nil, fmt.Errorf("the token endpoint answered HTTP %d (%s: %s) to %s", status, tr.Error, tr.Description, form.Get("grant_type"))
	}
	return &tr, nil
}

// form is an HTML form to submit.
type form struct {
	action string
	values url.Values
}

// fillLogin finds the login form (the form around the username field) and fills it in. It returns
// nil when the page has no such field.
func fillLogin(doc *html.Node, sel target.LoginSelectors, user *target.User) (*form, error) {
	userMatch, err := selector(sel.Username)
	if err != nil {
		return nil, fmt.Errorf("selectors.login.username: %w", err)
	}
	passMatch, err := selector(sel.Password)
	if err != nil {
		return nil, fmt.Errorf("selectors.login.password: %w", err)
	}
	field := find(doc, userMatch)
	if field == nil {
		return nil, nil
	}
	if user.Username == "" {
		return nil, fmt.Errorf("the login page came back: the login failed (%s)", text(find(doc, mustSelector(sel.Error))))
	}
	f := enclosingForm(field)
	pass := find(f.node, passMatch)
	if pass == nil || attr(field, "name") == "" || attr(pass, "name") == "" {
		return nil, fmt.Errorf("the login form has no named username and password fields")
	}
	f.values.Set(attr(field, "name"), user.Username)
	f.values.Set(attr(pass, "name"), user.Password)
	return &form{action: f.action, values: f.values}, nil
}

// consentForm finds the consent form and chooses Allow, or returns nil.
func consentForm(doc *html.Node, sel target.ConsentSelectors) *form {
	page := find(doc, mustSelector(sel.Page))
	allow := find(doc, mustSelector(sel.Allow))
	if page == nil || allow == nil {
		return nil
	}
	f := enclosingForm(allow)
	if name := attr(allow, "name"); name != "" {
		f.values.Set(name, attr(allow, "value"))
	}
	return &form{action: f.action, values: f.values}
}

type htmlForm struct {
	node   *html.Node
	action string
	values url.Values
}

// enclosingForm returns the form around n with the values of its named inputs (buttons excluded:
// only the one pressed is sent).
func enclosingForm(n *html.Node) htmlForm {
	for n.Parent != nil && !(n.Type == html.ElementNode && n.Data == "form") {
		n = n.Parent
	}
	f := htmlForm{node: n, action: attr(n, "action"), values: url.Values{}}
	find(n, func(c *html.Node) bool {
		if c.Type == html.ElementNode && c.Data == "input" && attr(c, "name") != "" {
			switch attr(c, "type") {
			case "submit", "button", "image", "reset":
			default:
				f.values.Set(attr(c, "name"), attr(c, "value"))
			}
		}
		return false
	})
	return f
}

func resolve(base *url.URL, ref string) string {
	u, err := base.Parse(ref)
	if err != nil {
		return base.String()
	}
	return u.String()
}

var (
	idSelector   = regexp.MustCompile(`^#([A-Za-z0-9_-]+)$`)
	nameSelector = regexp.MustCompile(`^([a-z]*)\[name=["']?([^"'\]]+)["']?\]$`)
)

// selector understands the two CSS selector forms a form needs: #id and tag[name=value]. The
// browser suite takes any selector; a profile for the load test uses these.
func selector(s string) (func(*html.Node) bool, error) {
	if m := idSelector.FindStringSubmatch(s); m != nil {
		return func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == m[1] }, nil
	}
	if m := nameSelector.FindStringSubmatch(s); m != nil {
		return func(n *html.Node) bool {
			return n.Type == html.ElementNode && (m[1] == "" || n.Data == m[1]) && attr(n, "name") == m[2]
		}, nil
	}
	return nil, fmt.Errorf("%q: the load test reads forms by #id or tag[name=...] selectors only", s)
}

// mustSelector is selector for optional elements: an unsupported selector matches nothing.
func mustSelector(s string) func(*html.Node) bool {
	m, err := selector(s)
	if err != nil {
		return func(*html.Node) bool { return false }
	}
	return m
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var sb strings.Builder
	find(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			sb.WriteString(c.Data)
		}
		return false
	})
	return strings.TrimSpace(sb.String())
}

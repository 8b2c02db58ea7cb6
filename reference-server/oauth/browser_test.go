package oauth_test

// The browser of the tests: a cookie jar, redirects followed on the server only, and the login and
// consent pages parsed for their forms, ids and scope list.

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"golang.org/x/net/html"
)

// browser is a user agent with a cookie jar. It follows redirects on the server and stops at any
// other (the clients' https://*.example redirect URIs do not resolve: never follow them).
type browser struct {
	t testing.TB
	*agent
}

// agent is a browser's state, shared by its copies bound to subtests.
type agent struct {
	client *http.Client
	mu     sync.Mutex
	seen   []hop // every response received, redirects included
}

// in returns the browser bound to (sub)test t.
func (b *browser) in(t testing.TB) *browser { return &browser{t, b.agent} }

type hop struct {
	Method, URL string
	Status      int
	Header      http.Header
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	b := &browser{t: e.t, agent: &agent{}}
	host := e.srv.Addr()
	b.client = &http.Client{Jar: jar, Transport: recorder{b.agent}, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "http" || req.URL.Host != host {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	return b
}

// loggedIn returns a browser with a session for the fixture user alias, made directly in the
// store: the login form costs a bcrypt comparison (slow under -race), and only the tests about
// logging in need to post it.
func (e *env) loggedIn(alias string) *browser {
	e.t.Helper()
	u := e.srv.Tenant.UserByEmail(e.user(alias).Email)
	if u == nil {
		e.t.Fatalf("no tenant user for %q", alias)
	}
	b := e.browser()
	id, now := randomString(), e.now()
	e.srv.Store.PutSession(id, &store.Session{UserID: u.ID, AuthTime: now, Expires: now.Add(store.SessionLifetime)})
	base, _ := url.Parse(e.issuer + "/")
	b.client.Jar.SetCookies(base, []*http.Cookie{{Name: "oh_session", Value: id, Path: "/"}})
	return b
}

type recorder struct{ b *agent }

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.b.mu.Lock()
		r.b.seen = append(r.b.seen, hop{req.Method, req.URL.String(), resp.StatusCode, resp.Header.Clone()})
		r.b.mu.Unlock()
	}
	return resp, err
}

// setCookie returns the last Set-Cookie for name that the browser received, or nil.
func (b *browser) setCookie(name string) *http.Cookie {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.seen) - 1; i >= 0; i-- {
		for _, line := range b.seen[i].Header.Values("Set-Cookie") {
			if c, err := http.ParseSetCookie(line); err == nil && c.Name == name {
				return c
			}
		}
	}
	return nil
}

// page is the last response of a navigation.
type page struct {
	Status int
	Header http.Header
	URL    *url.URL
	Body   string
	doc    *html.Node
}

func (b *browser) get(u string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	p := &page{Status: resp.StatusCode, Header: resp.Header, URL: resp.Request.URL, Body: string(body)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.Body)); err != nil {
			b.t.Fatalf("parse the HTML of %s: %v", p.URL, err)
		}
	}
	return p
}

// finish drives an interaction to its end: it logs in as user on a login page and answers a consent
// page with decision; it stops at any other page, or at a page it was given nothing for.
func (b *browser) finish(p *page, user, decision string) *page {
	b.t.Helper()
	for range 4 {
		switch {
		case p.kind() == "login" && user != "":
			p = b.login(p, user)
			user = "" // a second login page means the login failed: stop there
		case p.kind() == "consent" && decision != "":
			p = b.consent(p, decision)
			decision = ""
		default:
			return p
		}
	}
	return p
}

// login posts the login form as the fixture user with this alias.
func (b *browser) login(p *page, alias string) *page {
	b.t.Helper()
	c, err := fixtures.DefaultCredentials()
	if err != nil {
		b.t.Fatal(err)
	}
	u := c.Users[alias]
	return b.loginAs(p, u.Email, u.Password)
}

func (b *browser) loginAs(p *page, email, password string) *page {
	b.t.Helper()
	if p.kind() != "login" {
		b.t.Fatalf("want the login page, got %d %s %s", p.Status, p.kind(), p.snippet())
	}
	form := p.form()
	form.Set("username", email)
	form.Set("password", password)
	return b.post(p.action("login-form"), form)
}

func (b *browser) consent(p *page, decision string) *page {
	b.t.Helper()
	if p.kind() != "consent" {
		b.t.Fatalf("want the consent page, got %d %s %s", p.Status, p.kind(), p.snippet())
	}
	form := p.form()
	form.Set("decision", decision)
	return b.post(p.action("consent-form"), form)
}

// kind names the page: login, consent, error, redirect (to anywhere off the server) or other.
func (p *page) kind() string {
	switch {
	case p.Status >= 300 && p.Status < 400:
		return "redirect"
	case p.byID("login-form") != nil:
		return "login"
	case p.byID("consent-form") != nil:
		return "consent"
	case p.byID("error-code") != nil:
		return "error"
	}
	return "other"
}

func (p *page) snippet() string {
	s := p.Body
	if len(s) > 600 {
		s = s[:600]
	}
	return p.Header.Get("Location") + " " + s
}

// form returns the hidden inputs of the page's form: req and csrf_token.
func (p *page) form() url.Values {
	v := url.Values{}
	for _, name := range []string{"req", "csrf_token"} {
		if n := p.find(func(n *html.Node) bool {
			return n.Data == "input" && attr(n, "type") == "hidden" && attr(n, "name") == name
		}); n != nil {
			v.Set(name, attr(n, "value"))
		}
	}
	return v
}

// action resolves the action of the form with this id against the page's URL.
func (p *page) action(formID string) string {
	n := p.byID(formID)
	if n == nil {
		return ""
	}
	a, err := url.Parse(attr(n, "action"))
	if err != nil {
		return ""
	}
	return p.URL.ResolveReference(a).String()
}

// text returns the text content of the element with this id ("" when absent).
func (p *page) text(id string) string {
	n := p.byID(id)
	if n == nil {
		return ""
	}
	return strings.TrimSpace(textOf(n))
}

// scopes returns the consent page's scope list: data-scope -> the description shown.
func (p *page) scopes() map[string]string {
	out := map[string]string{}
	ul := p.byID("consent-scopes")
	if ul == nil {
		return out
	}
	walk(ul, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "li" {
			out[attr(n, "data-scope")] = strings.TrimSpace(textOf(n))
		}
		return false
	})
	return out
}

func (p *page) byID(id string) *html.Node {
	return p.find(func(n *html.Node) bool { return attr(n, "id") == id })
}

func (p *page) find(match func(*html.Node) bool) *html.Node {
	if p.doc == nil {
		return nil
	}
	var found *html.Node
	walk(p.doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && match(n) {
			found = n
			return true
		}
		return false
	})
	return found
}

// walk visits n and its descendants in document order until visit returns true.
func walk(n *html.Node, visit func(*html.Node) bool) bool {
	if visit(n) {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if walk(c, visit) {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var sb strings.Builder
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			sb.WriteString(c.Data)
		}
		return false
	})
	return sb.String()
}

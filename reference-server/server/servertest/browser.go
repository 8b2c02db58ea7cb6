package servertest

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// Browser is a user agent with a cookie jar that drives the server's login and consent pages the
// way a person would: it follows redirects on the server and stops at a redirect anywhere else (the
// client's redirect URI).
type Browser struct {
	t      testing.TB
	client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar for the server listening on addr.
func NewBrowser(t testing.TB, addr string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != addr {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			return nil
		}}}
}

// Authorization is where an authorization request ended.
type Authorization struct {
	Redirect     *url.URL // the redirect to the client, nil when the browser stopped on a page
	LoginShown   bool
	ConsentShown bool
	Page         string // the last page's body when it was not a redirect
}

// Authorize opens authURL, logs in with email and password if the login page comes, answers the
// consent page with decision ("allow" or "deny") if it comes, and returns where the flow ended.
func (b *Browser) Authorize(authURL, email, password, decision string) Authorization {
	b.t.Helper()
	var out Authorization
	resp, doc := b.do(http.MethodGet, authURL, nil)
	for range 4 {
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			loc, err := resp.Location()
			if err != nil {
				b.t.Fatalf("redirect without a Location: %v", err)
			}
			out.Redirect = loc
			return out
		case byID(doc, "login-form") != nil && !out.LoginShown:
			out.LoginShown = true
			form := hiddenInputs(doc)
			form.Set("username", email)
			form.Set("password", password)
			resp, doc = b.do(http.MethodPost, action(resp, doc, "login-form"), form)
		case byID(doc, "consent-form") != nil && !out.ConsentShown:
			out.ConsentShown = true
			form := hiddenInputs(doc)
			form.Set("decision", decision)
			resp, doc = b.do(http.MethodPost, action(resp, doc, "consent-form"), form)
		default:
			out.Page = render(doc)
			return out
		}
	}
	return out
}

func (b *Browser) do(method, u string, form url.Values) (*http.Response, *html.Node) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	doc, err := html.Parse(resp.Body)
	if err != nil {
		b.t.Fatalf("parse %s: %v", u, err)
	}
	return resp, doc
}

func action(resp *http.Response, doc *html.Node, formID string) string {
	a, err := url.Parse(attr(byID(doc, formID), "action"))
	if err != nil {
		return ""
	}
	return resp.Request.URL.ResolveReference(a).String()
}

func hiddenInputs(doc *html.Node) url.Values {
	v := url.Values{}
	find(doc, func(n *html.Node) bool {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "type") == "hidden" {
			v.Set(attr(n, "name"), attr(n, "value"))
		}
		return false
	})
	return v
}

func byID(doc *html.Node, id string) *html.Node {
	return find(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && attr(n, "id") == id })
}

// find returns the first node in document order for which match is true.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
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

func render(doc *html.Node) string {
	var sb strings.Builder
	_ = html.Render(&sb, doc)
	return sb.String()
}

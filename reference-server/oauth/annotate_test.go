package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/requestlog"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/store"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"golang.org/x/oauth2"
)

// loggedProvider serves a Provider alone behind the request-log middleware, so the test sees the
// entries its handlers annotate whatever package server does with the log.
func loggedProvider(t *testing.T) (*httptest.Server, *requestlog.Log, *oauth.Provider) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	p, err := oauth.New(oauth.Config{Issuer: issuer, Tenant: tenant.New(servertest.Tenant(t)), Store: store.New(nil), Keys: servertest.Keys(t)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	log := requestlog.New(100)
	ts.Config.Handler = log.Middleware(mux, nil)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, log, p
}

// TestRequestLogAnnotations: each endpoint records the client, the grant, how the client
// authenticated, PKCE, the scope and the OAuth error it answered.
func TestRequestLogAnnotations(t *testing.T) {
	t.Parallel()
	ts, log, p := loggedProvider(t)
	e := &env{t: t, issuer: ts.URL, creds: servertest.Credentials(t), now: time.Now}
	creds := e.creds
	verifier := oauth2.GenerateVerifier()
	authorize := func(q url.Values) string { return ts.URL + oauth.PathAuthorize + "?" + q.Encode() }
	web := url.Values{"client_id": {"contacts-web"}, "redirect_uri": {webCallback}, "response_type": {"code"},
		"scope": {"openid read:contacts"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}

	// A browser with a session, to get a code.
	jar, _ := cookiejar.New(nil)
	sid := randomString()
	p.Store.PutSession(sid, &store.Session{UserID: "user-paul", AuthTime: time.Now(), Expires: time.Now().Add(time.Hour)})
	base, _ := url.Parse(ts.URL + "/")
	jar.SetCookies(base, []*http.Cookie{{Name: "oh_session", Value: sid, Path: "/"}})
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := get(t, browser, authorize(web))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %s", resp.Header.Get("Location"))
	}

	// A token of contacts-importer, for the other clients to introspect and revoke.
	resp = postForm(t, ts.URL+oauth.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {"contacts-importer"},
		"client_secret": {creds.Clients["contacts-importer"]}}, "", "")
	var cc struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(resp.body, &cc); err != nil || cc.AccessToken == "" {
		t.Fatalf("client credentials: %d %s", resp.StatusCode, resp.body)
	}
	otherToken := cc.AccessToken
	yes, no := true, false
	cases := []struct {
		name string
		do   func() *reply
		want requestlog.Entry
	}{
		{"authorization request with PKCE", func() *reply { return get(t, browser, authorize(web)) },
			requestlog.Entry{ClientID: "contacts-web", GrantType: "authorization_code", PKCE: &yes, Scope: "openid read:contacts"}},
		{"public client without PKCE", func() *reply {
			q := url.Values{"client_id": {"contacts-spa"}, "redirect_uri": {"https://spa.contacts.example/callback"}, "response_type": {"code"}}
			return get(t, browser, authorize(q))
		}, requestlog.Entry{ClientID: "contacts-spa", GrantType: "authorization_code", PKCE: &no, Error: "invalid_request"}},
		{"implicit request", func() *reply { return get(t, browser, authorize(implicitQuery())) },
			requestlog.Entry{ClientID: legacySPA, GrantType: "implicit", PKCE: &no, Scope: "openid read:contacts"}},
		{"unknown client at /authorize", func() *reply { return get(t, browser, authorize(url.Values{"client_id": {"nobody"}})) },
			requestlog.Entry{ClientID: "nobody", PKCE: &no, Error: "invalid_client"}},
		{"code redemption with a verifier", func() *reply {
			return postForm(t, ts.URL+oauth.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {webCallback}, "code_verifier": {verifier}}, "contacts-web", creds.Clients["contacts-web"])
		}, requestlog.Entry{ClientID: "contacts-web", GrantType: "authorization_code", AuthMethod: "client_secret_basic",
			PKCE: &yes, Scope: "openid read:contacts"}},
		{"client credentials, Basic", func() *reply {
			return postForm(t, ts.URL+oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, "acme-sync", creds.Clients["acme-sync"])
		}, requestlog.Entry{ClientID: "acme-sync", GrantType: "client_credentials", AuthMethod: "client_secret_basic", Scope: "read:contacts"}},
		{"client credentials, wrong secret", func() *reply {
			return postForm(t, ts.URL+oauth.PathToken, url.Values{"grant_type": {"client_credentials"}}, "acme-sync", "wrong")
		}, requestlog.Entry{ClientID: "acme-sync", GrantType: "client_credentials", AuthMethod: "client_secret_basic", Error: "invalid_client"}},
		{"client credentials, private_key_jwt", func() *reply {
			form := withAssertion(url.Values{"grant_type": {"client_credentials"}}, e.assertion(t, bot, nil))
			return postForm(t, ts.URL+oauth.PathToken, form, "", "")
		}, requestlog.Entry{ClientID: bot, GrantType: "client_credentials", AuthMethod: "private_key_jwt", Scope: "read:contacts"}},
		{"password grant, wrong password", func() *reply {
			return postForm(t, ts.URL+oauth.PathToken, url.Values{"grant_type": {"password"}, "username": {"paul@globex.example"},
				"password": {"wrong"}, "scope": {"read:contacts"}, "client_id": {"ops-console"}, "client_secret": {creds.Clients["ops-console"]}}, "", "")
		}, requestlog.Entry{ClientID: "ops-console", GrantType: "password", AuthMethod: "client_secret_post", Scope: "read:contacts", Error: "invalid_grant"}},
		{"introspection", func() *reply {
			return postForm(t, ts.URL+oauth.PathIntrospect, url.Values{"token": {otherToken}}, "acme-sync", creds.Clients["acme-sync"])
		}, requestlog.Entry{ClientID: "acme-sync", AuthMethod: "client_secret_basic"}},
		{"revocation of another client's token", func() *reply {
			return postForm(t, ts.URL+oauth.PathRevoke, url.Values{"token": {otherToken}, "client_id": {"contacts-mobile"}}, "", "")
		}, requestlog.Entry{ClientID: "contacts-mobile", AuthMethod: "none", Error: "unauthorized_client"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log.Clear()
			resp := c.do()
			entries := log.Entries(nil)
			if len(entries) != 1 {
				t.Fatalf("%d entries, want 1: %+v", len(entries), entries)
			}
			got := entries[0]
			if got.Status != resp.StatusCode {
				t.Errorf("entry status %d, response %d", got.Status, resp.StatusCode)
			}
			if got.ClientID != c.want.ClientID || got.GrantType != c.want.GrantType || got.AuthMethod != c.want.AuthMethod ||
				got.Scope != c.want.Scope || got.Error != c.want.Error || !samePKCE(got.PKCE, c.want.PKCE) {
				t.Errorf("entry %s, want %s", describe(got), describe(c.want))
			}
		})
	}
}

func samePKCE(a, b *bool) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func describe(e requestlog.Entry) string {
	pkce := "-"
	if e.PKCE != nil {
		pkce = map[bool]string{true: "yes", false: "no"}[*e.PKCE]
	}
	return strings.Join([]string{"client=" + e.ClientID, "grant=" + e.GrantType, "auth=" + e.AuthMethod,
		"pkce=" + pkce, "scope=" + e.Scope, "error=" + e.Error}, " ")
}

// reply is a response as read by get and postForm.
type reply struct {
	StatusCode int
	Header     http.Header
	body       []byte
}

func get(t *testing.T, c *http.Client, u string) *reply {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &reply{resp.StatusCode, resp.Header, body}
}

// postForm posts a form, with Basic credentials when id is not empty.
func postForm(t *testing.T, u string, form url.Values, id, secret string) *reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &reply{resp.StatusCode, resp.Header, body}
}

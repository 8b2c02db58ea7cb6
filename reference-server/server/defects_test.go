package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
	"golang.org/x/oauth2"
)

// world is a running server plus what the probes need to talk to it.
type world struct {
	t     *testing.T
	srv   *server.Server
	creds map[string]string
	paul  *servertest.Browser // logged in as paul once, reused
}

func (w *world) admin(method, path string, body any) (int, []byte) {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.srv.IssuerURL()+"/admin"+path, rd)
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// token posts a token request; auth is "basic:id:secret" or "" (credentials in form).
func (w *world) token(form url.Values, basicID, basicSecret string) (int, map[string]any) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.srv.IssuerURL()+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(basicID, basicSecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (w *world) api(method, path, token string) int {
	w.t.Helper()
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader(`{"name":"Probe"}`)
	}
	req, _ := http.NewRequest(method, w.srv.APIBaseURL()+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (w *world) cc(client string, extra url.Values) (int, map[string]any) {
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range extra {
		form[k] = v
	}
	return w.token(form, client, w.creds[client])
}

// authorize runs contacts-web's authorization request for paul (first party: no consent page).
func (w *world) authorize(mutate func(url.Values)) servertest.Authorization {
	q := url.Values{"response_type": {"code"}, "client_id": {"contacts-web"}, "redirect_uri": {"https://app.contacts.example/callback"},
		"scope": {"openid offline_access read:contacts"}, "state": {"st-1"}}
	if mutate != nil {
		mutate(q)
	}
	paul := servertest.Credentials(w.t).Users["paul"]
	return w.paul.Authorize(w.srv.IssuerURL()+"/authorize?"+q.Encode(), paul.Email, paul.Password, "allow")
}

// code gets a code for contacts-web with an S256 challenge of verifier ("" for no PKCE).
func (w *world) code(verifier string) string {
	a := w.authorize(func(q url.Values) {
		if verifier != "" {
			q.Set("code_challenge", oauth2.S256ChallengeFromVerifier(verifier))
			q.Set("code_challenge_method", "S256")
		}
	})
	if a.Redirect == nil || a.Redirect.Query().Get("code") == "" {
		w.t.Fatalf("no code: %+v", a)
	}
	return a.Redirect.Query().Get("code")
}

func (w *world) redeem(client, code, verifier string) (int, map[string]any) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://app.contacts.example/callback"}}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return w.token(form, client, w.creds[client])
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

// Every authorization-server defect switch, turned on through the admin API, makes the server
// misbehave in exactly its way; off (the default), the same probe sees a conformant server. This is
// what the conformance suite relies on to prove it can fail.
func TestEachDefectSwitchChangesExactlyItsBehaviour(t *testing.T) {
	srv := servertest.Start(t, server.Options{})
	w := &world{t: t, srv: srv, creds: servertest.Credentials(t).Clients, paul: servertest.NewBrowser(t, srv.Addr())}
	v1, v2 := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	probes := map[defects.Name]func() bool{ // true: the server misbehaved
		defects.ASSkipsPKCE:            func() bool { c, _ := w.redeem("contacts-web", w.code(v1), v2); return c == 200 },
		defects.ASAcceptsPKCEDowngrade: func() bool { c, _ := w.redeem("contacts-web", w.code(""), v1); return c == 200 },
		defects.ASAllowsCodeReplay: func() bool {
			code := w.code(v1)
			w.redeem("contacts-web", code, v1)
			c, _ := w.redeem("contacts-web", code, v1)
			return c == 200
		},
		defects.ASCodeNotBoundToClient: func() bool { c, _ := w.redeem("acme-cms", w.code(v1), v1); return c == 200 },
		defects.ASNoRefreshRotation: func() bool {
			_, tok := w.redeem("contacts-web", w.code(v1), v1)
			rt := str(tok, "refresh_token")
			_, next := w.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "contacts-web", w.creds["contacts-web"])
			return rt != "" && str(next, "refresh_token") == rt
		},
		defects.ASAcceptsPlainPKCE: func() bool {
			a := w.authorize(func(q url.Values) { q.Set("code_challenge", v1); q.Set("code_challenge_method", "plain") })
			return a.Redirect != nil && a.Redirect.Query().Get("code") != ""
		},
		defects.ASPrefixRedirectMatch: func() bool {
			a := w.authorize(func(q url.Values) { q.Set("redirect_uri", "https://app.contacts.example/callback/../../evil") })
			return a.Redirect != nil
		},
		defects.ASDropsState: func() bool {
			a := w.authorize(nil)
			return a.Redirect != nil && a.Redirect.Query().Get("state") == ""
		},
		defects.ASOmitsIssParameter: func() bool {
			a := w.authorize(nil)
			return a.Redirect != nil && a.Redirect.Query().Get("iss") == ""
		},
		defects.ASSkipsConsent: func() bool {
			mary := servertest.Credentials(t).Users["mary"]
			b := servertest.NewBrowser(t, srv.Addr())
			q := url.Values{"response_type": {"code"}, "client_id": {"acme-cms"}, "redirect_uri": {"https://cms.acme.example/oauth/callback"},
				"scope": {"read:contacts"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v1)}, "code_challenge_method": {"S256"}}
			a := b.Authorize(srv.IssuerURL()+"/authorize?"+q.Encode(), mary.Email, mary.Password, "deny")
			return !a.ConsentShown && a.Redirect != nil && a.Redirect.Query().Get("code") != ""
		},
		defects.ASScopesBeyondGrant: func() bool {
			_, tok := w.cc("acme-sync", url.Values{"scope": {"read:contacts update:contacts"}})
			return strings.Contains(str(tok, "scope"), "update:contacts")
		},
		defects.ASIgnoresClientGrant: func() bool {
			c, _ := w.cc("acme-sync", url.Values{"audience": {"https://reports.contacts.example"}})
			return c == 200
		},
		defects.ASAcceptsWrongSecret: func() bool {
			c, _ := w.token(url.Values{"grant_type": {"client_credentials"}}, "acme-sync", "not-the-secret")
			return c == 200
		},
		defects.ASLongLivedAccessTokens: func() bool {
			_, tok := w.cc("acme-sync", nil)
			n, _ := tok["expires_in"].(float64)
			return n > 3600
		},
		defects.APISkipsAudience: func() bool {
			// A token of this issuer, signed with its key, but for another API.
			m := &tokens.Minter{Issuer: srv.IssuerURL(), Keys: servertest.Keys(t), AccountClaim: "https://contacts.example/accounts"}
			now := time.Now()
			tok, err := m.AccessToken(&tenant.API{Identifier: "https://other-api.example", SigningAlg: tenant.RS256},
				&tokens.AccessClaims{Issuer: srv.IssuerURL(), Subject: "acme-sync", Audience: "https://other-api.example",
					IssuedAt: now.Unix(), Expiry: now.Add(time.Hour).Unix(), JTI: "probe-aud", ClientID: "acme-sync",
					Scope: "read:contacts", GrantType: tokens.GrantTypeClientCredentials}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return w.api(http.MethodGet, "/accounts/globex/contacts", tok) == 200
		},
		defects.APISkipsScopeCheck: func() bool {
			_, tok := w.cc("acme-sync", nil)
			return w.api(http.MethodPost, "/accounts/globex/contacts", str(tok, "access_token")) == 201
		},
		defects.APIIgnoresAccount: func() bool {
			_, tok := w.redeem("contacts-web", w.code(v1), v1)
			return w.api(http.MethodGet, "/accounts/initech/contacts", str(tok, "access_token")) == 200
		},
		defects.APIAcceptsQueryToken: func() bool {
			_, tok := w.cc("acme-sync", nil)
			return w.api(http.MethodGet, "/accounts/globex/contacts?access_token="+str(tok, "access_token"), "") == 200
		},
	}
	for name, probe := range probes {
		t.Run(string(name), func(t *testing.T) {
			w.t = t
			if status, body := w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{}}); status != 200 {
				t.Fatalf("reset defects: %d %s", status, body)
			}
			if probe() {
				t.Fatalf("with every switch off, the server already misbehaves as %s", name)
			}
			if status, body := w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{string(name)}}); status != 200 {
				t.Fatalf("turn on: %d %s", status, body)
			}
			if !probe() {
				t.Errorf("%s is on, but the server behaves conformantly", name)
			}
		})
	}
	w.t = t
	w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{}})
}

func TestDefectsFromTheTenantShowInHealth(t *testing.T) {
	cfg := servertest.Tenant(t)
	cfg.Defects = []string{string(defects.ASSkipsPKCE)}
	s := servertest.Start(t, server.Options{Tenant: cfg})
	if code, body := get(t, s.IssuerURL()+"/healthz", ""); code != 200 || !strings.Contains(body, `"defects_on":["as-skips-pkce"]`) {
		t.Errorf("healthz: %d %s", code, body)
	}
	w := &world{t: t, srv: s}
	if code, body := w.admin(http.MethodPut, "/defects", map[string]any{"on": []string{"no-such-defect"}}); code != 400 || !strings.Contains(string(body), "no-such-defect") {
		t.Errorf("unknown defect: %d %s", code, body)
	}
	bad := servertest.Tenant(t)
	bad.Defects = []string{"no-such-defect"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "defects[0]") {
		t.Errorf("tenant with an unknown defect: err = %v", err)
	}
}

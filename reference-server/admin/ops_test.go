package admin_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"golang.org/x/oauth2"
)

// Withdrawing a consent through the admin API revokes the grant: the refresh token fails and the
// access token is denied.
func TestConsentRevocation(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	conf := &oauth2.Config{ClientID: "acme-cms", ClientSecret: servertest.Credentials(t).Clients["acme-cms"],
		RedirectURL: "https://cms.acme.example/oauth/callback", Scopes: []string{"openid", "offline_access", "read:contacts"},
		Endpoint: oauth2.Endpoint{AuthURL: s.IssuerURL() + oauth.PathAuthorize, TokenURL: s.IssuerURL() + oauth.PathToken, AuthStyle: oauth2.AuthStyleInHeader}}
	verifier := oauth2.GenerateVerifier()
	paul := servertest.Credentials(t).Users["paul"]
	got := servertest.NewBrowser(t, s.Addr()).Authorize(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), paul.Email, paul.Password, "allow")
	if got.Redirect == nil || got.Redirect.Query().Get("code") == "" {
		t.Fatalf("no code: %v %.300s", got.Redirect, got.Page)
	}
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, got.Redirect.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
	}
	paulID := s.Tenant.UserByEmail(paul.Email).ID

	list := admin(t, s, http.MethodGet, "/consents?user_id="+paulID+"&client_id=acme-cms", nil)
	if want(t, list, http.StatusOK, ""); len(list.list()) != 1 || !strings.Contains(list.Raw, "read:contacts") {
		t.Fatalf("consents: %s", list.Raw)
	}
	if all := admin(t, s, http.MethodGet, "/consents", nil).list(); len(all) < 1 {
		t.Error("the unfiltered list is empty")
	}
	want(t, admin(t, s, http.MethodDelete, "/consents", nil), http.StatusBadRequest, "user_id")
	want(t, admin(t, s, http.MethodDelete, "/consents?user_id="+paulID+"&client_id=acme-cms", nil), http.StatusNoContent, "")

	if l := admin(t, s, http.MethodGet, "/consents?user_id="+paulID+"&client_id=acme-cms", nil).list(); len(l) != 0 {
		t.Errorf("consent still listed: %v", l)
	}
	_, err = conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after revocation: %v, want invalid_grant", err)
	}
	if st := contacts(t, s, tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("access token after revocation: %d, want 401", st)
	}
}

// Rotation through the admin API as the contacts API sees it: it keeps its cached JWKS until a token
// with an unknown kid makes it fetch again; then a token signed before the rotation verifies only
// if the old key is still published (overlap).
func TestKeyRotationSeenByTheAPI(t *testing.T) {
	const refresh = 50 * time.Millisecond
	cases := []struct {
		name, overlap string
		oldAfter      int // the old token at the API once it has fetched the new JWKS
	}{
		{"with overlap", "30s", http.StatusOK},
		{"without overlap", "0s", http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := servertest.Start(t, server.Options{JWKSRefresh: refresh})
			secret := servertest.Credentials(t).Clients["acme-sync"]
			_, old := clientCredentials(t, s, "acme-sync", secret)
			if st := contacts(t, s, old); st != http.StatusOK {
				t.Fatalf("before rotation: %d", st)
			}
			oldKID := s.Provider.Keys.Active("RS256").KID
			r := admin(t, s, http.MethodPost, "/keys/rotate", map[string]any{"alg": "RS256", "overlap": tc.overlap})
			want(t, r, http.StatusOK, "")
			if r.str("kid") == "" || r.str("kid") == oldKID {
				t.Fatalf("rotate: %s", r.Raw)
			}
			published := strings.Contains(do(t, http.MethodGet, s.IssuerURL()+oauth.PathJWKS, "", nil).Raw, oldKID)
			if published != (tc.oldAfter == http.StatusOK) {
				t.Errorf("old kid in the JWKS = %v after rotating with overlap %s", published, tc.overlap)
			}
			if st := contacts(t, s, old); st != http.StatusOK {
				t.Errorf("old token, API cache not yet refreshed: %d, want 200 (the cached key)", st)
			}
			_, fresh := clientCredentials(t, s, "acme-sync", secret)
			time.Sleep(2 * refresh) // the API refetches on an unknown kid at most once per refresh interval
			if st := contacts(t, s, fresh); st != http.StatusOK {
				t.Fatalf("token signed by the new key: %d, want 200 after the API refetched", st)
			}
			if st := contacts(t, s, old); st != tc.oldAfter {
				t.Errorf("token signed before the rotation: %d, want %d", st, tc.oldAfter)
			}
		})
	}
}

func TestKeysAPIErrors(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	if l := admin(t, s, http.MethodGet, "/keys", nil).list(); len(l) != 4 {
		t.Errorf("keys: %v, want 4", l)
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"HS256", map[string]any{"alg": "HS256", "overlap": "0s"}, "alg"},
		{"no alg", map[string]any{"overlap": "0s"}, "alg"},
		{"no overlap", map[string]any{"alg": "ES256"}, "overlap"},
		{"bad overlap", map[string]any{"alg": "ES256", "overlap": "a while"}, "overlap"},
		{"negative overlap", map[string]any{"alg": "ES256", "overlap": "-1s"}, "overlap"},
		{"overlap as a number", `{"alg":"ES256","overlap":30}`, "overlap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want(t, admin(t, s, http.MethodPost, "/keys/rotate", tc.body), http.StatusBadRequest, tc.field)
		})
	}
}

func TestRequestLog(t *testing.T) {
	s := servertest.Start(t, server.Options{})
	reg := do(t, http.MethodPost, s.IssuerURL()+oauth.PathRegister, "", map[string]any{"redirect_uris": []string{"https://x.example/cb"}})
	dcr, _ := reg.Body.(map[string]any)["client_id"].(string)
	_, tok := clientCredentials(t, s, "acme-sync", servertest.Credentials(t).Clients["acme-sync"])
	contacts(t, s, tok)
	for _, p := range []string{"/healthz", oauth.PathOIDCDiscovery, oauth.PathJWKS} {
		do(t, http.MethodGet, s.IssuerURL()+p, "", nil)
	}

	all := admin(t, s, http.MethodGet, "/requests", nil)
	want(t, all, http.StatusOK, "")
	var paths []string
	for _, e := range all.list() {
		paths = append(paths, e.(map[string]any)["path"].(string))
	}
	if strings.Join(paths, " ") != oauth.PathRegister+" "+oauth.PathToken+" /api/accounts/globex/contacts" {
		t.Errorf("logged paths %v: want registration, token and API calls only (no health, discovery, JWKS or admin)", paths)
	}
	byClient := admin(t, s, http.MethodGet, "/requests?client_id="+dcr, nil).list()
	if len(byClient) != 1 || byClient[0].(map[string]any)["status"] != float64(http.StatusCreated) {
		t.Errorf("entries for %s: %v", dcr, byClient)
	}
	// The token endpoint names its client (the oauth package annotates the entry).
	sawToken := false
	for _, e := range admin(t, s, http.MethodGet, "/requests?client_id=acme-sync", nil).list() {
		m := e.(map[string]any)
		if m["client_id"] != "acme-sync" {
			t.Errorf("the client_id filter let through %v", m)
		}
		sawToken = sawToken || (m["path"] == oauth.PathToken && m["grant_type"] == "client_credentials")
	}
	if !sawToken {
		t.Error("no token request logged for acme-sync")
	}
	filters := []struct {
		query string
		n     int
	}{
		{"path=" + url.QueryEscape(oauth.PathToken), 1},
		{"since=1m", 3},
		{"since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), 0},
		{"client_id=nobody", 0},
	}
	for _, f := range filters {
		if got := admin(t, s, http.MethodGet, "/requests?"+f.query, nil); len(got.list()) != f.n || got.Body == nil {
			t.Errorf("?%s: %s, want %d entries", f.query, got.Raw, f.n)
		}
	}
	want(t, admin(t, s, http.MethodGet, "/requests?since=yesterday", nil), http.StatusBadRequest, "since")
	want(t, admin(t, s, http.MethodDelete, "/requests", nil), http.StatusNoContent, "")
	if l := admin(t, s, http.MethodGet, "/requests", nil).list(); len(l) != 0 {
		t.Errorf("after clearing: %v", l)
	}
}

package oauth_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"golang.org/x/oauth2/clientcredentials"
)

func getJSON(t *testing.T, u string, v any) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: not JSON: %v", u, err)
	}
	return resp
}

func TestDiscoveryDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	var docs []map[string]any
	for _, path := range []string{oauth.PathOIDCDiscovery, oauth.PathOAuthDiscovery} {
		t.Run(strings.TrimPrefix(path, "/.well-known/"), func(t *testing.T) {
			var md oauth.Metadata
			getJSON(t, e.url(path), &md)
			var raw map[string]any
			resp := getJSON(t, e.url(path), &raw)
			docs = append(docs, raw)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if md.Issuer != e.issuer || md.Issuer != e.srv.IssuerURL() {
				t.Errorf("issuer = %q, want %q", md.Issuer, e.issuer)
			}
			for name, want := range map[string]string{
				"authorization_endpoint": oauth.PathAuthorize, "token_endpoint": oauth.PathToken,
				"userinfo_endpoint": oauth.PathUserInfo, "jwks_uri": oauth.PathJWKS,
				"introspection_endpoint": oauth.PathIntrospect, "revocation_endpoint": oauth.PathRevoke,
			} {
				if raw[name] != e.url(want) {
					t.Errorf("%s = %v, want %s", name, raw[name], e.url(want))
				}
			}
			checkEndpointsAnswer(t, md)
			confidential := []string{"client_secret_basic", "client_secret_post", "private_key_jwt"}
			assertionAlgs := []string{"EdDSA", "ES256", "PS256", "RS256"}
			for field, c := range map[string]struct{ got, want []string }{
				"grant_types_supported":                                    {md.GrantTypesSupported, []string{"authorization_code", "client_credentials", "implicit", "password", "refresh_token"}},
				"response_types_supported":                                 {md.ResponseTypesSupported, []string{"code", "id_token token"}},
				"response_modes_supported":                                 {md.ResponseModesSupported, []string{"fragment", "query"}},
				"code_challenge_methods_supported":                         {md.CodeChallengeMethodsSupported, []string{"S256"}},
				"id_token_signing_alg_values_supported":                    {md.IDTokenSigningAlgValuesSupported, []string{"RS256"}},
				"token_endpoint_auth_methods_supported":                    {md.TokenEndpointAuthMethodsSupported, append([]string{"none"}, confidential...)},
				"introspection_endpoint_auth_methods_supported":            {md.IntrospectionAuthMethods, confidential},
				"revocation_endpoint_auth_methods_supported":               {md.RevocationAuthMethods, append([]string{"none"}, confidential...)},
				"token_endpoint_auth_signing_alg_values_supported":         {md.TokenEndpointAuthSigningAlgs, assertionAlgs},
				"introspection_endpoint_auth_signing_alg_values_supported": {md.IntrospectionAuthSigningAlgs, assertionAlgs},
				"revocation_endpoint_auth_signing_alg_values_supported":    {md.RevocationAuthSigningAlgs, assertionAlgs},
			} {
				if got := slices.Sorted(slices.Values(c.got)); !slices.Equal(got, slices.Sorted(slices.Values(c.want))) {
					t.Errorf("%s = %v, want exactly %v", field, c.got, c.want)
				}
			}
			// Registration is mounted (and advertised) by package server, not here.
			if b, _ := json.Marshal(e.srv.Provider.Metadata()); strings.Contains(string(b), "registration_endpoint") {
				t.Error("package oauth advertises registration_endpoint")
			}
			if !md.AuthorizationResponseIssParameter {
				t.Error("authorization_response_iss_parameter_supported is false, but the server sends iss")
			}
			for _, s := range []string{"openid", "offline_access", "read:contacts", "update:contacts", "read:reports", "read:invoices"} {
				if !slices.Contains(md.ScopesSupported, s) {
					t.Errorf("scopes_supported %v lacks %s", md.ScopesSupported, s)
				}
			}
		})
	}
	if len(docs) == 2 && !reflect.DeepEqual(docs[0], docs[1]) {
		t.Errorf("the two discovery documents differ:\n%v\n%v", docs[0], docs[1])
	}
}

// checkEndpointsAnswer calls each advertised endpoint the way a client that knows nothing would.
func checkEndpointsAnswer(t *testing.T, md oauth.Metadata) {
	t.Helper()
	cases := []struct {
		name, method, url string
		status            int
		contentType       string
	}{
		{"authorization_endpoint without parameters", http.MethodGet, md.AuthorizationEndpoint, http.StatusBadRequest, "text/html"},
		{"token_endpoint by GET", http.MethodGet, md.TokenEndpoint, http.StatusMethodNotAllowed, "application/json"},
		{"token_endpoint empty POST", http.MethodPost, md.TokenEndpoint, http.StatusBadRequest, "application/json"},
		{"userinfo_endpoint without token", http.MethodGet, md.UserinfoEndpoint, http.StatusUnauthorized, "application/json"},
		{"jwks_uri", http.MethodGet, md.JWKSURI, http.StatusOK, "application/jwk-set+json"},
		{"introspection_endpoint by GET", http.MethodGet, md.IntrospectionEndpoint, http.StatusMethodNotAllowed, "application/json"},
		{"introspection_endpoint empty POST", http.MethodPost, md.IntrospectionEndpoint, http.StatusBadRequest, "application/json"},
		{"revocation_endpoint by GET", http.MethodGet, md.RevocationEndpoint, http.StatusMethodNotAllowed, "application/json"},
		{"revocation_endpoint empty POST", http.MethodPost, md.RevocationEndpoint, http.StatusBadRequest, "application/json"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, c.url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.contentType) {
			t.Errorf("%s: %d %s, want %d %s", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status, c.contentType)
		}
	}
}

func TestJWKS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, e.url(oauth.PathJWKS), &raw)
	set := e.jwks(t)
	if len(set.Keys) != 4 || len(raw.Keys) != 4 {
		t.Fatalf("JWKS has %d keys, want 4 (RS256, PS256, ES256, EdDSA)", len(set.Keys))
	}
	kids := map[string]bool{}
	var algs []string
	for i, k := range set.Keys {
		if k.KeyID == "" {
			t.Errorf("key %d (%s) has no kid", i, k.Algorithm)
		}
		if kids[k.KeyID] {
			t.Errorf("kid %q is used twice", k.KeyID)
		}
		kids[k.KeyID] = true
		algs = append(algs, k.Algorithm)
		if !k.IsPublic() || k.Use != "sig" {
			t.Errorf("key %s: public %v, use %q; want a public signing key", k.KeyID, k.IsPublic(), k.Use)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := raw.Keys[i][private]; ok {
				t.Errorf("key %s publishes the private or symmetric member %q", k.KeyID, private)
			}
		}
	}
	slices.Sort(algs)
	if want := []string{string(jose.ES256), string(jose.EdDSA), string(jose.PS256), string(jose.RS256)}; !slices.Equal(algs, want) {
		t.Errorf("JWKS algorithms %v, want %v", algs, want)
	}
}

// TestAdvertisedGrantTypesAreExactlyThoseThatWork runs each advertised grant (implicit at the
// authorization endpoint, the others at the token endpoint), and checks that grants the server does
// not advertise are refused as unsupported.
func TestAdvertisedGrantTypesAreExactlyThoseThatWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	var md oauth.Metadata
	getJSON(t, e.url(oauth.PathOIDCDiscovery), &md)

	f := e.flow("contacts-web", "openid", "offline_access", "read:contacts")
	tok := e.tokens(e.loggedIn("paul"), f, "") // authorization_code
	works := map[string]bool{"authorization_code": tok.AccessToken != ""}
	rt := e.refresh("contacts-web", tok.RefreshToken, "")
	works["refresh_token"] = rt.Status == http.StatusOK && rt.str("access_token") != ""
	cc := clientcredentials.Config{ClientID: "acme-sync", ClientSecret: e.creds.Clients["acme-sync"], TokenURL: md.TokenEndpoint}
	ccTok, err := cc.Token(e.ctx)
	works["client_credentials"] = err == nil && ccTok.AccessToken != ""
	paul := e.user("paul")
	pwTok, err := e.config("ops-console", "read:contacts").PasswordCredentialsToken(e.ctx, paul.Email, paul.Password)
	works["password"] = err == nil && pwTok.AccessToken != ""
	q := implicitQuery()
	works["implicit"] = e.redirectedToFragment(e.loggedIn("paul").get(e.authorizeURL(q)), legacyCallback, q.Get("state")).Get("access_token") != ""
	for _, g := range md.GrantTypesSupported {
		if !works[g] {
			t.Errorf("grant type %q is advertised but does not work", g)
		}
	}
	for g := range works {
		if !slices.Contains(md.GrantTypesSupported, g) {
			t.Errorf("grant type %q works but is not advertised", g)
		}
	}

	unadvertised := []struct {
		grant, client string
		extra         url.Values
	}{
		// implicit is a flow of the authorization endpoint, never a token-endpoint grant.
		{"implicit", "contacts-legacy-spa", nil},
		{"urn:ietf:params:oauth:grant-type:device_code", "contacts-mobile", url.Values{"device_code": {"x"}}},
		{"urn:ietf:params:oauth:grant-type:token-exchange", "acme-sync", url.Values{"subject_token": {ccTok.AccessToken}}},
		{"urn:ietf:params:oauth:grant-type:jwt-bearer", "acme-sync", url.Values{"assertion": {ccTok.AccessToken}}},
	}
	for _, c := range unadvertised {
		form, opts := e.clientAuth(c.client)
		form.Set("grant_type", c.grant)
		for k, v := range c.extra {
			form[k] = v
		}
		r := e.token(form, opts...)
		if r.Status == http.StatusOK {
			t.Errorf("grant %q (not advertised) issued tokens", c.grant)
		}
		expectError(t, r, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// TestAdvertisedAuthMethodsWork: every advertised client authentication method authenticates a
// client at the token, introspection and revocation endpoints that advertise it.
func TestAdvertisedAuthMethodsWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Options{})
	var md oauth.Metadata
	getJSON(t, e.url(oauth.PathOIDCDiscovery), &md)
	// A client registered with each method, and a token of that client to introspect and revoke.
	clients := map[string]string{"client_secret_basic": "acme-sync", "client_secret_post": "contacts-importer",
		"private_key_jwt": bot, "none": "contacts-mobile"}
	tokenOf := func(t *testing.T, client string) string {
		if client == "contacts-mobile" {
			return e.in(t).tokens(e.loggedIn("paul"), e.flow(client, "read:contacts"), "").AccessToken
		}
		return e.ccToken(t, client, contactsAPI)
	}
	for _, ep := range []struct {
		path    string
		methods []string
	}{
		{oauth.PathToken, md.TokenEndpointAuthMethodsSupported},
		{oauth.PathIntrospect, md.IntrospectionAuthMethods},
		{oauth.PathRevoke, md.RevocationAuthMethods},
	} {
		for _, m := range ep.methods {
			t.Run(ep.path+" "+m, func(t *testing.T) {
				client := clients[m]
				if client == "" {
					t.Fatalf("no client of the tenant uses %s", m)
				}
				tok := tokenOf(t, client)
				if ep.path == oauth.PathToken {
					return // tokenOf authenticated at the token endpoint with the client's method
				}
				form, opts := e.in(t).clientAuth(client)
				form.Set("token", tok)
				if r := e.in(t).postTo(ep.path, form, opts...); r.Status != http.StatusOK {
					t.Errorf("%s with %s: %d %s", ep.path, m, r.Status, r.Raw)
				}
			})
		}
	}
}

package oauth_test

// Raw token-endpoint requests, their checks, and JWT helpers.

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"golang.org/x/oauth2"
)

// tokenReply is a raw token-endpoint answer.
type tokenReply struct {
	Status int
	Header http.Header
	JSON   map[string]any
	Raw    string
}

func (r *tokenReply) str(k string) string {
	s, _ := r.JSON[k].(string)
	return s
}

func (r *tokenReply) err() string { return r.str("error") }

type reqOpt func(*http.Request)

// basicAuth authenticates as RFC 6749 §2.3.1 says: both halves form-urlencoded.
func basicAuth(id, secret string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret)) }
}

func header(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// token posts a form to the token endpoint.
func (e *env) token(form url.Values, opts ...reqOpt) *tokenReply {
	return e.tokenRaw(http.MethodPost, form.Encode(), append([]reqOpt{header("Content-Type", "application/x-www-form-urlencoded")}, opts...)...)
}

// tokenRaw sends any request to the token endpoint. It checks Cache-Control: no-store on every
// answer and a JSON error member on every failure. It is safe to call from several goroutines.
func (e *env) tokenRaw(method, body string, opts ...reqOpt) *tokenReply {
	req, err := http.NewRequest(method, e.url(oauth.PathToken), strings.NewReader(body))
	if err != nil {
		e.t.Errorf("token request: %v", err)
		return &tokenReply{}
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Errorf("token request: %v", err)
		return &tokenReply{}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &tokenReply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if err := json.Unmarshal(raw, &r.JSON); err != nil {
		e.t.Errorf("token endpoint answered %d with a body that is not JSON: %q", r.Status, raw)
	}
	if !hasNoStore(resp.Header) {
		e.t.Errorf("token endpoint answered %d without Cache-Control: no-store", r.Status)
	}
	if r.Status != http.StatusOK && r.err() == "" {
		e.t.Errorf("token endpoint answered %d without an error member: %s", r.Status, raw)
	}
	return r
}

// clientAuth returns the request options that authenticate clientID as registered.
func (e *env) clientAuth(clientID string) (url.Values, []reqOpt) {
	app := e.app(clientID)
	form := url.Values{}
	switch app.TokenEndpointAuthMethod {
	case tenant.AuthClientSecretBasic:
		return form, []reqOpt{basicAuth(clientID, e.creds.Clients[clientID])}
	case tenant.AuthClientSecretPost:
		form.Set("client_id", clientID)
		form.Set("client_secret", e.creds.Clients[clientID])
	case tenant.AuthPrivateKeyJWT:
		form.Set("client_assertion_type", oauth.AssertionTypeJWTBearer)
		form.Set("client_assertion", e.assertion(e.t, clientID, nil))
	default:
		form.Set("client_id", clientID)
	}
	return form, nil
}

// refresh sends a refresh_token grant for clientID, authenticated as registered.
func (e *env) refresh(clientID, rt, scope string) *tokenReply {
	form, opts := e.clientAuth(clientID)
	form.Set("grant_type", "refresh_token")
	form.Set("refresh_token", rt)
	if scope != "" {
		form.Set("scope", scope)
	}
	return e.token(form, opts...)
}

// expectError checks a token-endpoint failure.
func expectError(t testing.TB, r *tokenReply, status int, code string) {
	t.Helper()
	if r.Status != status || r.err() != code {
		t.Errorf("got %d %q (%s), want %d %q", r.Status, r.err(), r.str("error_description"), status, code)
	}
}

// retrieveError checks that an x/oauth2 call failed with this OAuth error code.
func retrieveError(t testing.TB, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	switch {
	case err == nil:
		t.Errorf("the request succeeded, want %s", code)
	case !errors.As(err, &re):
		t.Errorf("error %v, want an OAuth %s", err, code)
	case re.ErrorCode != code:
		t.Errorf("error %q (%s), want %q", re.ErrorCode, re.ErrorDescription, code)
	}
}

// jwtParts are a JWT's decoded header and claims, unverified.
type jwtParts struct {
	Header map[string]any
	Claims map[string]any
}

func decodeJWT(t testing.TB, raw string) jwtParts {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", raw)
	}
	var out jwtParts
	for i, dst := range []*map[string]any{&out.Header, &out.Claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("decode JWT part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("JWT part %d is not JSON: %v", i, err)
		}
	}
	return out
}

// verifyJWKS checks raw's signature with the key its kid names in the published JWKS.
func (e *env) verifyJWKS(t testing.TB, raw string, alg jose.SignatureAlgorithm) {
	t.Helper()
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("parse %s token: %v", alg, err)
	}
	keys := e.jwks(t).Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q names %d keys of the JWKS", jws.Signatures[0].Header.KeyID, len(keys))
	}
	if _, err := jws.Verify(keys[0]); err != nil {
		t.Errorf("the %s token does not verify with its JWKS key: %v", alg, err)
	}
}

// checkSignature verifies an access token: HS256 with the API's shared secret, others with the JWKS.
func (e *env) checkSignature(t testing.TB, raw, alg, audience string) {
	t.Helper()
	if alg != string(jose.HS256) {
		e.verifyJWKS(t, raw, jose.SignatureAlgorithm(alg))
		return
	}
	api := e.srv.Tenant.API(audience)
	if api == nil {
		t.Fatalf("no API %q", audience)
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("parse HS256 token: %v", err)
	}
	if _, err := jws.Verify([]byte(api.SigningSecret)); err != nil {
		t.Errorf("the HS256 token does not verify with the API's secret: %v", err)
	}
}

func (e *env) jwks(t testing.TB) *jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(e.url(oauth.PathJWKS))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode the JWKS: %v", err)
	}
	return &set
}

// apiGet calls the contacts API with an access token and returns the status.
func (e *env) apiGet(t testing.TB, accessToken, path string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.APIBaseURL()+path, nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

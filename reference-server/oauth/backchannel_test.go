package oauth_test

// Helpers for the introspection and revocation endpoints, and client assertions (private_key_jwt).

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
)

// postTo posts a form to a back-channel endpoint. Every answer must forbid caching; a body, when
// there is one, must be JSON, and a failure must carry an error member.
func (e *env) postTo(path string, form url.Values, opts ...reqOpt) *tokenReply {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, o := range opts {
		o(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &tokenReply{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.JSON); err != nil {
			e.t.Errorf("%s answered %d with a body that is not JSON: %q", path, r.Status, raw)
		}
	}
	if !hasNoStore(resp.Header) {
		e.t.Errorf("%s answered %d without Cache-Control: no-store", path, r.Status)
	}
	if r.Status != http.StatusOK && r.err() == "" {
		e.t.Errorf("%s answered %d without an error member: %s", path, r.Status, raw)
	}
	return r
}

// introspect asks about token as caller, authenticated as registered.
func (e *env) introspect(caller, token, hint string) *tokenReply {
	e.t.Helper()
	return e.backChannel(oauth.PathIntrospect, caller, token, hint)
}

// revoke revokes token as caller, authenticated as registered.
func (e *env) revoke(caller, token, hint string) *tokenReply {
	e.t.Helper()
	return e.backChannel(oauth.PathRevoke, caller, token, hint)
}

func (e *env) backChannel(path, caller, token, hint string) *tokenReply {
	e.t.Helper()
	form, opts := e.clientAuth(caller)
	form.Set("token", token)
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	return e.postTo(path, form, opts...)
}

// active reports the active member of an introspection answer, failing the test on an error.
func active(t testing.TB, r *tokenReply) bool {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("introspection answered %d %s", r.Status, r.Raw)
	}
	a, ok := r.JSON["active"].(bool)
	if !ok {
		t.Fatalf("introspection answer without a boolean active: %s", r.Raw)
	}
	return a
}

// inactive checks that an introspection answer is exactly {"active":false} (RFC 7662 §2.2: nothing
// else about an inactive token is revealed).
func inactive(t testing.TB, r *tokenReply) {
	t.Helper()
	if r.Status != http.StatusOK || strings.TrimSpace(r.Raw) != `{"active":false}` {
		t.Errorf("introspection answered %d %s, want exactly {\"active\":false}", r.Status, r.Raw)
	}
}

// assertion signs a client assertion for clientID with its key from credentials.yaml: by default
// iss = sub = clientID, aud = the token endpoint, a fresh jti, iat now, exp in two minutes. Entries
// of set replace claims; a nil value removes one.
func (e *env) assertion(t testing.TB, clientID string, set map[string]any) string {
	t.Helper()
	key, err := e.creds.ClientKey(clientID)
	if err != nil {
		t.Fatal(err)
	}
	return e.signAssertion(t, jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, clientID, set)
}

// signAssertion signs the claims of assertion with any key (a wrong one, for the tests).
func (e *env) signAssertion(t testing.TB, key jose.SigningKey, clientID string, set map[string]any) string {
	t.Helper()
	now := e.now()
	claims := map[string]any{"iss": clientID, "sub": clientID, "aud": e.url(oauth.PathToken),
		"jti": randomString(), "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix()}
	for k, v := range set {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(key, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// withAssertion authenticates a form with a client assertion.
func withAssertion(form url.Values, assertion string) url.Values {
	form.Set("client_assertion_type", oauth.AssertionTypeJWTBearer)
	form.Set("client_assertion", assertion)
	return form
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package steps

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// client_secret_jwt (RFC 7523 §2.2, OIDC Core §9): an HS256 assertion keyed with the client's
// secret, naming the client as iss and sub and the token endpoint as aud, with a fresh jti.
func TestClientSecretJWTAssertion(t *testing.T) {
	c := target.Client{ClientID: "cms", ClientSecret: "a-shared-secret-of-at-least-32-bytes!", AuthMethod: "client_secret_jwt"}
	a1, err := clientAssertion(c, "https://as.example/token")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := clientAssertion(c, "https://as.example/token")
	var claims [2]map[string]any
	for i, a := range []string{a1, a2} {
		jws, err := jose.ParseSigned(a, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			t.Fatal(err)
		}
		payload, err := jws.Verify([]byte(c.ClientSecret))
		if err != nil {
			t.Fatalf("the assertion does not verify with the client's secret: %v", err)
		}
		if err := json.Unmarshal(payload, &claims[i]); err != nil {
			t.Fatal(err)
		}
	}
	cl := claims[0]
	if cl["iss"] != "cms" || cl["sub"] != "cms" || cl["aud"] != "https://as.example/token" {
		t.Errorf("claims %v", cl)
	}
	if exp := int64(cl["exp"].(float64)); exp <= time.Now().Unix() || exp > time.Now().Add(5*time.Minute).Unix() {
		t.Errorf("exp %d: want a short lifetime", exp)
	}
	if cl["jti"] == "" || cl["jti"] == claims[1]["jti"] {
		t.Errorf("jti %v and %v: want a fresh one each time", cl["jti"], claims[1]["jti"])
	}
	if _, err := clientAssertion(target.Client{ClientID: "x", AuthMethod: "client_secret_jwt", ClientSecret: ""}, "aud"); err == nil {
		t.Error("an empty secret signed an assertion")
	}
}

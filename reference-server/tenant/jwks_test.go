package tenant_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"gopkg.in/yaml.v3"
)

// Public keys of a private_key_jwt client (the EC one is the reference tenant's Acme Reports Bot).
const (
	ecKey = `{kty: EC, crv: P-256, kid: ec-1, use: sig, alg: ES256,
          x: z38qxA6kjc0O4-SkQcU0jcQYZc73knZRPxDPIzcb6VE, y: 0abzSD67pG1XzZEMFTiYn84G6hEYSB_EBL6uOl-OV5g}`
	ecPrivate = `{kty: EC, crv: P-256, kid: ec-2, x: z38qxA6kjc0O4-SkQcU0jcQYZc73knZRPxDPIzcb6VE,
          y: 0abzSD67pG1XzZEMFTiYn84G6hEYSB_EBL6uOl-OV5g, d: 0fTgbi1OrGK7M7UlI5RdkU4DKLHRqnpd03qy9gpSNrU}`
	edKey   = `{kty: OKP, crv: Ed25519, kid: ed-1, x: "-cpOwtPlb-pKT_5vxlIiYFR0kHeWvLiDV3ArFQ6yz9Y"}`
	octKey  = `{kty: oct, kid: hs-1, k: c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA}`
	rsa1024 = `{kty: RSA, kid: rsa-small, e: AQAB, n: "uGW98GTXfQT6CfTWTzckr81DgZb-kct2FFo973OR1-fFH84xSGTWy4AQXDbKzsTox4Q01kBm9peKbO6YWRphYMo7vrxhSKmKmU6OdU2t9ERgH05NnmDxNyeVWfphtUO2M57a700mVL5NCqzjsrDvp0I71jgJn-T337RY5ug_ooE"}`
	p384Key = `{kty: EC, crv: P-384, kid: p384, x: "-1n5hekFu8Ia8nc6zXdp50tcPbNnIk7ckcwiPZRScm8WmDeCKyPg64eXccy1z0rp",
          y: "DS4YXlGABAP36UpV96zs2_UO2mJpSk-E-UyiN-bLSMKqVJoZyj1rXdctXKQb_tAp"}`
)

// botApp is a private_key_jwt machine-to-machine application with the given jwks YAML.
func botApp(method, jwks string) string {
	app := `
  - name: Bot
    client_id: bot
    type: machine_to_machine
    grant_types: [client_credentials]
    token_endpoint_auth_method: ` + method + "\n"
	if jwks != "" {
		app += "    jwks:\n" + jwks
	}
	return app
}

func keys(k ...string) string {
	return "      keys:\n        - " + strings.Join(k, "\n        - ") + "\n"
}

func TestPrivateKeyJWTApplication(t *testing.T) {
	for name, jwks := range map[string]string{
		"YAML keys":             keys(ecKey, edKey),
		"a JWKS pasted as JSON": `      {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k", "x": "z38qxA6kjc0O4-SkQcU0jcQYZc73knZRPxDPIzcb6VE", "y": "0abzSD67pG1XzZEMFTiYn84G6hEYSB_EBL6uOl-OV5g"}]}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := tenant.Parse([]byte(apiSection + apps(botApp("private_key_jwt", jwks))))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			app := &cfg.Applications[0]
			kid := app.JWKS.Keys[0].KeyID
			if k := app.AssertionKey(kid); k == nil || !k.IsPublic() {
				t.Errorf("AssertionKey(%q) = %+v", kid, k)
			}
			if app.AssertionKey("nope") != nil || app.AssertionKey("") != nil {
				t.Error("AssertionKey found a key for an unknown or empty kid")
			}
			if app.Public() {
				t.Error("a private_key_jwt client is public")
			}
			// The set survives a round trip through JSON and YAML (the admin API shows the tenant).
			b, err := json.Marshal(app)
			if err != nil {
				t.Fatal(err)
			}
			var back tenant.Application
			if err := json.Unmarshal(b, &back); err != nil || back.AssertionKey(kid) == nil {
				t.Errorf("JSON round trip: %v, %s", err, b)
			}
			y, err := yaml.Marshal(app)
			if err != nil {
				t.Fatal(err)
			}
			var backY tenant.Application
			if err := yaml.Unmarshal(y, &backY); err != nil || backY.AssertionKey(kid) == nil {
				t.Errorf("YAML round trip: %v\n%s", err, y)
			}
		})
	}
}

func TestPrivateKeyJWTApplicationRefused(t *testing.T) {
	cases := []struct {
		name string
		app  string
		want []string
	}{
		{"no jwks", botApp("private_key_jwt", ""), []string{"applications[0].jwks", "public keys"}},
		{"empty key list", botApp("private_key_jwt", "      keys: []\n"), []string{"applications[0].jwks.keys", "at least one"}},
		{"private key material", botApp("private_key_jwt", keys(ecKey, ecPrivate)), []string{"applications[0].jwks.keys[1]", "public key"}},
		{"symmetric key", botApp("private_key_jwt", keys(octKey)), []string{"applications[0].jwks.keys[0]", "public key"}},
		{"no kid", botApp("private_key_jwt", keys(strings.Replace(ecKey, "kid: ec-1, ", "", 1))), []string{"applications[0].jwks.keys[0].kid", "required"}},
		{"duplicate kid", botApp("private_key_jwt", keys(ecKey, strings.Replace(edKey, "ed-1", "ec-1", 1))), []string{"applications[0].jwks.keys[1].kid", "ec-1"}},
		{"encryption key", botApp("private_key_jwt", keys(strings.Replace(ecKey, "use: sig", "use: enc", 1))), []string{"applications[0].jwks.keys[0].use", "enc"}},
		{"alg that does not fit the key", botApp("private_key_jwt", keys(strings.Replace(ecKey, "alg: ES256", "alg: RS256", 1))), []string{"applications[0].jwks.keys[0]", "RS256"}},
		{"short RSA key", botApp("private_key_jwt", keys(rsa1024)), []string{"applications[0].jwks.keys[0]", "2048"}},
		{"curve other than P-256", botApp("private_key_jwt", keys(p384Key)), []string{"applications[0].jwks.keys[0]", "P-384"}},
		{"not a JWK", botApp("private_key_jwt", keys(`{kty: XYZ, kid: x}`)), []string{"applications[0].jwks.keys[0]", "not a JSON Web Key"}},
		{"jwks on a secret client", botApp("client_secret_basic", keys(ecKey)) + "    client_secret_sha256: " + secretHash + "\n",
			[]string{"applications[0].jwks", "only private_key_jwt"}},
		{"private_key_jwt with a secret too", botApp("private_key_jwt", keys(ecKey)) + "    client_secret_sha256: " + secretHash + "\n",
			[]string{"applications[0].client_secret_sha256", "key"}},
		{"private_key_jwt for an SPA", strings.NewReplacer("type: machine_to_machine", "type: spa",
			"[client_credentials]", "[authorization_code]").Replace(botApp("private_key_jwt", keys(ecKey))) + "    redirect_uris: [https://spa.example/cb]\n",
			[]string{"applications[0].token_endpoint_auth_method", "private key"}},
		{"unknown method", botApp("tls_client_auth", ""), []string{"applications[0].token_endpoint_auth_method", "private_key_jwt"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tenant.Parse([]byte(apiSection + apps(tc.app)))
			if err == nil {
				t.Fatal("Parse accepted the tenant")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// The password grant is for trusted first parties, the implicit grant for SPAs (with a redirect URI).
func TestPasswordAndImplicitGrantRules(t *testing.T) {
	password := strings.Replace(webApp, "[authorization_code, refresh_token]", "[password]", 1)
	implicitSPA := strings.Replace(spaApp, "[authorization_code]", "[implicit]", 1)
	cases := []struct {
		name string
		app  string
		want string // "" when valid
	}{
		{"password for a first party", strings.Replace(password, "type: regular_web", "type: regular_web\n    first_party: true", 1), ""},
		{"password for a third party", password, "applications[0].grant_types[0]: the password grant is only for trusted first-party"},
		{"implicit for an spa", implicitSPA, ""},
		{"implicit for a web app", strings.Replace(webApp, "[authorization_code, refresh_token]", "[authorization_code, implicit]", 1),
			"applications[0].grant_types[1]: the implicit grant is only for"},
		{"implicit without a redirect URI", strings.Replace(implicitSPA, "    redirect_uris: [https://spa.example/callback]\n", "", 1),
			"applications[0].redirect_uris: implicit needs at least one redirect URI"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tenant.Parse([]byte(apiSection + apps(tc.app)))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Parse refused a valid tenant: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Parse error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

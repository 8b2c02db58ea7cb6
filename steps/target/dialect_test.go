package target_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

func TestDialectDefaultsAreTheStandards(t *testing.T) {
	p, err := target.Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	d := p.Dialect
	if d.Audience != target.AudienceResource || d.AccessTokens.Format != target.FormatRFC9068 ||
		strings.Join(d.AccessTokens.ClientClaims, ",") != "client_id" || d.AccessTokens.ClientSubject {
		t.Errorf("defaults %+v: want RFC 8707 resource, RFC 9068 tokens with client_id, no declared client subject", d)
	}
	api, _ := p.API("Contacts API")
	if got := p.AudienceParams(api); got.Encode() != (url.Values{"resource": {"https://api.example.com"}}).Encode() {
		t.Errorf("audience params %v", got)
	}
	if got := p.ScopeString("openid read:contacts"); got != "openid read:contacts" {
		t.Errorf("unmapped aliases are sent as written, got %q", got)
	}
}

func TestDialectMapsScopesAndAudience(t *testing.T) {
	p, err := target.Parse([]byte(good + `
dialect:
  audience: audience
  scopes: {read:contacts: "contacts.read", update:contacts: "contacts.write"}
  access_tokens: {format: jwt, client_claims: [azp, client_id], client_subject: true}
  origins: ["https://login-ui.example.com"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ScopeString("openid read:contacts update:contacts"); got != "openid contacts.read contacts.write" {
		t.Errorf("scope string %q", got)
	}
	api, _ := p.API("Contacts API")
	if got := p.AudienceParams(api); got.Get("audience") != "https://api.example.com" || got.Has("resource") {
		t.Errorf("audience params %v", got)
	}
	for style, want := range map[string]string{"both": "audience=https%3A%2F%2Fapi.example.com&resource=https%3A%2F%2Fapi.example.com", "none": ""} {
		p.Dialect.Audience = style
		if got := p.AudienceParams(api).Encode(); got != want {
			t.Errorf("%s: %q, want %q", style, got, want)
		}
	}
	if got := strings.Join(p.ProviderOrigins("https://login.example.com:8443/authorize"), " "); got != "https://login.example.com https://login.example.com:8443 https://login-ui.example.com" {
		t.Errorf("origins %q", got)
	}
}

func TestDialectNamesBadFields(t *testing.T) {
	for want, y := range map[string]string{
		"dialect.audience":                       "dialect: {audience: header}",
		"dialect.access_tokens.format":           "dialect: {access_tokens: {format: paseto}}",
		"dialect.access_tokens.client_claims[0]": `dialect: {access_tokens: {client_claims: ["a b"]}}`,
		"dialect.scopes.read":                    `dialect: {scopes: {read: "a b"}}`,
		"dialect.origins[0]":                     `dialect: {origins: ["https://x.example/login"]}`,
		"field colour not found":                 "dialect: {colour: red}",
	} {
		if _, err := target.Parse([]byte("issuer: https://x\n" + y)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

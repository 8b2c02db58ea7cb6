package target_test

import (
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

func TestPartnerProfile(t *testing.T) {
	p, err := target.ParsePartner([]byte(`
name: Acme CMS
client_id: acme-cms-partner
client_secret: s3cret-s3cret
redirect_uri: http://127.0.0.1:7000/oauth/callback
start_url: http://127.0.0.1:7000/enable
scopes: [openid, read:contacts]
uses_id_token: true
background_sync: {url: "http://127.0.0.1:7000/sync"}
enabled_selector: "#integration-enabled"
error_selector: "#integration-error"
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.API != "Contacts API" || p.User != "paul" || p.Sync.Method != "POST" || p.AuthMethod != "client_secret_basic" {
		t.Errorf("defaults not filled: %+v", p)
	}
	bad := map[string]string{
		"start_url":                  "name: a\nclient_id: a\nclient_secret: b\nredirect_uri: http://127.0.0.1/cb\nstart_url: https://cms.acme.example/\nscopes: [x]\nenabled_selector: a\nerror_selector: b\n",
		"scopes":                     "name: a\nclient_id: a\nclient_secret: b\nredirect_uri: http://127.0.0.1/cb\nstart_url: http://127.0.0.1/\nenabled_selector: a\nerror_selector: b\n",
		"client_secret":              "name: a\nclient_id: a\nredirect_uri: http://127.0.0.1/cb\nstart_url: http://127.0.0.1/\nscopes: [x]\nenabled_selector: a\nerror_selector: b\n",
		"field colour not found":     "colour: red\n",
		"background_sync.method":     "name: a\nclient_id: a\nclient_secret: b\nredirect_uri: http://127.0.0.1/cb\nstart_url: http://127.0.0.1/\nscopes: [x]\nenabled_selector: a\nerror_selector: b\nbackground_sync: {url: 'http://127.0.0.1/s', method: PUT}\n",
		"token_endpoint_auth_method": "name: a\nclient_id: a\nclient_secret: b\nredirect_uri: http://127.0.0.1/cb\nstart_url: http://127.0.0.1/\nscopes: [x]\nenabled_selector: a\nerror_selector: b\ntoken_endpoint_auth_method: none\n",
		"empty":                      "",
	}
	for want, y := range bad {
		if _, err := target.ParsePartner([]byte(y)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

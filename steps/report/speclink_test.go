package report

import "testing"

func TestSpecLink(t *testing.T) {
	cases := map[string]string{
		"@rfc6749-4.4":         "https://www.rfc-editor.org/rfc/rfc6749#section-4.4",
		"@rfc9700-4.3.2":       "https://www.rfc-editor.org/rfc/rfc9700#section-4.3.2",
		"@rfc8414-3":           "https://www.rfc-editor.org/rfc/rfc8414#section-3",
		"@rfc7636":             "https://www.rfc-editor.org/rfc/rfc7636",
		"@rfc7636-A":           "https://www.rfc-editor.org/rfc/rfc7636#appendix-A",
		"@rfc6749-weird":       "https://www.rfc-editor.org/rfc/rfc6749",
		"@oidc-core":           "https://openid.net/specs/openid-connect-core-1_0.html",
		"@oidc-core-3.1.2.1":   "https://openid.net/specs/openid-connect-core-1_0.html#rfc.section.3.1.2.1",
		"@oidc-core-IDToken":   "https://openid.net/specs/openid-connect-core-1_0.html#IDToken",
		"@oidc-core-<x>":       "https://openid.net/specs/openid-connect-core-1_0.html",
		"@oidc-discovery-4.2":  "https://openid.net/specs/openid-connect-discovery-1_0.html#rfc.section.4.2",
		"@oidc-discovery":      "https://openid.net/specs/openid-connect-discovery-1_0.html",
		"@oidc-registration-3": "https://openid.net/specs/openid-connect-registration-1_0.html#rfc.section.3",
		"@oidc-registration":   "https://openid.net/specs/openid-connect-registration-1_0.html",
	}
	for tag, want := range cases {
		if got, title, ok := SpecLink(tag); !ok || got != want || title == "" {
			t.Errorf("%s: %q %q %v, want %q", tag, got, title, ok, want)
		}
	}
	if _, title, _ := SpecLink("@rfc6749-4.4"); title != "RFC 6749 §4.4" {
		t.Errorf("title %q", title)
	}
	for _, tag := range []string{"@client-credentials", "@needs-admin", "@rfc", "@rfcx", "@rfc0", "@oidc-corex", "@oidc", "rfc"} {
		if url, _, ok := SpecLink(tag); ok {
			t.Errorf("%s links to %q", tag, url)
		}
	}
}

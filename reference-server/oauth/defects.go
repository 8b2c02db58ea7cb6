package oauth

import (
	"strings"

	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/reference-server/faults"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
	"github.com/oauth-harness/oauth-harness/reference-server/tokens"
)

// defect reports whether a defect switch is on (never, without a defect set).
func (p *Provider) defect(n defects.Name) bool { return p.Defects.On(n) }

// redirectAllowed is exact redirect-URI matching, or prefix matching with its defect switched on.
func (p *Provider) redirectAllowed(app *tenant.Application, uri string) bool {
	if app.HasRedirectURI(uri) {
		return true
	}
	if p.defect(defects.ASPrefixRedirectMatch) {
		for _, r := range app.RedirectURIs {
			if strings.HasPrefix(uri, r) {
				return true
			}
		}
	}
	return false
}

// tamperClaims makes an ID token that a careful client must reject (a fault for clients under test).
func tamperClaims(c *tokens.IDClaims, how string) {
	switch how {
	case faults.IDTokenWrongNonce:
		c.Nonce = "tampered-" + c.Nonce
	case faults.IDTokenWrongIssuer:
		c.Issuer += "/not-the-issuer"
	case faults.IDTokenWrongAud:
		c.Audience = "not-" + c.Audience
	}
}

// tamperSignature flips a character in the middle of a compact JWS's signature.
func tamperSignature(jws string) string {
	i := strings.LastIndexByte(jws, '.') + 1
	if i <= 0 || i >= len(jws) {
		return jws
	}
	mid := i + (len(jws)-i)/2
	b := []byte(jws)
	if b[mid] == 'A' {
		b[mid] = 'B'
	} else {
		b[mid] = 'A'
	}
	return string(b)
}

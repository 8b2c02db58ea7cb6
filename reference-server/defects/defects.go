// Package defects holds the reference server's defect switches: named, off by default, each making
// the server deliberately non-conformant in one way, so the conformance suite can prove it catches
// exactly that defect. They are set through the admin API or the tenant fixture, never by accident:
// a server with any switch on says so in its logs and its /healthz.
package defects

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
)

// Name identifies a defect switch.
type Name string

// The resource server's (contacts API's) defects.
const (
	APISkipsAudience        Name = "api-skips-audience"
	APISkipsIssuer          Name = "api-skips-issuer"
	APIIgnoresExpiry        Name = "api-ignores-expiry"
	APIAcceptsAlgNone       Name = "api-accepts-alg-none"
	APIAcceptsHSWithRSAKey  Name = "api-accepts-hs256-with-public-key"
	APISkipsScopeCheck      Name = "api-skips-scope-check"
	APIAcceptsQueryToken    Name = "api-accepts-query-token"
	APIIgnoresAccount       Name = "api-ignores-account"
	ASSkipsPKCE             Name = "as-skips-pkce"
	ASAcceptsPKCEDowngrade  Name = "as-accepts-pkce-downgrade"
	ASAcceptsPlainPKCE      Name = "as-accepts-plain-pkce"
	ASAllowsCodeReplay      Name = "as-allows-code-replay"
	ASNoRefreshRotation     Name = "as-no-refresh-rotation"
	ASPrefixRedirectMatch   Name = "as-prefix-redirect-match"
	ASSkipsConsent          Name = "as-skips-consent"
	ASDropsState            Name = "as-drops-state"
	ASScopesBeyondGrant     Name = "as-scopes-beyond-grant"
	ASOmitsIssParameter     Name = "as-omits-iss-parameter"
	ASIgnoresClientGrant    Name = "as-ignores-client-grant"
	ASAcceptsWrongSecret    Name = "as-accepts-wrong-client-secret"
	ASCodeNotBoundToClient  Name = "as-code-not-bound-to-client"
	ASLongLivedAccessTokens Name = "as-long-lived-access-tokens"
)

// Switch describes one defect.
type Switch struct {
	Name        Name   `json:"name"`
	Description string `json:"description"`
	On          bool   `json:"on"`
}

// All lists every defect in a fixed order; a switch's index is its bit in a Set.
var All = []Switch{
	{Name: APISkipsAudience, Description: "the API accepts tokens for any audience"},
	{Name: APISkipsIssuer, Description: "the API accepts tokens from any issuer"},
	{Name: APIIgnoresExpiry, Description: "the API accepts expired and not-yet-valid tokens"},
	{Name: APIAcceptsAlgNone, Description: "the API accepts unsigned tokens (alg: none)"},
	{Name: APIAcceptsHSWithRSAKey, Description: "the API accepts HS256 tokens whose HMAC key is the RSA public key (PEM)"},
	{Name: APISkipsScopeCheck, Description: "the API does not check scopes"},
	{Name: APIAcceptsQueryToken, Description: "the API accepts access tokens in the query string"},
	{Name: APIIgnoresAccount, Description: "the API lets a user's token reach other users' accounts"},
	{Name: ASSkipsPKCE, Description: "the token endpoint does not check the code_verifier"},
	{Name: ASAcceptsPKCEDowngrade, Description: "the token endpoint accepts a code_verifier for a code issued without a challenge"},
	{Name: ASAcceptsPlainPKCE, Description: "the authorization endpoint accepts code_challenge_method=plain"},
	{Name: ASAllowsCodeReplay, Description: "authorization codes can be redeemed more than once"},
	{Name: ASNoRefreshRotation, Description: "refresh tokens are not rotated and stay reusable"},
	{Name: ASPrefixRedirectMatch, Description: "redirect URIs are matched by prefix instead of exactly"},
	{Name: ASSkipsConsent, Description: "third-party applications get no consent page"},
	{Name: ASDropsState, Description: "the authorization response does not carry state"},
	{Name: ASScopesBeyondGrant, Description: "client credentials tokens get the requested scopes even beyond the client grant"},
	{Name: ASOmitsIssParameter, Description: "the authorization response does not carry iss (RFC 9207)"},
	{Name: ASIgnoresClientGrant, Description: "client credentials tokens are issued without a client grant for the audience"},
	{Name: ASAcceptsWrongSecret, Description: "the token endpoint accepts any client secret"},
	{Name: ASCodeNotBoundToClient, Description: "a code issued to one client can be redeemed by another"},
	{Name: ASLongLivedAccessTokens, Description: "access tokens live ten times the API's lifetime"},
}

func index(n Name) int {
	return slices.IndexFunc(All, func(s Switch) bool { return s.Name == n })
}

// Set is the state of every switch. Checks cost one atomic load, so the hot paths can ask freely.
// The zero value has every switch off.
type Set struct{ bits atomic.Uint64 }

// On reports whether defect n is switched on.
func (s *Set) On(n Name) bool {
	if s == nil {
		return false
	}
	b := s.bits.Load()
	if b == 0 {
		return false
	}
	i := index(n)
	return i >= 0 && b&(1<<i) != 0
}

// Any reports whether any defect is on.
func (s *Set) Any() bool { return s != nil && s.bits.Load() != 0 }

// Turn switches defect n on or off.
func (s *Set) Turn(n Name, on bool) error {
	i := index(n)
	if i < 0 {
		return fmt.Errorf("defects: no defect named %q (known: %s)", n, strings.Join(Names(), ", "))
	}
	for {
		old := s.bits.Load()
		next := old &^ (1 << i)
		if on {
			next |= 1 << i
		}
		if s.bits.CompareAndSwap(old, next) {
			return nil
		}
	}
}

// Only switches on exactly the named defects, all others off. It changes nothing on error.
func (s *Set) Only(names []Name) error {
	var bits uint64
	for _, n := range names {
		i := index(n)
		if i < 0 {
			return fmt.Errorf("defects: no defect named %q (known: %s)", n, strings.Join(Names(), ", "))
		}
		bits |= 1 << i
	}
	s.bits.Store(bits)
	return nil
}

// List returns every switch with its state.
func (s *Set) List() []Switch {
	out := slices.Clone(All)
	for i := range out {
		out[i].On = s.On(out[i].Name)
	}
	return out
}

// Names lists every defect name.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = string(s.Name)
	}
	return out
}

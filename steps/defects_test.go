package steps_test

import (
	"bytes"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/reference-server/defects"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/report"
)

// catches says which scenarios each defect switch of the reference server turns red. The note and
// README list it; TestDefectMatrix proves it.
var catches = map[defects.Name][]string{
	defects.APISkipsAudience:       {"A token for another API is refused"},
	defects.APISkipsIssuer:         {"A token from another issuer is refused, even signed with the right key"},
	defects.APIIgnoresExpiry:       {"An expired token is refused", "A token that is not yet valid is refused"},
	defects.APIAcceptsAlgNone:      {"Forged tokens are refused"},
	defects.APIAcceptsHSWithRSAKey: {"Forged tokens are refused"},
	defects.APISkipsScopeCheck:     {"A token without the scope cannot write", "Paul's read-only token cannot write"},
	defects.APIAcceptsQueryToken:   {"A bearer token in the query string is refused"},
	defects.APIIgnoresAccount:      {"Paul's token cannot read another account"},
	defects.ASSkipsPKCE:            {"A wrong PKCE verifier is refused"},
	defects.ASAcceptsPKCEDowngrade: {"PKCE downgrade: a code issued without a challenge is not redeemed with a verifier"},
	defects.ASAcceptsPlainPKCE:     {"The plain PKCE method is refused"},
	defects.ASAllowsCodeReplay: {"An authorization code is used once, and a replay revokes what it gave", "An authorization code is redeemed only once",
		"The same code redeemed by several requests at once gives tokens once"},
	defects.ASNoRefreshRotation: {"A refresh gives a new access token and rotates the refresh token",
		"Reusing a rotated refresh token is refused and revokes the family"},
	defects.ASPrefixRedirectMatch: {"A redirect URI that is not registered gets an error page and no redirect"},
	defects.ASSkipsConsent: {"A third-party app shows a consent page naming the app and every scope",
		"Denying consent sends access_denied back with the same state", "Asking for a new scope asks for consent again",
		"Users must consent to a registered app"},
	// (The refresh-after-revoke scenario asks offline_access with prompt=consent, OIDC Core §11,
	// which shows the consent page even with this defect on.)
	// Every scenario that reads an authorization response checks its state.
	defects.ASDropsState: {
		"A code is bound to the client it was issued to",
		"A first-party app signs paul in without a consent page",
		"A public client proves possession of its code with PKCE",
		"A public client without PKCE is refused",
		"A refresh gives a new access token and rotates the refresh token",
		"A refresh token is bound to its client",
		"A remembered consent is not asked again",
		"A revoked refresh token no longer refreshes",
		"A third-party app shows a consent page naming the app and every scope",
		"A wrong PKCE verifier is refused",
		"After paul revokes his consent, the partner's refresh fails",
		"An API that does not allow offline access gives no refresh token",
		"An authorization code is redeemed only once",
		"An authorization code is used once, and a replay revokes what it gave",
		"An implicit request without a nonce is refused",
		"An unknown scope is refused, or left out of what is granted",
		"Asking for a new scope asks for consent again",
		"Denying consent sends access_denied back with the same state",
		"PKCE downgrade: a code issued without a challenge is not redeemed with a verifier",
		"Paul's read-only token cannot write",
		"Paul's token cannot read another account",
		"Paul's token reads the contacts of his own account",
		"Reusing a rotated refresh token is refused and revokes the family",
		"The ID token names the user, the app and the nonce",
		"The authorization response names the issuer",
		"The legacy SPA gets its tokens in the fragment, with the nonce in the ID token",
		"The plain PKCE method is refused",
		"The same code redeemed by several requests at once gives tokens once",
		"The same refresh token redeemed by several requests at once works once",
		"Userinfo names the signed-in user",
		"Users must consent to a registered app",
		"Without offline_access there is no refresh token",
		"prompt=none without a session answers login_required",
	},
	defects.ASScopesBeyondGrant:     {"Scopes beyond the client grant are refused, or cut to the grant"},
	defects.ASOmitsIssParameter:     {"The authorization response names the issuer"},
	defects.ASIgnoresClientGrant:    {"No client grant for the API means no token"},
	defects.ASAcceptsWrongSecret:    {"A wrong secret is refused"},
	defects.ASCodeNotBoundToClient:  {"A code is bound to the client it was issued to"},
	defects.ASLongLivedAccessTokens: {"Acme Sync gets a token for the Contacts API", "A first-party app signs paul in without a consent page"},
}

// outcome runs the catalogue (the scenarios sel picks) and returns each scenario's status; outline
// rows share a name, and any red row makes it red.
func outcome(t *testing.T, run func(steps.Config) (bool, error), sel func(string, []string) bool) map[string]string {
	t.Helper()
	var out bytes.Buffer
	if _, err := run(steps.Config{Features: features.FS, Format: "cucumber", Output: &out, Select: sel}); err != nil {
		t.Fatal(err)
	}
	res, err := report.Parse(&out)
	if err != nil {
		t.Fatalf("the cucumber report does not parse: %v", err)
	}
	status := map[string]string{}
	for _, sc := range res.Scenarios() {
		if status[sc.Name] != string(report.Failed) {
			status[sc.Name] = string(sc.Status)
		}
	}
	return status
}

// TestDefectMatrix switches each defect on alone and checks that exactly the scenarios listed in
// catches turn red. Every scenario without a browser runs for every defect; of the browser
// scenarios, which cost about a second each, the listed ones run, plus every browser scenario for
// the defects of the authorization endpoint's flow (the only defects a browser scenario can meet
// without the scenario being listed). DEFECT_MATRIX=full runs everything for every defect and
// prints the table.
func TestDefectMatrix(t *testing.T) {
	srv, p := reference(t)
	full := os.Getenv("DEFECT_MATRIX") == "full"
	run := func(cfg steps.Config) (bool, error) { cfg.Target = p; return steps.Run(cfg) }
	table := map[defects.Name][]string{}
	for _, sw := range defects.All {
		d := sw.Name
		t.Run(string(d), func(t *testing.T) {
			setDefects(t, srv, `{"on":["`+string(d)+`"]}`)
			defer setDefects(t, srv, `{"on":[]}`)
			want := catches[d]
			sel := func(name string, tags []string) bool {
				return full || !slices.Contains(tags, "@browser") || slices.Contains(want, name) || flowDefect(d)
			}
			got := outcome(t, run, sel)
			var red []string
			for name, st := range got {
				if st == "failed" {
					red = append(red, name)
				}
			}
			sort.Strings(red)
			table[d] = red
			if full {
				return
			}
			if len(want) == 0 {
				t.Fatalf("no scenario is listed as catching %s", d)
			}
			for _, name := range want {
				if got[name] != "failed" {
					t.Errorf("with %s on, %q is %s, expected failed", d, name, got[name])
				}
			}
			for _, name := range red {
				if !slices.Contains(want, name) {
					t.Errorf("with %s on, %q failed too: add it to catches or find why", d, name)
				}
			}
		})
	}
	if full {
		var b strings.Builder
		for _, sw := range defects.All {
			b.WriteString("\t" + string(sw.Name) + ":\n")
			for _, n := range table[sw.Name] {
				b.WriteString("\t\t" + n + "\n")
			}
		}
		t.Logf("scenarios each defect turns red:\n%s", b.String())
	}
}

// flowDefect: defects of the authorization interaction, which any browser scenario may cross.
func flowDefect(d defects.Name) bool {
	switch d {
	case defects.ASSkipsConsent, defects.ASDropsState, defects.ASOmitsIssParameter, defects.ASPrefixRedirectMatch:
		return true
	}
	return false
}

package steps_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/server/servertest"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/report"
	"github.com/oauth-harness/oauth-harness/steps/target"
	targetref "github.com/oauth-harness/oauth-harness/steps/target/reference"
)

// reference starts the embedded server and describes it as a target with every capability.
func reference(t *testing.T) (*server.Server, *target.Profile) {
	t.Helper()
	srv := servertest.Start(t, server.Options{})
	p := targetref.Profile(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), servertest.Credentials(t), target.KnownCapabilities)
	p.AdminToken = servertest.AdminToken
	return srv, p
}

// The whole catalogue passes against the reference server; every scenario is a subtest.
func TestCatalogueAgainstTheReferenceServer(t *testing.T) {
	_, p := reference(t)
	// Only the documented aliases: a feature naming another one would be skipped, and fail below.
	documented := map[string]bool{}
	for _, r := range target.Roles {
		documented[r.Kind+"/"+r.Alias] = true
	}
	maps.DeleteFunc(p.Clients, func(alias string, _ target.Client) bool { return !documented["client/"+alias] })
	maps.DeleteFunc(p.Users, func(alias string, _ target.User) bool { return !documented["user/"+alias] })
	maps.DeleteFunc(p.APIs, func(alias string, _ target.API) bool { return !documented["API/"+alias] })
	for _, c := range p.Clients {
		maps.DeleteFunc(c.Grants, func(api string, _ []string) bool { return !documented["API/"+api] })
	}
	var out bytes.Buffer
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Format: "cucumber", Output: &out, TestingT: t})
	if err != nil || !passed {
		t.Fatalf("passed=%v err=%v", passed, err)
	}
	// The model of a correct provider declares every capability and dialect the catalogue checks:
	// nothing may be skipped against it.
	res, err := report.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range res.Scenarios() {
		if sc.Status != report.Passed {
			t.Errorf("%s: %s against the reference server", sc.Name, sc.Status)
		}
	}
}

// A scenario naming a client the profile does not describe does not apply to that target: it is
// skipped with the reason, and the rest of the feature still runs.
func TestMissingAliasSkipsTheScenario(t *testing.T) {
	_, p := reference(t)
	delete(p.Clients, "Contacts Importer")
	var out bytes.Buffer
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: "@client-credentials && ~@needs-private-key-jwt",
		Format: "cucumber", Output: &out})
	if err != nil {
		t.Fatal(err)
	}
	if !passed {
		t.Error("the run failed; a missing alias must skip, not fail")
	}
	res, err := report.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range res.Scenarios() {
		want, reason := report.Passed, ""
		switch {
		case strings.Contains(sc.Name, "Contacts Importer"):
			want, reason = report.Skipped, `no client "Contacts Importer"`
		case strings.Contains(sc.Name, "Every client authentication method"): // its post client is gone
			want, reason = report.Skipped, "client_secret_post could not be tried"
		}
		if sc.Status != want || !strings.Contains(sc.SkipReason(), reason) {
			t.Errorf("%s: %s (%q), want %s saying %q", sc.Name, sc.Status, sc.SkipReason(), want, reason)
		}
	}
}

func setDefects(t *testing.T, srv *server.Server, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, srv.IssuerURL()+"/admin/defects", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+servertest.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT /admin/defects %s: %d", body, resp.StatusCode)
	}
}

// A target without a capability gets the scenarios that need it skipped, not failed or passed.
func TestMissingCapabilitySkipsWithTheReason(t *testing.T) {
	_, p := reference(t)
	p.Capabilities = []string{target.CapClientCredentials} // no admin, no contacts API
	var out bytes.Buffer
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: "@contacts-api",
		Format: "cucumber", Output: &out})
	if err != nil || !passed {
		t.Fatalf("passed=%v err=%v", passed, err)
	}
	if !strings.Contains(out.String(), `lacks the capability \"contacts-api\"`) && !strings.Contains(out.String(), "skip-reason.txt") {
		t.Errorf("the cucumber report does not carry the skip reason:\n%.800s", out.String())
	}
	if strings.Contains(out.String(), `"status": "passed"`) || strings.Contains(out.String(), `"status": "failed"`) {
		t.Errorf("a scenario needing a missing capability passed or failed instead of being skipped:\n%.800s", out.String())
	}
}

func TestMalformedFeatureIsAnError(t *testing.T) {
	_, p := reference(t)
	bad := fstest.MapFS{"bad.feature": {Data: []byte("This line is not gherkin at all\nFeature: x\n")}}
	if _, err := steps.Run(steps.Config{Target: p, Features: bad, Output: &bytes.Buffer{}}); err == nil {
		t.Error("a malformed feature file ran without an error")
	}
	if _, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: "@a && ", Output: &bytes.Buffer{}}); err == nil {
		t.Error("an incomplete tag expression ran without an error")
	}
	if _, err := steps.Run(steps.Config{Features: features.FS}); err == nil {
		t.Error("a run without a target ran")
	}
}

// A failed step's report shows the requests it sent, with secrets masked, beside the answer.
func TestFailedStepShowsTheRequestMasked(t *testing.T) {
	_, p := reference(t)
	c := p.Clients["Contacts Importer"]
	c.ClientSecret = "a-wrong-secret-the-report-must-not-show"
	p.Clients["Contacts Importer"] = c
	var out bytes.Buffer
	sel := func(name string, _ []string) bool { return strings.Contains(name, "client_secret_post") }
	if _, err := steps.Run(steps.Config{Target: p, Features: features.FS, Select: sel, Format: "cucumber", Output: &out}); err != nil {
		t.Fatal(err)
	}
	res, err := report.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	var shown string
	for _, sc := range res.Scenarios() {
		if st := sc.FailedStep(); sel(sc.Name, nil) && (st == nil || strings.Count(st.Error, "invalid_client") != 1) {
			t.Errorf("%s: the failed step's error should be said once: %+v; steps %+v", sc.Name, st, sc.Steps)
		}
		for _, st := range sc.Steps {
			for _, a := range st.Attachments {
				if a.Name == "requests.txt" {
					shown += string(a.Data)
				}
			}
		}
	}
	for _, want := range []string{"POST http", "grant_type=client_credentials", "client_id=", "client_secret=a-wr%E2%80%A6%2839+chars%29", "→ HTTP 401"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the failed step's requests do not show %q:\n%s", want, shown)
		}
	}
	if strings.Contains(shown, c.ClientSecret) {
		t.Errorf("the report shows the secret:\n%s", shown)
	}
}

// Preflight names each mismatch between a profile and its provider, once, before any scenario.
func TestPreflightNamesEachProblem(t *testing.T) {
	_, p := reference(t)
	if problems := steps.Preflight(t.Context(), p); len(problems) != 0 {
		t.Fatalf("the reference profile has problems: %v", problems)
	}
	for _, alias := range []string{"Acme Sync", "Contacts Importer", "Acme CMS"} {
		c := p.Clients[alias]
		c.ClientSecret = "wrong-" + c.ClientSecret
		p.Clients[alias] = c
	}
	p.Issuer += "/"
	err := steps.PreflightError(steps.Preflight(t.Context(), p))
	for _, want := range []string{"issuer: the profile says", "client Acme Sync (acme-sync): the provider refused its credentials (client_secret_basic",
		"client Contacts Importer (contacts-importer): the provider refused its credentials (client_secret_post", "client Acme CMS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("preflight: %v; want it to say %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "Contacts Web") {
		t.Errorf("preflight blames a client whose secret is right: %v", err)
	}
	p.Issuer = "http://127.0.0.1:1"
	if problems := steps.Preflight(t.Context(), p); len(problems) != 1 || !strings.Contains(problems[0].Error(), "issuer http://127.0.0.1:1") {
		t.Errorf("unreachable issuer: %v, want one problem naming it", problems)
	}
}

// A provider that refuses an unregistered redirect URI on its own error UI, one redirect away on
// another origin the profile declares, is judged there: an error page, no redirect to the client.
// The same redirect to an origin the profile does not declare is a redirect away from the provider.
func TestAuthorizationErrorsFollowTheProvidersOwnHops(t *testing.T) {
	errorUI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "invalid redirect_uri", http.StatusBadRequest)
	}))
	defer errorUI.Close()
	var issuer string
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
				issuer, issuer+"/authorize", issuer+"/token", issuer+"/jwks")
		case "/authorize":
			http.Redirect(w, r, "/oops", http.StatusFound) // its own page first...
		case "/oops":
			http.Redirect(w, r, errorUI.URL+"/error?code=invalid_redirect_uri", http.StatusFound) // ...then its error UI
		}
	}))
	defer as.Close()
	issuer = as.URL
	feature := fstest.MapFS{"e.feature": {Data: []byte(`Feature: errors
  Scenario: A redirect URI that is not registered gets an error page and no redirect
    When Contacts Web sends an authorization request for "read:contacts" on the Contacts API with the redirect URI "https://attacker.example/cb"
    Then the authorization server answers with its error page and no redirect
`)}}
	for _, declared := range []bool{true, false} {
		p := &target.Profile{Name: "hops", Issuer: issuer, Capabilities: []string{target.CapAuthorizationCode},
			APIs:    map[string]target.API{"Contacts API": {Identifier: "https://api.example"}},
			Clients: map[string]target.Client{"Contacts Web": {ClientID: "web", ClientSecret: "s", RedirectURI: "https://app.example/cb"}}}
		if declared {
			p.Dialect.Origins = []string{errorUI.URL}
		}
		passed, err := steps.Run(steps.Config{Target: p, Features: feature, Output: &bytes.Buffer{}})
		if err != nil {
			t.Fatal(err)
		}
		if passed != declared {
			t.Errorf("error UI origin declared %v: passed %v, want %v", declared, passed, declared)
		}
	}
}

// Standard Cucumber tag expressions select; a selection of nothing is an error, not a pass.
func TestTagExpressionsSelectOrRefuse(t *testing.T) {
	_, p := reference(t)
	var out bytes.Buffer
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: "@discovery and not @needs-oauth-metadata", Format: "cucumber", Output: &out})
	if err != nil || !passed {
		t.Fatalf("passed=%v err=%v", passed, err)
	}
	res, err := report.Parse(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(res.Scenarios()); n != 2 {
		t.Errorf("%d scenarios ran, want the 2 discovery ones without @needs-oauth-metadata", n)
	}
	for _, tags := range []string{"@no-such-tag", "@discovery and @browser"} {
		if _, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: tags, Output: &bytes.Buffer{}}); err == nil ||
			!strings.Contains(err.Error(), "no scenario is selected") {
			t.Errorf("tags %q: err = %v, want a refusal of the empty selection", tags, err)
		}
	}
}

package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseGodogCucumberJSON(t *testing.T) {
	r := parseFixture(t, map[string]string{"m2m.feature": evidenceFeature, "other.feature": otherFeature})
	if len(r.Features) != 2 {
		t.Fatalf("%d features, want 2", len(r.Features))
	}
	want := map[string]Status{
		"Acme Sync gets a token":                Passed,
		"A wrong secret is refused":             Failed,
		"Admin things":                          Skipped,
		"Forged tokens are refused (example 1)": Passed,
		"Forged tokens are refused (example 2)": Failed,
		"Not written yet":                       Undefined,
	}
	var titles []string
	for _, sc := range r.Features[1].Scenarios {
		titles = append(titles, sc.Title())
	}
	if r.Features[1].Name != m2m || len(titles) != len(want) {
		t.Fatalf("feature %q has scenarios %q", r.Features[1].Name, titles)
	}
	for title, status := range want {
		sc := scenario(t, r, m2m, title)
		if sc.Status != status || sc.Outcome != outcomeOf(status) {
			t.Errorf("%q: status %s, outcome %s, want %s", title, sc.Status, sc.Outcome, status)
		}
	}

	ok := scenario(t, r, m2m, "Acme Sync gets a token")
	if !slices.Equal(ok.Tags, []string{"@fixture", "@rfc6749-4.4", "@oidc-core-IDToken"}) {
		t.Errorf("tags %q: want the feature's then the scenario's, once each", ok.Tags)
	}
	var sum time.Duration
	for _, st := range ok.Steps {
		sum += st.Duration
	}
	if ok.Duration <= 0 || ok.Duration != sum {
		t.Errorf("duration %v, want the steps' sum %v > 0", ok.Duration, sum)
	}
	atts := ok.Steps[0].Attachments
	if len(atts) != 3 || !atts[0].IsImage() || !bytes.Equal(atts[0].Data, testPNG) || !atts[1].IsToken() || atts[2].MediaType != "text/plain" {
		t.Fatalf("attachments of the first step: %+v", atts)
	}
	tok, err := atts[1].Token()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range tok.Claims {
		names = append(names, c.Name)
	}
	if tok.Kind != "access token" || !slices.Equal(names, []string{"iss", "sub", "aud", "exp", "scope"}) {
		t.Errorf("token %q with claims %q, want the document's order", tok.Kind, names)
	}
	if c := tok.Claims[3]; c.Value != "1767225600" || c.Note != "2026-01-01T00:00:00Z" {
		t.Errorf("exp shown as %q (%q)", c.Value, c.Note)
	}
	if c := tok.Claims[2]; c.Value != `["https://api.contacts.example"]` {
		t.Errorf("aud shown as %q", c.Value)
	}

	bad := scenario(t, r, m2m, "A wrong secret is refused")
	fs := bad.FailedStep()
	if fs == nil || !strings.Contains(fs.Error, "<script>alert(1)</script>") || fs.Status != Failed {
		t.Fatalf("failed step %+v", fs)
	}
	if n := len(fs.Attachments); n != 1 || fs.Attachments[0].Name != "failed-step.png" {
		t.Errorf("the After hook's screenshot is not on the failing step: %+v", fs.Attachments)
	}
	if last := bad.Steps[2]; last.Status != Skipped || last.Duration != 0 {
		t.Errorf("the step after a failure: %s %v", last.Status, last.Duration)
	}
	if got := scenario(t, r, m2m, "Admin things").SkipReason(); got != "the target lacks admin" {
		t.Errorf("skip reason %q", got)
	}
	if c := r.Counts(); c.Scenarios != 7 || c.Passed != 3 || c.Failed != 2 || c.Skipped != 1 || c.Undefined != 1 {
		t.Errorf("counts %+v", c)
	}
	if r.OK() {
		t.Error("a run with failures is OK")
	}
	if s := r.Summary(); !strings.HasPrefix(s, "7 scenarios: 3 passed, 2 failed, 1 skipped, 1 undefined, 0 expected failures, 0 unexpected passes (") {
		t.Errorf("summary %q", s)
	}
}

func TestParseRejectsBadInput(t *testing.T) {
	good := runGodog(t, map[string]string{"m2m.feature": evidenceFeature})
	cases := map[string]string{
		"empty":     "",
		"truncated": string(good[:len(good)/2]),
		"an object": `{"uri": "x"}`,
		"trailing":  string(good) + "]",
		"base64":    `[{"name":"F","elements":[{"name":"S","steps":[{"name":"s","result":{"status":"passed"},"embeddings":[{"name":"a.png","mime_type":"image/png","data":"%%%"}]}]}]}]`,
		"types":     `[{"name":"F","elements":[{"name":"S","line":"three"}]}]`,
	}
	for name, in := range cases {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	for _, in := range []string{"[]", "null", "[]\n"} {
		r, err := Parse(strings.NewReader(in))
		if err != nil || len(r.Scenarios()) != 0 || !r.OK() {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// A status this package does not know must not turn a scenario green.
func TestUnknownStepStatusFails(t *testing.T) {
	r, err := Parse(strings.NewReader(`[{"name":"F","elements":[{"name":"S","type":"scenario","steps":[{"name":"s","result":{"status":"exploded"}}]}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	if sc := r.Scenarios()[0]; sc.Outcome != OutcomeFailed || r.OK() {
		t.Errorf("outcome %s, OK %v", sc.Outcome, r.OK())
	}
}

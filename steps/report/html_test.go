package report

import (
	"bytes"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func renderHTML(t *testing.T, r *Results) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("REPORT_TEST_OUT"); dir != "" { // to look at the page while working on it
		_ = os.WriteFile(dir+"/"+t.Name()+".html", b.Bytes(), 0o644)
	}
	return b.String()
}

func TestHTMLReport(t *testing.T) {
	r := parseFixture(t, map[string]string{"m2m.feature": evidenceFeature, "other.feature": otherFeature})
	r.Meta = Meta{Target: "Acme <Provider>", Issuer: "https://issuer.example/", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Elapsed: 1500 * time.Millisecond}
	r.ApplyExpectedFailures([]ExpectedFailure{{Scenario: "Forged tokens are refused", Reason: "answers 200 (ID-9)"}}, false)
	// A later step that checks the same token shows it once.
	ok := scenario(t, r, m2m, "Acme Sync gets a token")
	ok.Steps[1].Attachments = append(ok.Steps[1].Attachments, ok.Steps[0].Attachments[1])
	page := renderHTML(t, r)
	if n := strings.Count(page, "<th>sub</th><td>acme-sync</td>"); n != 2 { // once here, once in the failed scenario
		t.Errorf("the token table is shown %d times, want 2", n)
	}
	for _, want := range []string{
		"the same token as above",
		"Conformance report: Acme &lt;Provider&gt;",
		"https://issuer.example/", "2026-01-02 03:04:05 UTC", "1.5s wall time",
		"FAILED",
		`<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(testPNG) + `"`,
		"failed-step.png",
		`<th>sub</th><td>acme-sync</td>`,
		`1767225600 <span class="muted">(2026-01-01T00:00:00Z)</span>`,
		`href="https://www.rfc-editor.org/rfc/rfc6749#section-5.2"`,
		`href="https://openid.net/specs/openid-connect-core-1_0.html#IDToken"`,
		`<span class="tag">@needs-admin</span>`,
		"Skipped: the target lacks admin",
		"Expected failure: answers 200 (ID-9)",
		"Forged tokens are refused (example 2)",
		"token-request.txt",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// Failed scenarios open, passed ones folded.
	if !regexp.MustCompile(`<details class="sc failed" id="s\d+" open>`).MatchString(page) ||
		regexp.MustCompile(`<details class="sc passed" id="s\d+" open>`).MatchString(page) {
		t.Error("failed scenarios are not the open ones")
	}
	// Self-contained: nothing to fetch, nothing to run.
	for _, bad := range []string{"<script", "<link", `src="http`, "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
}

// Error messages and evidence carry what the server under test sent: all of it is escaped.
func TestHTMLEscapesWhatTheServerSent(t *testing.T) {
	r := parseFixture(t, map[string]string{"m2m.feature": evidenceFeature})
	hostile := `"><img src=x onerror=alert(2)>`
	st := scenario(t, r, m2m, "Acme Sync gets a token").Steps[0]
	st.Attachments = append(st.Attachments,
		Attachment{Name: "token-" + hostile + ".json", MediaType: "application/json", Data: []byte(`{"kind":"<b>k</b>","claims":{"<i>c</i>":"</td><script>alert(3)</script>"}}`)},
		Attachment{Name: "page.svg", MediaType: "image/svg+xml", Data: []byte(`<svg onload="alert(4)"/>`)},
		Attachment{Name: "x.png", MediaType: `image/png;base64,AAAA" onerror="alert(5)`, Data: []byte("x")},
		Attachment{Name: "body.txt", MediaType: "text/plain", Data: []byte("</pre><script>alert(6)</script>\xff")},
	)
	r.Errors = append(r.Errors, "<script>alert(7)</script>")
	page := renderHTML(t, r)
	if strings.Contains(page, "<script") || strings.Contains(page, "<img src=x") || strings.Contains(page, "<svg") || strings.Contains(page, `onerror="alert`) {
		t.Errorf("unescaped markup from the input reached the page")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the failing step's error message is not shown escaped")
	}
	if strings.Contains(page, "data:image/svg") {
		t.Error("an SVG attachment is shown as an image")
	}
}

func TestHTMLOfAnEmptyRun(t *testing.T) {
	page := renderHTML(t, &Results{})
	if !strings.Contains(page, "0 scenarios") || !strings.Contains(page, "PASSED") {
		t.Errorf("%.500s", page)
	}
}

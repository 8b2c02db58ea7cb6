package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"
	"testing/fstest"

	"github.com/cucumber/godog"
)

// The fixtures are real godog v0.15.1 runs, so the tests follow its cucumber JSON and not our
// idea of it.

// evidenceFeature exercises every kind of attachment and every status.
const evidenceFeature = `@fixture
Feature: Machine-to-machine access with client credentials
  Acme Sync calls the API as itself.

  @rfc6749-4.4 @oidc-core-IDToken
  Scenario: Acme Sync gets a token
    Given a token was checked
    Then all is well

  @rfc6749-5.2
  Scenario: A wrong secret is refused
    Given a token was checked
    Then the answer is "<script>alert(1)</script>"
    And all is well

  @needs-admin
  Scenario: Admin things
    Given the target lacks "admin"
    Then all is well

  @rfc8725-3.1
  Scenario Outline: Forged tokens are refused
    Then the answer is "<answer>"

    Examples:
      | answer |
      | 401    |
      | 200    |

  Scenario: Not written yet
    Given a step nobody wrote
`

// otherFeature has a scenario named like one of evidenceFeature's.
const otherFeature = `Feature: Another feature
  Scenario: A wrong secret is refused
    Then all is well
`

var testPNG = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}()

const testToken = `{"kind":"access token","header":{"alg":"RS256","typ":"at+jwt","kid":"k1"},` +
	`"claims":{"iss":"https://issuer.example","sub":"acme-sync","aud":["https://api.contacts.example"],"exp":1767225600,"scope":"read:contacts"}}`

// initFixture defines the fixture steps, following the harness's attachment conventions.
func initFixture(sc *godog.ScenarioContext) {
	sc.Step(`^a token was checked$`, func(ctx context.Context) (context.Context, error) {
		return godog.Attach(ctx,
			godog.Attachment{Body: testPNG, FileName: "consent-page.png", MediaType: "image/png"},
			godog.Attachment{Body: []byte(testToken), FileName: "token-access.json", MediaType: "application/json"},
			godog.Attachment{Body: []byte("POST /token HTTP/1.1\n\n<b>grant_type</b>=client_credentials"), FileName: "token-request.txt", MediaType: "text/plain"},
		), nil
	})
	sc.Step(`^all is well$`, func() error { return nil })
	sc.Step(`^the answer is "([^"]*)"$`, func(got string) error {
		if got != "401" {
			return fmt.Errorf("status: got %s, want 401; body: %s", got, got)
		}
		return nil
	})
	sc.Step(`^the target lacks "([^"]*)"$`, func(ctx context.Context, c string) (context.Context, error) {
		ctx = godog.Attach(ctx, godog.Attachment{Body: []byte("skipped: the target lacks " + c), FileName: "skip-reason.txt", MediaType: "text/plain"})
		return ctx, fmt.Errorf("%w: lacks %s", godog.ErrSkip, c)
	})
	// Like the harness: a screenshot of a failed scenario lands on its failing step.
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && !errors.Is(err, godog.ErrSkip) {
			ctx = godog.Attach(ctx, godog.Attachment{Body: testPNG, FileName: "failed-step.png", MediaType: "image/png"})
		}
		return ctx, nil
	})
}

// runGodog runs feature files through godog and returns its cucumber JSON.
func runGodog(t testing.TB, files map[string]string) []byte {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	var out bytes.Buffer
	status := godog.TestSuite{
		Name:                "fixture",
		ScenarioInitializer: initFixture,
		Options:             &godog.Options{FS: fsys, Paths: []string{"."}, Format: "cucumber", Output: &out, Strict: true, NoColors: true},
	}.Run()
	if status == 2 {
		t.Fatalf("godog could not run the fixture:\n%s", out.String())
	}
	return out.Bytes()
}

func parseFixture(t *testing.T, files map[string]string) *Results {
	t.Helper()
	r, err := Parse(bytes.NewReader(runGodog(t, files)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scenario finds a scenario by its title ("Name" or "Name (example N)") in a feature.
func scenario(t *testing.T, r *Results, feature, title string) *Scenario {
	t.Helper()
	for _, sc := range r.Scenarios() {
		if sc.Feature == feature && sc.Title() == title {
			return sc
		}
	}
	t.Fatalf("no scenario %q in feature %q", title, feature)
	return nil
}

const m2m = "Machine-to-machine access with client credentials"

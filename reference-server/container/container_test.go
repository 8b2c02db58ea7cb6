package container_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/container"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
	"github.com/testcontainers/testcontainers-go"
)

const contactsAPI = "https://api.contacts.example"

var (
	setupOnce sync.Once
	setupErr  error
	image     string
)

// requireImage finds the container engine and builds the image from this checkout, once per test
// binary (OAUTH_HARNESS_IMAGE names a ready image instead). Without an engine the test is skipped,
// with the reason, except under CI=true: there the engine is part of the set-up (.ci/engine) and
// its absence is a failure.
func requireImage(t *testing.T) string {
	t.Helper()
	setupOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		start := time.Now()
		e, err := container.DetectEngine(ctx)
		if err != nil {
			setupErr = err
			return
		}
		// Before any testcontainers-go call: it reads its configuration once.
		if setupErr = e.Setenv(); setupErr != nil {
			return
		}
		if image = os.Getenv("OAUTH_HARNESS_IMAGE"); image != "" {
			_, setupErr = e.ImageSize(ctx, image)
			return
		}
		res, err := container.BuildImage(ctx, container.BuildOptions{Engine: e})
		if err != nil {
			setupErr = err
			return
		}
		image = res.Tag
		size, _ := e.ImageSize(ctx, image)
		t.Logf("built %s with %s in %s (go build %s, image build %s): %.1f MiB", image, e.Name,
			time.Since(start).Round(time.Millisecond), res.Compile.Round(time.Millisecond), res.Build.Round(time.Millisecond),
			float64(size)/(1<<20))
	})
	if setupErr != nil {
		if errors.Is(setupErr, container.ErrNoEngine) && os.Getenv("CI") != "true" {
			t.Skipf("skipped: %v", setupErr)
		}
		t.Fatalf("container set-up: %v", setupErr)
	}
	return image
}

// start runs the image with opts and removes the container when the test ends, passed or not.
func start(t *testing.T, opts ...testcontainers.ContainerCustomizer) *container.Container {
	t.Helper()
	img := requireImage(t)
	begin := time.Now()
	srv, err := container.Run(t.Context(), img, opts...)
	testcontainers.CleanupContainer(t, srv)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%s ready in %s at %s", img, time.Since(begin).Round(time.Millisecond), srv.IssuerURL())
	return srv
}

func getJSON(t *testing.T, req *http.Request, want int, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("%s %s: %s, want %d: %s", req.Method, req.URL, resp.Status, want, body)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
	}
}

func get(t *testing.T, u string) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestImage: the server in the container names the issuer the host uses, in discovery and in its
// tokens, and answers its health check; the image is FROM scratch and runs as nobody.
func TestImage(t *testing.T) {
	t.Parallel()
	srv := start(t)
	if !strings.HasPrefix(srv.IssuerURL(), "http://127.0.0.1:") {
		t.Errorf("issuer %q is not on 127.0.0.1", srv.IssuerURL())
	}
	var doc map[string]any
	getJSON(t, get(t, srv.IssuerURL()+"/.well-known/openid-configuration"), http.StatusOK, &doc)
	if doc["issuer"] != srv.IssuerURL() {
		t.Errorf("discovery issuer = %v, want %q", doc["issuer"], srv.IssuerURL())
	}
	for _, k := range []string{"token_endpoint", "jwks_uri", "authorization_endpoint"} {
		if v, _ := doc[k].(string); !strings.HasPrefix(v, srv.IssuerURL()+"/") {
			t.Errorf("discovery %s = %q, not below the issuer", k, v)
		}
	}
	var health struct{ Status string }
	getJSON(t, get(t, srv.IssuerURL()+"/healthz"), http.StatusOK, &health)
	if health.Status != "ok" {
		t.Errorf("/healthz status = %q", health.Status)
	}
	// The image's own HEALTHCHECK command, run inside the container (there is no shell to run it with).
	code, _, err := srv.Exec(t.Context(), []string{"/oauth-harness", "serve", "--healthcheck"})
	if err != nil || code != 0 {
		t.Errorf("healthcheck inside the container: exit %d, %v", code, err)
	}
	inspect, err := srv.Inspect(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if inspect.Config.User != "65534:65534" {
		t.Errorf("user = %q, want 65534:65534 (nobody)", inspect.Config.User)
	}
	if hc := inspect.Config.Healthcheck; hc == nil || !strings.Contains(strings.Join(hc.Test, " "), "--healthcheck") {
		t.Errorf("the image has no HEALTHCHECK: %+v", hc)
	}
}

// TestClientCredentialsAndAPI: Acme Sync gets a client-credentials token for the Contacts API, and
// the API in the same container accepts it (it checks issuer, audience, signature and scope).
func TestClientCredentialsAndAPI(t *testing.T) {
	t.Parallel()
	srv := start(t)
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "audience": {contactsAPI}}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.IssuerURL()+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("acme-sync", creds.Clients["acme-sync"])
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	getJSON(t, req, http.StatusOK, &tok)
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Fatalf("token response: %+v", tok)
	}
	claims := jwtClaims(t, tok.AccessToken)
	if claims["iss"] != srv.IssuerURL() || claims["aud"] != contactsAPI || claims["azp"] != "acme-sync" {
		t.Errorf("token claims iss=%v aud=%v azp=%v, want %s, %s, acme-sync", claims["iss"], claims["aud"], claims["azp"],
			srv.IssuerURL(), contactsAPI)
	}

	req = get(t, srv.APIBaseURL()+"/accounts/globex/contacts")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var list struct {
		Account  string           `json:"account"`
		Contacts []map[string]any `json:"contacts"`
	}
	getJSON(t, req, http.StatusOK, &list)
	if list.Account != "globex" || len(list.Contacts) == 0 {
		t.Errorf("the contacts API answered %+v, want globex's contacts", list)
	}
	// And without the token it refuses: the 200 above is the token's doing.
	getJSON(t, get(t, srv.APIBaseURL()+"/accounts/globex/contacts"), http.StatusUnauthorized, nil)
}

func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// TestConformance runs the catalogue's client-credentials features and the browser login and
// consent features (authorization code, first- and third-party) against the container, as
// `oauth-harness conformance` runs them against the embedded server.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := start(t)
	cfg, err := fixtures.Tenant()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		t.Fatal(err)
	}
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), cfg, creds, target.KnownCapabilities)
	p.Name = "reference server in a container"
	p.AdminToken = srv.AdminToken()
	// Each scenario is a subtest; godog's own report is shown only when one fails.
	var report bytes.Buffer
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: "@client-credentials,@authorization-code",
		Format: "pretty", Output: &report, TestingT: t})
	if err != nil {
		t.Fatal(err)
	}
	if !passed {
		t.Errorf("some scenarios failed against the container:\n%s", report.String())
	}
}

// TestFixtures: WithFixturesYAML's tenant is the one served (its defect switch shows in /healthz),
// and the admin API answers WithAdminToken's token.
func TestFixtures(t *testing.T) {
	t.Parallel()
	tenantYAML := string(fixtures.TenantYAML()) + "\ndefects: [api-skips-audience]\n"
	srv := start(t, container.WithFixturesYAML([]byte(tenantYAML)), container.WithAdminToken("test-admin-token"),
		container.WithEnv(map[string]string{"OAUTH_HARNESS_ISSUER": "http://ignored.example"}))
	var health struct {
		DefectsOn []string `json:"defects_on"`
	}
	getJSON(t, get(t, srv.IssuerURL()+"/healthz"), http.StatusOK, &health)
	if strings.Join(health.DefectsOn, ",") != "api-skips-audience" {
		t.Errorf("/healthz defects_on = %v, want [api-skips-audience]: the tenant file was not used", health.DefectsOn)
	}
	if srv.AdminToken() != "test-admin-token" {
		t.Errorf("AdminToken() = %q", srv.AdminToken())
	}
	req := get(t, srv.IssuerURL()+"/admin/applications")
	getJSON(t, req, http.StatusUnauthorized, nil)
	req = get(t, srv.IssuerURL()+"/admin/applications")
	req.Header.Set("Authorization", "Bearer test-admin-token")
	getJSON(t, req, http.StatusOK, nil)
}

// TestBadFixtures: a tenant the server refuses fails Run with the server's own words.
func TestBadFixtures(t *testing.T) {
	t.Parallel()
	img := requireImage(t)
	bad := strings.Replace(string(fixtures.TenantYAML()), "signing_alg: RS256", "signing_alg: RS257", 1)
	srv, err := container.Run(t.Context(), img, container.WithFixturesYAML([]byte(bad)), container.WithStartupTimeout(20*time.Second))
	testcontainers.CleanupContainer(t, srv)
	if err == nil {
		t.Fatal("Run started a server on a bad tenant")
	}
	t.Logf("Run's error: %v", err)
	if !strings.Contains(err.Error(), "RS257") {
		t.Errorf("the error does not quote the server's complaint about RS257:\n%v", err)
	}
}

// TestPortBusy: a fixed host port that is taken is refused at once, with ErrPortBusy.
func TestPortBusy(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	// Not a localhost/ image: the port is checked before anything asks the engine.
	srv, err := container.Run(t.Context(), "example.invalid/never-pulled:1", container.WithHostPort(port))
	testcontainers.CleanupContainer(t, srv)
	if !errors.Is(err, container.ErrPortBusy) {
		t.Fatalf("Run on a busy port: %v, want ErrPortBusy", err)
	}
}

// TestImageMissing: an image that was never built is named, with the command that builds it.
func TestImageMissing(t *testing.T) {
	t.Parallel()
	requireImage(t)
	srv, err := container.Run(t.Context(), "localhost/oauth-harness-reference:never-built")
	testcontainers.CleanupContainer(t, srv)
	if !errors.Is(err, container.ErrImageMissing) || !strings.Contains(err.Error(), "make image") {
		t.Fatalf("Run of a missing image: %v, want ErrImageMissing naming make image", err)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/report"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
)

// errNotCertified makes the process exit non-zero when a check failed.
var errNotCertified = errors.New("certify-client: the app did not pass every check")

const certifyUsage = `usage: oauth-harness certify-client --profile FILE [--addr 127.0.0.1:9000] [--out DIR] [--wait D]

Certifies a partner's OAuth client integration. The harness starts the reference authorization
server and contacts API on --addr, registers the app of the profile (a third-party app: users see a
consent page), prints the issuer and credentials the app must use, waits for the app's start URL to
answer, then drives a browser from it through login and consent and checks what the app sends.
Reports: report.html, junit.xml, cucumber.json and certification.json in --out.

`

func runCertify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("certify-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, certifyUsage); fs.PrintDefaults() }
	profile := fs.String("profile", "", "the partner profile (YAML): the app's client, redirect URI, start URL, scopes, background sync")
	addr := fs.String("addr", "127.0.0.1:9000", "where the harness's authorization server listens (the app's issuer is http://ADDR)")
	out := fs.String("out", filepath.Join("reports", "certification"), "directory for the certification reports")
	wait := fs.Duration("wait", time.Minute, "how long to wait for the app's start URL to answer")
	tags := fs.String("tags", "", "run only some checks, in godog's tag syntax")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile == "" || fs.NArg() > 0 {
		return fmt.Errorf("%w: certify-client needs --profile FILE and no arguments", errUsage)
	}
	partner, err := target.LoadPartner(*profile)
	if err != nil {
		return err
	}
	cfg, err := fixtures.Tenant()
	if err != nil {
		return err
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		return err
	}
	token := rand.Text()
	srv, err := server.Start(ctx, server.Options{Tenant: cfg, AdminToken: token, Addr: *addr})
	if err != nil {
		return fmt.Errorf("certify-client: the authorization server cannot listen on %s: %w", *addr, err)
	}
	defer srv.Close()
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), creds, target.KnownCapabilities)
	p.Name, p.AdminToken = "oauth-harness (certifying "+partner.Name+")", token
	api, err := p.API(partner.API)
	if err != nil {
		return fmt.Errorf("certify-client: %s: api: %w", *profile, err)
	}
	if err := registerPartner(ctx, srv.IssuerURL(), token, partner); err != nil {
		return err
	}
	user, err := p.User(partner.User)
	if err != nil {
		return fmt.Errorf("certify-client: %s: user: %w", *profile, err)
	}
	fmt.Fprintf(stdout, `certify-client: configure %s with
  issuer          %s   (discovery: %s/.well-known/openid-configuration)
  client_id       %s
  client_secret   %s
  redirect_uri    %s   (registered exactly)
  audience        %s   (the %s; send it as the audience parameter)
  API base URL    %s
  the harness signs in as %s (%s) and calls %s
`, partner.Name, srv.IssuerURL(), srv.IssuerURL(), partner.ClientID, partner.ClientSecret, partner.RedirectURI,
		api.Identifier, partner.API, srv.APIBaseURL(), partner.User, user.Username, partner.StartURL)
	if err := waitForApp(ctx, partner.StartURL, *wait, stdout); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("certify-client: %w", err)
	}
	cucumber := filepath.Join(*out, "cucumber.json")
	started := time.Now()
	passed, err := steps.Run(steps.Config{Target: p, Partner: partner, Features: features.ClientFS, Tags: *tags,
		Format: "pretty,cucumber:" + cucumber, Output: stdout, Context: ctx})
	if err != nil {
		return err
	}
	res, err := report.ParseFile(cucumber)
	if err != nil {
		return fmt.Errorf("certify-client: %w", err)
	}
	res.Meta = report.Meta{Target: "partner app " + partner.Name, Issuer: partner.StartURL, Started: started, Elapsed: time.Since(started), Tags: *tags, Harness: harnessVersion()}
	html, junit, summary := filepath.Join(*out, "report.html"), filepath.Join(*out, "junit.xml"), filepath.Join(*out, "certification.json")
	if err := writeReport(html, res, report.WriteHTML); err != nil {
		return err
	}
	if err := writeReport(junit, res, report.WriteJUnit); err != nil {
		return err
	}
	certified, err := writeCertification(summary, partner, res)
	if err != nil {
		return err
	}
	printSummary(stdout, res)
	for _, path := range []string{html, summary, junit, cucumber} {
		fmt.Fprintf(stdout, "report: %s\n", path)
	}
	if !certified || !passed {
		return errNotCertified
	}
	fmt.Fprintf(stdout, "certify-client: %s passed every check\n", partner.Name)
	return nil
}

// registerPartner adds the app to the tenant as a third-party web app through the admin API.
func registerPartner(ctx context.Context, issuer, adminToken string, p *target.Partner) error {
	body, _ := json.Marshal(map[string]any{"client_id": p.ClientID, "client_secret": p.ClientSecret, "name": p.Name,
		"type": "regular_web", "first_party": false, "redirect_uris": []string{p.RedirectURI},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": p.AuthMethod})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/admin/applications", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("certify-client: registering %s: %w", p.Name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("certify-client: registering %s was refused: HTTP %d %s", p.Name, resp.StatusCode, b)
	}
	return nil
}

// waitForApp polls the app's start URL until it answers (the partner starts it with the printed values).
func waitForApp(ctx context.Context, startURL string, limit time.Duration, log io.Writer) error {
	client := &http.Client{Timeout: 2 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(limit)
	said := false
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, startURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("certify-client: the app's start URL %s did not answer within %s (last: %v)", startURL, limit, errOrStatus(err, resp))
		}
		if !said {
			fmt.Fprintf(log, "certify-client: waiting for %s ...\n", startURL)
			said = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func errOrStatus(err error, resp *http.Response) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// certification is certification.json: one verdict per check, with the evidence's file names.
type certification struct {
	App       string  `json:"app"`
	ClientID  string  `json:"client_id"`
	Certified bool    `json:"certified"`
	Checks    []check `json:"checks"`
}

type check struct {
	Check    string   `json:"check"`
	Status   string   `json:"status"`
	Error    string   `json:"error,omitempty"`
	Specs    []string `json:"specs,omitempty"`
	Evidence []string `json:"evidence,omitempty"` // the request-log extracts and screenshots attached
}

func writeCertification(path string, p *target.Partner, res *report.Results) (bool, error) {
	c := certification{App: p.Name, ClientID: p.ClientID, Certified: true}
	for _, sc := range res.Scenarios() {
		ch := check{Check: sc.Title(), Status: string(sc.Outcome)}
		for _, tag := range sc.Tags {
			if _, _, ok := report.SpecLink(tag); ok {
				ch.Specs = append(ch.Specs, strings.TrimPrefix(tag, "@"))
			}
		}
		for _, st := range sc.Steps {
			if st.Error != "" && ch.Error == "" {
				ch.Error = st.Error
			}
			for _, a := range st.Attachments {
				ch.Evidence = append(ch.Evidence, a.Name)
			}
		}
		if sc.Outcome.Fails() {
			c.Certified = false
		}
		c.Checks = append(c.Checks, ch)
	}
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return false, fmt.Errorf("certify-client: %w", err)
	}
	return c.Certified, nil
}

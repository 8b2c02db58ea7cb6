package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oauth-harness/oauth-harness/features"
	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/steps"
	"github.com/oauth-harness/oauth-harness/steps/target"
)

// errScenariosFailed makes the process exit non-zero when any scenario failed.
var errScenariosFailed = errors.New("conformance: some scenarios failed")

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	targetFile := fs.String("target", "", "target profile YAML (default: the embedded reference server)")
	tags := fs.String("tags", "", `scenarios to run, in godog's tag syntax ("@client-credentials && ~@needs-admin")`)
	concurrency := fs.Int("concurrency", 1, "scenarios run at once")
	out := fs.String("out", "reports", "directory for cucumber.json and junit.xml")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: conformance takes no arguments, got %q", errUsage, fs.Args())
	}
	if *concurrency < 1 {
		return fmt.Errorf("%w: --concurrency must be at least 1", errUsage)
	}
	var p *target.Profile
	if *targetFile != "" {
		var err error
		if p, err = target.Load(*targetFile); err != nil {
			return err
		}
	} else {
		srv, profile, err := embeddedTarget(ctx)
		if err != nil {
			return err
		}
		defer srv.Close()
		p = profile
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("conformance: %w", err)
	}
	cucumber, junit := filepath.Join(*out, "cucumber.json"), filepath.Join(*out, "junit.xml")
	fmt.Fprintf(stdout, "conformance: %s (%s)\n", p.Name, p.Issuer)
	passed, err := steps.Run(steps.Config{Target: p, Features: features.FS, Tags: *tags, Concurrency: *concurrency,
		Format: "pretty,cucumber:" + cucumber + ",junit:" + junit, Output: stdout})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reports: %s, %s\n", cucumber, junit)
	if !passed {
		return errScenariosFailed
	}
	return nil
}

// embeddedTarget starts the reference server on loopback, with an admin token of its own, and
// describes it as a target with every capability.
func embeddedTarget(ctx context.Context) (*server.Server, *target.Profile, error) {
	cfg, err := fixtures.Tenant()
	if err != nil {
		return nil, nil, err
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		return nil, nil, err
	}
	token := rand.Text()
	srv, err := server.Start(ctx, server.Options{Tenant: cfg, AdminToken: token})
	if err != nil {
		return nil, nil, err
	}
	p := target.Reference(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), creds, target.KnownCapabilities)
	p.AdminToken = token
	return srv, p, nil
}

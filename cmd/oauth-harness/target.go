package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/container"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/steps/target"
	"github.com/oauth-harness/oauth-harness/steps/target/reference"
	"github.com/testcontainers/testcontainers-go"
)

// containerReference is the --target value that runs the reference server's image.
const containerReference = "container:reference"

// openTarget resolves --target: "" is the embedded reference server, "container:reference" its
// image, anything else a profile file (which may start its own container). The returned stop always
// runs, also after an error or Ctrl-C (ctx cancelled): it removes what was started.
func openTarget(ctx context.Context, spec string, log io.Writer) (*target.Profile, func(), error) {
	noop := func() {}
	switch {
	case spec == "":
		srv, p, err := embeddedTarget(ctx)
		if err != nil {
			return nil, noop, err
		}
		return p, func() { srv.Close() }, nil
	case spec == containerReference:
		return referenceContainer(ctx, log)
	case strings.HasPrefix(spec, "container:"):
		return nil, noop, fmt.Errorf("%w: --target %q: the container target is %q; other images are started from a profile with a container: section",
			errUsage, spec, containerReference)
	}
	p, err := target.Load(spec)
	if err != nil {
		return nil, noop, err
	}
	if p.Container == nil {
		return p, noop, nil
	}
	return providerContainer(ctx, p, log)
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
	p := reference.Profile(srv.IssuerURL(), srv.APIBaseURL(), srv.Tenant.Config(), creds, target.KnownCapabilities)
	p.AdminToken = token
	return srv, p, nil
}

// useEngine points testcontainers at the local engine (Docker, else Podman's service).
func useEngine(ctx context.Context) error {
	e, err := container.DetectEngine(ctx)
	if err != nil {
		return fmt.Errorf("%w (run .ci/engine to install and start Podman, or start Docker)", err)
	}
	return e.Setenv()
}

func referenceContainer(ctx context.Context, log io.Writer) (*target.Profile, func(), error) {
	noop := func() {}
	if err := useEngine(ctx); err != nil {
		return nil, noop, err
	}
	cfg, err := fixtures.Tenant()
	if err != nil {
		return nil, noop, err
	}
	creds, err := fixtures.DefaultCredentials()
	if err != nil {
		return nil, noop, err
	}
	img := container.DefaultImage
	if v := os.Getenv("OAUTH_HARNESS_IMAGE"); v != "" {
		img = v // another build of the image (a CI tag, a test's own)
	}
	fmt.Fprintf(log, "target: starting %s\n", img)
	c, err := container.Run(ctx, img)
	var stop func()
	if c != nil {
		stop = remover(ctx, c, log)
	} else {
		stop = noop
	}
	if err != nil {
		return nil, stop, err
	}
	p := reference.Profile(c.IssuerURL(), c.APIBaseURL(), cfg, creds, target.KnownCapabilities)
	p.Name, p.AdminToken = "reference server in a container", c.AdminToken()
	return p, stop, nil
}

func providerContainer(ctx context.Context, p *target.Profile, log io.Writer) (*target.Profile, func(), error) {
	noop := func() {}
	if err := useEngine(ctx); err != nil {
		return nil, noop, err
	}
	spec := p.Container
	fmt.Fprintf(log, "target: starting %s\n", spec.Image)
	r, err := container.RunProvider(ctx, container.Provider{Image: spec.Image, Port: spec.Port, Env: spec.Env,
		WaitPath: spec.WaitPath, Startup: time.Duration(spec.StartupTimeout)})
	var stop func()
	if r != nil {
		stop = remover(ctx, r, log)
	} else {
		stop = noop
	}
	if err != nil {
		return nil, stop, err
	}
	return p.AtPort(r.HostPort), stop, nil
}

// remover removes a started container, whatever state ctx is in by then (Ctrl-C cancels it).
func remover(ctx context.Context, c interface {
	Terminate(context.Context, ...testcontainers.TerminateOption) error
}, log io.Writer) func() {
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := c.Terminate(rctx); err != nil {
			fmt.Fprintf(log, "target: removing the container failed: %v\n", err)
		} else {
			fmt.Fprintf(log, "target: container removed\n")
		}
	}
}

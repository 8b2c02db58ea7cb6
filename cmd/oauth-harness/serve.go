package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/fixtures"
	"github.com/oauth-harness/oauth-harness/reference-server/oauth"
	"github.com/oauth-harness/oauth-harness/reference-server/osslcrypto"
	"github.com/oauth-harness/oauth-harness/reference-server/server"
	"github.com/oauth-harness/oauth-harness/reference-server/tenant"
)

// adminTokenEnv holds the admin token when --admin-token is not given: a flag shows in ps output.
const adminTokenEnv = "OAUTH_HARNESS_ADMIN_TOKEN"

// Environment fallbacks of flags, so that a container (whose image has no shell) is configured by
// its environment alone: the container module learns the host port, and with it the issuer, only
// when it creates the container. A flag given on the command line wins.
var serveFlagEnv = map[string]string{
	"addr":     "OAUTH_HARNESS_ADDR",
	"issuer":   "OAUTH_HARNESS_ISSUER",
	"fixtures": "OAUTH_HARNESS_FIXTURES",
}

// Garbage-collector settings of serve unless $GOGC / $GOMEMLIMIT say otherwise. The server's live
// heap is small (a tenant and its stores) while every request allocates ~17 KB, so at Go's default
// GOGC=100 the collector runs often. GOGC=400 cut the process's CPU per API validation from 61-66
// to 50 µs in the handler benchmarks, and from 126-129 to 124-126 µs over HTTP at 8,000/s (where
// the kernel's share dominates). The memory limit keeps the larger heap goal from growing without
// bound when the stores do.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 512 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fixturesFile := fs.String("fixtures", "", "tenant YAML (default $OAUTH_HARNESS_FIXTURES, else the built-in fixtures/tenant.yaml)")
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on ($OAUTH_HARNESS_ADDR when not given)")
	issuer := fs.String("issuer", "", "issuer URL when behind a proxy or a port mapping (default $OAUTH_HARNESS_ISSUER, else http://ADDR)")
	healthcheck := fs.Bool("healthcheck", false,
		"do not serve: GET /healthz of the server listening on --addr and exit non-zero unless it answers 200 "+
			"(the image's HEALTHCHECK: a FROM-scratch image has no curl)")
	logLevel := fs.String("log-level", "info", "debug (logs every request), info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	adminToken := fs.String("admin-token", "",
		"bearer token of the admin API at "+oauth.PathAdmin+" (default $"+adminTokenEnv+"; empty: no admin API)")
	registrationToken := fs.String("registration-token", "",
		"initial access token that dynamic client registration requires (empty: open registration)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: serve takes no arguments, got %q", errUsage, fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, env := range serveFlagEnv {
		if v := os.Getenv(env); v != "" && !given[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%w: $%s: %v", errUsage, env, err)
			}
		}
	}
	if *healthcheck {
		return probeHealth(ctx, *addr)
	}
	tuneGC()
	if *adminToken == "" {
		// Read after parsing, not as the flag's default: -h would print the default, the token.
		*adminToken = os.Getenv(adminTokenEnv)
	}
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}
	var cfg *tenant.Config
	if *fixturesFile == "" {
		cfg, err = fixtures.Tenant()
	} else {
		cfg, err = tenant.LoadFile(*fixturesFile)
	}
	if err != nil {
		return err
	}
	opts := server.Options{Tenant: cfg, Addr: *addr, Issuer: *issuer, Logger: log,
		AdminToken: *adminToken, RegistrationToken: *registrationToken}
	return server.Run(ctx, opts, func(s *server.Server) {
		fmt.Fprintf(stdout, "issuer:    %s\ndiscovery: %s\napi:       %s\nregister:  %s\n",
			s.IssuerURL(), s.IssuerURL()+oauth.PathOIDCDiscovery, s.APIBaseURL(), s.IssuerURL()+oauth.PathRegister)
		if opts.AdminToken != "" {
			fmt.Fprintf(stdout, "admin:     %s (Authorization: Bearer <admin token>)\n", s.IssuerURL()+oauth.PathAdmin)
		}
		fmt.Fprintf(stdout, "health:    http://%s/healthz\n", s.Addr())
		crypto := osslcrypto.Backend() + " for RSA; Go for ECDSA, Ed25519 and HMAC"
		if r := osslcrypto.FallbackReason(); r != "" {
			crypto = "Go (" + r + ")"
		}
		fmt.Fprintf(stdout, "crypto:    %s\n", crypto)
	})
}

// probeHealth asks the server on addr for /healthz; a wildcard listen address is probed on loopback.
func probeHealth(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: --addr %q: %v", errUsage, addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s", url, resp.Status)
	}
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q is not debug, info, warn or error", errUsage, level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q is not text or json", errUsage, format)
}

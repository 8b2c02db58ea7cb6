package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

const targetInitUsage = `Usage: oauth-harness target init --issuer URL [--out FILE]

Reads the provider's discovery document (OpenID Connect, else RFC 8414) and writes a commented
target profile: the capabilities its metadata advertises, every alias the catalogue uses with the
role it must play, and placeholders (REPLACE-ME, ${NAME} for secrets) for what only you know.

Flags:
`

// runTarget dispatches the target subcommands.
func runTarget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "init" {
		return fmt.Errorf("%w: target takes a subcommand: init", errUsage)
	}
	fs := flag.NewFlagSet("target init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), targetInitUsage)
		fs.PrintDefaults()
	}
	issuer := fs.String("issuer", "", "the provider's issuer URL, exactly as its tokens name it")
	out := fs.String("out", "", "file to write the profile to (default: standard output); an existing file is not overwritten")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: target init takes no arguments, got %q", errUsage, fs.Args())
	}
	if u, err := url.Parse(*issuer); *issuer == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%w: --issuer must be the provider's http(s) issuer URL, got %q", errUsage, *issuer)
	}
	md, hasOAuth, err := fetchMetadata(ctx, *issuer)
	if err != nil {
		return err
	}
	if got, _ := md["issuer"].(string); got != *issuer {
		return fmt.Errorf("target init: the metadata names the issuer %q, not %q (they must be identical: OIDC Discovery §4.3); run again with --issuer %q if that is the one", got, *issuer, got)
	}
	skel := target.Skeleton(*issuer, md, hasOAuth)
	if *out == "" {
		_, err := stdout.Write(skel)
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("target init: %w", err)
	}
	if _, err := f.Write(skel); err != nil {
		f.Close()
		return fmt.Errorf("target init: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("target init: %w", err)
	}
	fmt.Fprintf(stdout, "target init: wrote %s; fill in every REPLACE-ME, then: oauth-harness conformance --target %s\n", *out, *out)
	return nil
}

// fetchMetadata reads the OpenID configuration, else RFC 8414's document, and says whether the
// RFC 8414 one answers too.
func fetchMetadata(ctx context.Context, issuer string) (map[string]any, bool, error) {
	client := &http.Client{Timeout: 15 * time.Second}
	get := func(u string) (map[string]any, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
		}
		var md map[string]any
		if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md); err != nil {
			return nil, fmt.Errorf("%s: not a JSON object: %w", u, err)
		}
		return md, nil
	}
	trimmed := strings.TrimSuffix(issuer, "/")
	iss, _ := url.Parse(trimmed)
	oidc, errOIDC := get(trimmed + "/.well-known/openid-configuration")
	oauth, errOAuth := get(iss.Scheme + "://" + iss.Host + "/.well-known/oauth-authorization-server" + iss.Path)
	switch {
	case errOIDC == nil:
		return oidc, errOAuth == nil, nil
	case errOAuth == nil:
		return oauth, true, nil
	}
	return nil, false, fmt.Errorf("target init: no metadata at the issuer: %v; %v", errOIDC, errOAuth)
}

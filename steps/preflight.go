package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/oauth-harness/oauth-harness/steps/target"
)

// Preflight checks a profile against its provider before a run, so that a wrong issuer or a
// wrong secret costs one clear message instead of one failure per scenario: the metadata answers
// and names the issuer exactly (OIDC Discovery §4.3, RFC 8414 §3.3), and every confidential client
// authenticates. It returns one error per problem. A user's password is checked by the first
// scenario that logs in (a login form needs the browser).
func Preflight(ctx context.Context, p *target.Profile) []error {
	w := newWorld(p, nil)
	ctx = context.WithValue(ctx, worldKey{}, w)
	d, err := discover(ctx)
	if err != nil {
		return []error{fmt.Errorf("issuer %s: %w", p.Issuer, err)}
	}
	var problems []error
	if d["issuer"] != p.Issuer {
		problems = append(problems, fmt.Errorf("issuer: the profile says %q, the provider's metadata says %v; they must be identical (OIDC Discovery §4.3)", p.Issuer, d["issuer"]))
	}
	if _, err := tokenEndpoint(ctx); err != nil {
		return append(problems, err)
	}
	for _, alias := range sortedAliases(p.Clients) {
		c := p.Clients[alias]
		if authMethod(c) == "none" {
			continue
		}
		if err := authenticates(ctx, c); err != nil {
			problems = append(problems, fmt.Errorf("client %s (%s): %w", alias, c.ClientID, err))
		}
	}
	return problems
}

// authenticates sends a token request the provider must refuse for its grant, not its client: a
// code that was never issued. RFC 6749 §5.2 keeps invalid_client for failed client authentication,
// so that answer (or a 401) means the profile's credentials are wrong.
func authenticates(ctx context.Context, c target.Client) error {
	r, err := tokenRequest(ctx, c, c.ClientSecret, url.Values{"grant_type": {"authorization_code"},
		"code": {"harness-preflight-never-issued"}, "redirect_uri": {c.RedirectURI}})
	if err != nil {
		return err
	}
	if r.status == 401 || (r.json != nil && r.json["error"] == "invalid_client") {
		return fmt.Errorf("the provider refused its credentials (%s authentication): %s", authMethod(c), r)
	}
	return nil
}

// PreflightError joins a preflight's problems.
func PreflightError(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	var b strings.Builder
	for _, p := range problems {
		b.WriteString("\n  - " + p.Error())
	}
	return errors.New("the target profile does not match its provider:" + b.String())
}
